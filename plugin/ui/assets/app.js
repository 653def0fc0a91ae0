"use strict";
// prescale dashboard: polls /ui/api/state; charts with uPlot (vendored).
const $ = (s, el = document) => el.querySelector(s);
const charts = {};          // function -> {plot, el}
const openInvoke = new Set();
let last = null;

const fmt = (v, d = 1) => (v == null || isNaN(v)) ? "–" : Number(v).toFixed(d);
const hhmmss = (ms) => new Date(ms).toLocaleTimeString([], {hour12: false});
function esc(s) { return String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c])); }

async function poll() {
  try {
    const res = await fetch("api/state", {cache: "no-store"});
    if (!res.ok) throw new Error(res.status + " " + res.statusText);
    last = await res.json();
    render(last);
  } catch (e) {
    $("#updated").textContent = "update failed: " + e.message;
  }
  setTimeout(poll, 2000);
}

function render(st) {
  $("#gateway").textContent = location.origin;
  const s = $("#stream");
  s.textContent = "decisions: " + st.stream;
  s.className = "pill " + (st.stream === "following" ? "ok" : "warn");
  $("#updated").textContent = "updated " + hhmmss(st.now);
  renderFunctions(st.functions);
  const names = Object.keys(st.series).sort();
  for (const n of Object.keys(charts)) if (!names.includes(n)) { charts[n].el.remove(); delete charts[n]; }
  for (const n of names) renderChart(n, st.series[n] || [], st.decisions[n] || []);
}

function renderFunctions(fns) {
  const tb = $("#functions tbody");
  if (!fns.length) { tb.innerHTML = '<tr><td colspan="5" class="empty">No functions deployed. Deploy with faas-cli deploy -f stack.yml.</td></tr>'; return; }
  const keep = {};
  for (const tr of tb.querySelectorAll("tr.invoke")) keep[tr.dataset.fn] = tr;
  tb.innerHTML = "";
  for (const f of fns) {
    const tr = document.createElement("tr");
    tr.dataset.fn = f.name;
    const opted = f.labels && f.labels["prescale.enabled"] === "true";
    tr.innerHTML = `<td><b>${esc(f.name)}</b>${opted ? '<span class="tag">prescale</span>' : ""}</td>` +
      `<td class="mono">${esc(f.image)}</td>` +
      `<td class="num">${f.replicas} / ${f.available}</td>` +
      `<td class="num">${Math.round(f.invocations)}</td>` +
      `<td class="num"><button data-invoke="${esc(f.name)}">Invoke</button></td>`;
    tb.appendChild(tr);
    if (openInvoke.has(f.name)) tb.appendChild(keep[f.name] || invokeRow(f.name));
  }
}

function invokeRow(name) {
  const tr = document.createElement("tr");
  tr.className = "invoke"; tr.dataset.fn = name;
  tr.innerHTML = `<td colspan="5" class="invoke"><textarea placeholder="request body"></textarea>
    <div><button class="primary">Send to /function/${esc(name)}</button> <span class="muted status"></span></div><pre hidden></pre></td>`;
  $("button", tr).addEventListener("click", async () => {
    const pre = $("pre", tr), status = $(".status", tr);
    status.textContent = "…";
    const t0 = performance.now();
    try {
      const res = await fetch("/function/" + encodeURIComponent(name), {method: "POST", body: $("textarea", tr).value});
      const body = await res.text();
      status.textContent = `${res.status} ${res.statusText} · ${Math.round(performance.now() - t0)} ms`;
      pre.textContent = body; pre.hidden = false;
    } catch (e) { status.textContent = "failed: " + e.message; }
  });
  return tr;
}

document.addEventListener("click", (ev) => {
  const name = ev.target.dataset && ev.target.dataset.invoke;
  if (!name) return;
  if (openInvoke.has(name)) openInvoke.delete(name); else openInvoke.add(name);
  if (last) renderFunctions(last.functions);
});

// chartData merges the decisions (observed rate, forecast at the moment it
// predicted) and the samples (desired/ready replicas, cold-start waits) on
// one time axis (seconds); a series is null where it has no value.
function chartData(points, decisions) {
  const rows = new Map();
  const row = (ms) => { const t = Math.round(ms / 1000); if (!rows.has(t)) rows.set(t, [t, null, null, null, null, null]); return rows.get(t); };
  for (const d of decisions) {
    row(d.t)[1] = d.rps;
    if (d.forecast_rps != null && d.forecast_for) row(d.forecast_for)[2] = d.forecast_rps;
  }
  let prev = null;
  for (const p of points) {
    const r = row(p.t);
    r[3] = p.replicas; r[4] = p.available;
    const w = prev == null ? 0 : p.cold_waits - prev;
    r[5] = w > 0 ? w : null; // bars only where requests waited
    prev = p.cold_waits;
  }
  const sorted = [...rows.values()].sort((a, b) => a[0] - b[0]);
  return [0, 1, 2, 3, 4, 5].map(i => sorted.map(r => r[i]));
}

function renderChart(name, points, decisions) {
  let c = charts[name];
  if (!c) {
    const el = document.createElement("div");
    el.className = "card";
    el.innerHTML = `<h3>${esc(name)} <span class="muted">— load, forecast and replicas</span></h3><div class="chart" data-fn="${esc(name)}"></div><div class="decisions"></div>`;
    $("#charts").appendChild(el);
    c = charts[name] = {el, plot: null};
  }
  const data = chartData(points, decisions);
  const chartEl = $(".chart", c.el);
  const width = Math.max(400, chartEl.clientWidth || 1100);
  if (!c.plot) {
    const step = uPlot.paths.stepped({align: 1});
    const bars = uPlot.paths.bars({size: [0.6, 8]});
    c.plot = new uPlot({
      width, height: 300,
      cursor: {sync: {key: "prescale"}},
      scales: {x: {time: true}, rps: {auto: true, range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)]}, rep: {auto: true, range: (u, lo, hi) => [0, Math.max(2, Math.ceil(hi) + 1)]}},
      axes: [
        {},
        {scale: "rps", label: "requests/s", size: 55},
        {scale: "rep", side: 1, label: "replicas · waits", grid: {show: false}, size: 55},
      ],
      series: [
        {},
        {label: "observed rps", scale: "rps", stroke: "#1f6feb", width: 2, spanGaps: true, points: {show: true, size: 4}},
        {label: "forecast rps", scale: "rps", stroke: "#f08c00", width: 2, dash: [6, 4], spanGaps: true, points: {show: true, size: 5, fill: "#f08c00"}},
        {label: "desired replicas", scale: "rep", stroke: "#2f9e44", width: 2, paths: step, spanGaps: true, points: {show: false}},
        {label: "ready replicas", scale: "rep", stroke: "#12b886", width: 1.5, dash: [3, 3], paths: step, spanGaps: true, points: {show: false}},
        {label: "cold-start waits", scale: "rep", stroke: "#e03131", fill: "rgba(224,49,49,0.35)", paths: bars, points: {show: false}},
      ],
    }, data, chartEl);
  } else {
    c.plot.setData(data);
    if (Math.abs(c.plot.width - width) > 20) c.plot.setSize({width, height: 300});
  }
  const count = (i) => data[i].filter(v => v != null).length;
  chartEl.dataset.observedPoints = count(1);
  chartEl.dataset.forecastPoints = count(2);
  chartEl.dataset.replicaPoints = count(3);
  renderDecisions($(".decisions", c.el), decisions);
}

function renderDecisions(el, decisions) {
  if (!decisions.length) { el.innerHTML = '<div class="empty">No decisions yet: the control loop decides every period once the chain runs.</div>'; return; }
  const rows = decisions.slice(-40).reverse().map(d => {
    const arrow = d.after === d.before ? `${d.before} (=)` : `${d.before} → ${d.after}`;
    const fc = d.forecast_state === "used" && d.forecast_rps != null ? fmt(d.forecast_rps) : `<span class="muted">${esc(d.forecast_state || "–")}</span>`;
    const cls = d.error ? "err" : (d.after !== d.before ? "scaled" : "");
    const reasons = (d.reasons || []).filter(r => r !== d.reason).map(esc).join(" · ");
    return `<tr class="${cls}"><td class="mono">${hhmmss(d.t)}</td><td class="num">${fmt(d.rps)}</td><td class="num">${fc}</td>` +
      `<td class="num">${arrow}</td><td>${esc(d.reason)}${d.error ? ' <b>error: ' + esc(d.error) + "</b>" : ""}` +
      (reasons ? `<div class="reasons">${reasons}</div>` : "") + "</td></tr>";
  }).join("");
  el.innerHTML = `<table><thead><tr><th>Time</th><th class="num">rps</th><th class="num">forecast</th><th class="num">replicas</th><th>reason</th></tr></thead><tbody>${rows}</tbody></table>`;
}

poll();
