package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/autoscaler"
	"github.com/prescale/prescale/internal/dist"
	"github.com/prescale/prescale/internal/live"
	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/internal/trace"
	"github.com/prescale/prescale/pkg/decide"
)

// The burst rule skips a bigger rise whose lead-in already rises.
func TestBurstWindowNeedsQuietLeadIn(t *testing.T) {
	// rises: m1 +1, m2 +15, m3 +26 (lead-in m2 rose 15 > 26/4: excluded), m4 -34, m5 0, m6 +20 (lead-in m5 0, m4 -34: quiet).
	s := []float64{5, 6, 21, 47, 13, 13, 33, 30, 30}
	w, err := burstWindow(s, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if w != (window{from: 4, to: 8, burst: 6}) {
		t.Fatalf("window %+v, want the rise at 6 (minutes 4..7), not the ramp's top at 3", w)
	}
	// With no lead-in (before 0) the largest rise wins again.
	if w, _ := burstWindow(s, 0, 2); w.burst != 3 {
		t.Fatalf("before 0: burst at %d, want 3", w.burst)
	}
	// Only ramps: no window.
	if _, err := burstWindow([]float64{1, 2, 4, 8, 16, 32}, 2, 1); err == nil {
		t.Fatal("a pure ramp gave a window")
	}
	// A flat series has no rise at all.
	if _, err := burstWindow([]float64{3, 3, 3, 3}, 1, 1); err == nil {
		t.Fatal("a flat series gave a window")
	}
}

// timer is a function firing every p seconds n times from t0, jittered by j·(-1)^i.
func timer(hash string, t0, p float64, n int, j float64) trace.Function {
	f := trace.Function{Hash: hash}
	for i := 0; i < n; i++ {
		f.Times = append(f.Times, t0+float64(i)*p+j*math.Pow(-1, float64(i)))
	}
	return f
}

func TestPeriodicWindowRule(t *testing.T) {
	fns := []trace.Function{
		{Hash: "counts-only", Counts: []float64{1, 2}},
		timer("aaaaaaaaaa-too-fast", 0, 60, 100, 0),    // 2 s compressed: below minPeriod
		timer("bbbbbbbbbb-jittery", 10, 600, 11, 30),   // gaps 600±60: 10 % off, not a timer
		timer("cccccccccc-few", 0, 600, 8, 0),          // fewer than 10 calls
		timer("dddddddddd-good", 5, 600, 11, 0.05),     // the pick
		timer("eeeeeeeeee-same-jitter", 5, 600, 11, 2), // same share, more jitter
		timer("ffffffffff-too-long", 0, 1200, 11, 0),   // 400 s compressed > budget
	}
	w, err := periodicWindow(fns, 30, 12, 240)
	if err != nil {
		t.Fatal(err)
	}
	if w.fn != "dddddddd" || w.index != 4 || w.calls != 11 || math.Abs(w.period-600) > 0.2 || w.score != 1 {
		t.Fatalf("picked %+v, want dddddddd: period 600 s, all on time", w)
	}
	// Starts one minute before the first call, ends one period after the last.
	if w.times[0] != 60 || math.Abs(w.span-(60+6000+600)) > 1 || len(w.times) != 11 {
		t.Fatalf("window times %v span %v", w.times, w.span)
	}
	if _, err := periodicWindow(fns[:2], 30, 12, 240); err == nil {
		t.Fatal("no timer fits, but a window was picked")
	}
	if _, err := periodicWindow([]trace.Function{{Hash: "x", Counts: []float64{3}}}, 30, 12, 240); !errors.Is(err, errNoTimes) {
		t.Fatalf("a trace without instants: %v, want errNoTimes", err)
	}
}

func TestFromZeroWindowRule(t *testing.T) {
	burst := func(hash string, at ...float64) trace.Function { return trace.Function{Hash: hash, Times: at} }
	fns := []trace.Function{
		timer("timer-with-long-gaps", 0, 900, 6, 0),                      // a timer: the periodic window's
		burst("two-gaps", 0, 1, 700, 701, 1400),                          // 2 long gaps: < 3
		burst("three-gaps", 0, 1, 2, 700, 1400, 2100),                    // 3 long gaps, 6 calls
		burst("three-gaps-more-calls", 0, 1, 2, 3, 700, 701, 1400, 2100), // 3, 8 calls: the pick
		burst("too-long", 0, 2000, 4000, 6000, 8000),                     // 4 gaps but 8000 s / 30 > 240 s
	}
	w, err := fromZeroWindow(fns, 30, 600, 240)
	if err != nil {
		t.Fatal(err)
	}
	if w.fn != "three-ga" || w.index != 3 || w.longGaps != 3 || w.long != 630 || w.calls != 8 {
		t.Fatalf("picked %+v, want three-gaps-more-calls (index 3)", w)
	}
	if w.times[0] != 60 || math.Abs(w.span-(60+2100+630)) > 1e-9 {
		t.Fatalf("window starts %v, span %v", w.times[0], w.span)
	}
	if _, err := fromZeroWindow(fns[:2], 30, 600, 240); err == nil {
		t.Fatal("no candidate, but a window was picked")
	}
	// --quick's cut keeps the calls inside it.
	q := w.truncate(800)
	if q.span != 800 || len(q.times) != 6 {
		t.Fatalf("truncated: span %v, %d calls; want 800 s with the 6 calls before it", q.span, len(q.times))
	}
	if c := perMinute(q.times, q.span); len(c) != 14 || c[1] != 4 || c[12] != 2 {
		t.Fatalf("per minute %v", c)
	}
}

// unannounced, by hand: gaps over 630 s are 1000 (nothing before it),
// 690 (the earlier 1000 and 10 are more than 240 s off) and 700 (the
// earlier 690 is 10 s off: announced); the short gaps never count.
func TestUnannouncedGaps(t *testing.T) {
	n, total := unannounced([]float64{0, 1000, 1010, 1700, 2400}, 630, 240)
	if n != 2 || total != 1690 {
		t.Fatalf("unannounced: %d gaps, %v s; want 2, 1690 s", n, total)
	}
	if n, total := unannounced([]float64{0, 700, 1400, 2100}, 630, 240); n != 1 || total != 700 {
		t.Fatalf("a repeating gap: %d, %v s; want only the first (1, 700 s)", n, total)
	}
	if n, _ := unannounced([]float64{5}, 630, 240); n != 0 {
		t.Fatalf("one call: %d unannounced gaps", n)
	}
}

func TestTimerStats(t *testing.T) {
	p, sc, jit := timerStats([]float64{0, 60, 120, 181, 240, 400})
	// gaps 60 60 61 59 160: median 60; on time (±0.6 s): 60, 60 → 2/5; jitter 100.
	if p != 60 || sc != 0.4 || jit != 100 {
		t.Fatalf("timerStats = %v %v %v", p, sc, jit)
	}
	if p, _, _ := timerStats([]float64{1, 2}); p != 0 {
		t.Fatal("two calls have no period")
	}
}

func TestZeroPoliciesCompressed(t *testing.T) {
	k := zeroKnobs{speed: 30, period: 2, lead: 8 * time.Second}
	for _, n := range defaultZeroPolicies() {
		p, err := zeroPolicy(n, k)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if p.Name() != n {
			t.Errorf("policy %s named %q", n, p.Name())
		}
	}
	ka, _ := zeroPolicy("keepalive-10m", k)
	if d := ka.(autoscaler.KeepAlive); d.Duration != 20 || d.Period != 2 {
		t.Errorf("10-minute keep-alive at speed 30: %+v, want 20 s checked every 2 s", d)
	}
	kp, _ := zeroPolicy("kpa", k)
	if d := kp.(autoscaler.KPAZero); d.Config.StableWindow != 6 || d.Grace != 1 {
		t.Errorf("kpa at speed 30: stable %d s, grace %d s; want 6 (the minimum) and 1", d.Config.StableWindow, d.Grace)
	}
	hy, _ := zeroPolicy("hybrid", k)
	if c := hy.(autoscaler.Hybrid).Config; c.BinWidth != 2 || c.Range != 480 || c.Lead != 8 || c.Validate() != nil {
		t.Errorf("hybrid at speed 30: %+v", c)
	}
	s := k.zeroSettings()
	if s.ColdStartCost != 20*time.Second || s.Resolution != 2*time.Second || !s.Enabled || s.Validate() != nil {
		t.Errorf("prescale's zero settings %+v", s)
	}
	if l := k.labels(); l["prescale.cold-start-cost"] != "20s" || l["prescale.arrival-resolution"] != "2s" || l["prescale.prewarm-lead"] != "8s" || l["com.openfaas.scale.zero"] != "true" ||
		l["prescale.stabilization-window"] != "10s" {
		t.Errorf("labels %v", l)
	}
	// The chain parses the copies' labels to the same settings.
	zs, err := decide.ParseZeroSettings(k.labels(), decide.DefaultZeroSettings())
	if err != nil || zs != s {
		t.Errorf("labels parse to %+v (%v), want %+v", zs, err, s)
	}
	ls, err := decide.ParseSettings(k.labels(), decide.DefaultSettings())
	if err != nil || ls.Stabilization != 10*time.Second {
		t.Errorf("stabilization label parses to %v (%v), want 10s", ls.Stabilization, err)
	}
	if h := k.horizon(); h != 4*time.Second {
		t.Errorf("compressed horizon %s, want 4s (two periods; 30 s / 30 is shorter)", h)
	}
	if _, err := zeroPolicy("hpa", k); err == nil {
		t.Error("hpa accepted as a zero policy")
	}
}

func TestZeroCopiesAndPlan(t *testing.T) {
	zp := zeroParams{knobs: zeroKnobs{speed: 30}, policies: []string{"prescale", "kpa"}, repeats: 2, stagger: time.Second,
		windows: []zeroWin{{"periodic", timedWindow{span: 300}}, {"zero", timedWindow{span: 600}}}}
	cs := zeroCopies(zp)
	if len(cs) != 8 || cs[0].fn != "z1-periodic-prescale" || cs[7].fn != "z2-zero-kpa" || cs[7].offset != 7*time.Second {
		t.Fatalf("copies %+v", cs)
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.fn] || len(c.fn) > 63 {
			t.Fatalf("copy name %q repeated or too long", c.fn)
		}
		seen[c.fn] = true
	}
	// The last copy starts at 7 s and its window lasts 600/30 = 20 s.
	if s := zeroStageSeconds(zp); s != 27 {
		t.Fatalf("stage %v s, want 27", s)
	}
	if e := planEstimate(18, 50, true, 246); e != 18*(50+runTail+platformOverhead)+246+runTail+platformOverhead+firstBuild {
		t.Fatalf("estimate %v", e)
	}
	if planEstimate(0, 0, false, 0) != 0 {
		t.Fatal("an empty plan costs time")
	}
}

// The shipped trace: the plan the lead runs, within the 30 minutes.
func TestBenchLivePlanOnShippedTrace(t *testing.T) {
	trace := testenv.Trace(t, "invitro_azure2021_first998_invocations.csv")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"bench-live", "--plan", "--trace", trace}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{"burst window: minutes", "periodic window: function", "zero window: function", "30 copies", "estimated duration"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not say %q:\n%s", want, out)
		}
	}
	o, err := parseBenchLive([]string{"--trace", trace}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := planBenchLive(o)
	if err != nil {
		t.Fatal(err)
	}
	if pl.estimate > 30*60 {
		t.Errorf("the full plan is estimated at %.0f s, over the 30 minutes", pl.estimate)
	}
	// The periodic rule's shortest period: a 1 s call + two 2 s periods +
	// the 5 s lead + the ±1.5 s window (half a 2 s tick and half a second)
	// = 13 s compressed; the 300 s timer (10 s compressed: no room to
	// release and pre-warm) is not picked.
	if mp := o.knobs.minTimerPeriod(pl.service); mp != 13 {
		t.Errorf("shortest timer period %g s, want 13", mp)
	}
	for _, z := range pl.zero {
		if z.name == "periodic" && z.w.period/o.knobs.speed < 13 {
			t.Errorf("periodic window: period %.1f s compressed, below the rule's 13 s", z.w.period/o.knobs.speed)
		}
		if z.name != "zero" {
			continue
		}
		// The shipped from-zero window (653cdbc3…): its gaps over 10.5
		// minutes are 37.1, 16.6 and 21.4 min; none is within the 8 s
		// pre-warm window × 30 (4 min) of an earlier gap, so holding
		// through them costs 4506 s / 30 = 150 s compressed.
		n, total := unannounced(z.w.times, z.w.long, (o.knobs.lead.Seconds()+2*o.knobs.timerTolerance())*o.knobs.speed)
		if z.w.fn != "653cdbc3" || n != 3 || math.Abs(total/o.knobs.speed-150.2) > 0.5 {
			t.Errorf("from-zero window %s: %d unannounced gaps, %.1f s compressed; want 653cdbc3, 3, ~150.2 s", z.w.fn, n, total/o.knobs.speed)
		}
	}
	q, _ := parseBenchLive([]string{"--quick", "--trace", trace}, &stderr)
	qp, err := planBenchLive(q)
	if err != nil {
		t.Fatal(err)
	}
	if qp.estimate >= pl.estimate/4 || q.repeats != 1 || len(q.names) != 2 {
		t.Errorf("--quick: %.0f s (full %.0f s), %d repeats, policies %v: not a short smoke", qp.estimate, pl.estimate, q.repeats, q.names)
	}
}

// simulateZero runs the zero policies on a hand-made timer: the 10-minute
// keep-alive idler (20 s at speed 30) never goes to zero between calls
// 15 s apart, the 5-minute one (10 s) does.
func TestSimulateZero(t *testing.T) {
	w := timedWindow{span: 60 + 6*450 + 300}
	for i := 0; i < 7; i++ {
		w.times = append(w.times, 60+float64(i)*450) // 15 s apart compressed
	}
	cold, err := dist.ParseDelay("fixed:1s", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	k := zeroKnobs{speed: 30, period: 2, lead: 4 * time.Second}
	get := func(n string) sim.Metrics {
		p, err := zeroPolicy(n, k)
		if err != nil {
			t.Fatal(err)
		}
		m, err := simulateZero(context.Background(), p, w, 30, 0.5, cold, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m.Requests != 7 {
			t.Fatalf("%s: %d requests simulated, want 7", n, m.Requests)
		}
		return m
	}
	long, short := get("keepalive-10m"), get("keepalive-5m")
	if long.ColdInvocations != 1 || short.ColdInvocations < 4 {
		t.Errorf("cold starts: 10-minute keep-alive %d (want only the first), 5-minute %d (want most of 7)", long.ColdInvocations, short.ColdInvocations)
	}
	if !(short.ReplicaSeconds < long.ReplicaSeconds) {
		t.Errorf("replica-seconds: 5-minute %v, 10-minute %v", short.ReplicaSeconds, long.ReplicaSeconds)
	}
	for _, n := range []string{"kpa", "hybrid", "prescale"} {
		get(n)
	}
}

// The report: every window's rule and table, medians over repeats, the
// wait p99 from the histogram and the sim columns.
func TestWriteLiveReport(t *testing.T) {
	o := benchLiveOpts{tracePth: "traces/x.csv", repeats: 2, sleepMS: 1000, delay: "fixed:1s", horizon: 30 * time.Second, before: 2, after: 3,
		peak: 6, speed: 6, schedule: "@every 5s", names: []string{"prescale", "hpa"}, zeroNames: []string{"prescale", "keepalive-5m"},
		knobs: zeroKnobs{speed: 30, period: 2, lead: 8 * time.Second}, zeroBudget: 240}
	pl := benchPlan{burst: true, win: window{from: 58, to: 63, burst: 60}, raw: []float64{7, 5, 38, 3, 4}, counts: []float64{11, 8, 60, 5, 6},
		zero: []zeroWin{{"periodic", timedWindow{fn: "cad5438d", calls: 11, period: 600, score: 1, span: 6660, times: make([]float64, 11)}},
			{"zero", timedWindow{fn: "653cdbc3", calls: 12, longGaps: 3, long: 630, span: 5661, times: []float64{60, 1260, 1261, 2061, 2062, 2063, 2064, 2065, 2066, 2067, 4067, 4068}}}}}
	res := func(win, name string, cold float64, rs float64, waits live.WaitHist) liveResult {
		return liveResult{name: name, window: win, sum: replay.Summary{Scheduled: 100, Completed: 100, Status: map[int]int{200: 100}, Latencies: []float64{1, 1, 2}},
			live: live.Summary{ColdWaits: cold, ReplicaSeconds: rs, PeakReplicas: 3}, waits: waits, starts: waits}
	}
	two := live.WaitHist{Bounds: []float64{1, 5, math.Inf(1)}, Cum: []float64{0, 2, 2}, Count: 2, Sum: 6}
	r := liveReport{o: o, pl: pl, sims: map[string]sim.Metrics{"burst/hpa": {ColdDelayed: 4, ReplicaSeconds: 300}},
		simsMeasured: map[string]sim.Metrics{"burst/hpa": {ColdDelayed: 6, ReplicaSeconds: 320}}, starts: two,
		results: []liveResult{res("burst", "prescale", 3, 500, two), res("burst", "prescale", 5, 520, two), res("burst", "hpa", 9, 340, live.WaitHist{}),
			res("periodic", "prescale", 1, 150, two), res("zero", "keepalive-5m", 12, 100, two),
			res("zero", "keepalive-10m", 7, 110, two), res("zero", "keepalive-10m", 6, 130, two), res("zero", "keepalive-10m", 7, 90, two)}}
	var b bytes.Buffer
	writeLiveReport(&b, r)
	md := b.String()
	for _, want := range []string{
		"### Burst window", "minute 60", "window 58–62", "### Periodic / timer window", "function cad5438d…", "### Scale-from-zero window",
		"function 653cdbc3…", "3 such gaps", "| prescale | 100 | 0 | 4 [3–5] | 3.00s |", // median of 3 and 5; p99 of 100 requests, 2 waits in (1, 5]: rank 1 → 3 s
		"| hpa | 100 | 0 | 9 | 0.00s |", "| 4 | ",
		"| 3 | 2 (3.0s / 4.8s) |", // the replica starts: 2 in (1, 5], p50 rank 1 → 3 s, p95 rank 1.9 → 4.8 s
		"| 3 | 0 | 4 | ",          // hpa: no start measured, no p50 / p95
		"| 300 | 6 | 320 |",       // hpa's simulation with the measured starts
		// The bound: gaps 1200, 800 and 2000 s; 800 is 400 s off 1200, over the (8 + 3) × 30 = 330 s window: all three
		// unannounced, 4000 s / 30 = 133 s compressed against the 10-minute idler's median 110 rs and 7 waits.
		"3 of its 3 idle gaps longer than 10.5 trace minutes", "±330 trace seconds", "133 replica-seconds compressed", "idler's 110 for its whole run",
		"at least 2 waits against the idler's 7, at most 71 % fewer",
		"(2 starts\npooled over every run: p50 3.00 s, p95 4.80 s", "| 300 |", "prescale.cold-start-cost 20s", "(10 s / 20 s)", "prescale.stabilization-window 10s", "live_periodic.png", "**one** fresh plugin",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report does not contain %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "failed") {
		t.Error("a report without failures names failed copies")
	}
	r.zeroErr = errors.New("z1-zero-kpa: live run at 3.0s: GET /metrics: refused")
	b.Reset()
	writeLiveReport(&b, r)
	if !strings.Contains(b.String(), "**Zero-stage copies that failed** (left out of the tables above): z1-zero-kpa: live run") {
		t.Error("the report does not name the failed copy")
	}
	if n := strings.Count(md, "| policy | requests |"); n != 3 {
		t.Errorf("%d tables, want 3 (one per window)", n)
	}
}
