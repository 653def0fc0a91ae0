package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/internal/autoscaler"
	"github.com/prescale/prescale/internal/dist"
	"github.com/prescale/prescale/internal/live"
	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/internal/trace"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/plugin"
	"github.com/prescale/prescale/plugin/runtime"
)

// runBenchLive is `prescale bench-live`: every policy live on the plugin.
// It picks a burst window from a real trace by a stated rule (the minute
// with the largest rise over the minute before, with --before minutes ahead
// of it and --after behind), scales it so its peak minute needs --peak
// replicas of hello-python's sleep workload (sleep_ms per request,
// max_inflight 1: capacity per replica), and replays it — identical arrivals
// for every policy and repeat — on a fresh platform per run. prescale and
// reactive run as the function chain (scaler_mode predictive / reactive);
// the simulator's policies (internal/autoscaler) run through internal/live
// against the gateway's API with prescale.enabled=false on the workload.
// The platform measures: its cold-start-wait counter, replica-seconds and
// peak replicas from /system/function; latency percentiles from the replay.
func runBenchLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		stack    = fs.String("f", "stack.yml", "stack file")
		out      = fs.String("out", "bench", "directory for live.md")
		tracePth = fs.String("trace", "traces/invitro_azure2021_first998_invocations.csv", "trace; every function's counts are summed into one series")
		before   = fs.Int("before", 3, "minutes of the window before the burst minute")
		after    = fs.Int("after", 4, "minutes of the window from the burst minute on")
		speed    = fs.Float64("speed", 6, "time compression (a trace minute lasts 60/speed seconds)")
		delay    = fs.String("startup-delay", dist.DefaultColdStart, "hello-python's prescale.startup-delay (a replica start; the simulator's cold start)")
		sleepMS  = fs.Int("sleep-ms", 1000, "hello-python's sleep_ms: the wait per request (its service time)")
		peak     = fs.Int("peak", 6, "replicas the window's peak minute needs (its mean rate × the service time)")
		schedule = fs.String("schedule", "@every 5s", "load-probe's cron schedule (the chain's control period)")
		horizon  = fs.Duration("horizon", 30*time.Second, "predictor's forecast horizon")
		pols     = fs.String("policies", "prescale,reactive,hpa,kpa,ce-alert,pro-rps", "policies: prescale and reactive (the chain) and internal/autoscaler names")
		repeats  = fs.Int("repeats", 3, "runs per policy (median and spread)")
		seed     = fs.Uint64("seed", 1, "arrival seed (every run replays the same requests)")
		quick    = fs.Bool("quick", false, "smoke test: a 2-minute window, policies hpa and reactive, one repeat, no live.md")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		*before, *after, *repeats = 1, 1, 1
		if !flagSet(fs, "policies") {
			*pols = "hpa,reactive"
		}
	}
	if *before < 0 || *after < 1 || !(*speed > 0) || *speed > 60 || *sleepMS < 1 || *sleepMS > 60000 || *peak < 1 || *peak > 100 || *repeats < 1 || *repeats > 20 {
		return errors.New("need --before >= 0, --after >= 1, --speed in (0, 60], --sleep-ms in 1..60000, --peak in 1..100 and --repeats in 1..20")
	}
	if _, err := dist.ParseDelay(*delay, 10*time.Minute); err != nil {
		return fmt.Errorf("--startup-delay: %w", err)
	}
	names := strings.Split(*pols, ",")
	for _, n := range names {
		if n == "prescale" || n == "reactive" {
			continue
		}
		if _, err := autoscaler.New(n, autoscaler.DefaultOptions()); err != nil {
			return fmt.Errorf("--policies: %w", err)
		}
	}
	fns, err := trace.Open(*tracePth)
	if err != nil {
		return err
	}
	series := sumSeries(fns)
	win, err := burstWindow(series, *before, *after)
	if err != nil {
		return fmt.Errorf("trace %s: %w", *tracePth, err)
	}
	service := float64(*sleepMS) / 1000
	counts := scaleToPeak(series[win.from:win.to], *peak, service, *speed)
	stackAbs, err := filepath.Abs(*stack)
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	total := len(names) * *repeats
	var results []liveResult
	for i, n := range names {
		for r := 0; r < *repeats; r++ {
			k := i**repeats + r + 1
			fmt.Fprintf(stderr, "bench-live: run %d/%d: %s, repeat %d (%d minutes at speed %g, ~%.0fs)\n", k, total, n, r+1, len(counts), *speed, float64(len(counts))*60 / *speed)
			res, err := liveRun(ctx, liveParams{
				stack: stackAbs, policy: n, schedule: *schedule, horizon: *horizon, delay: *delay, sleepMS: *sleepMS,
				counts: counts, speed: *speed, seed: *seed, log: stderr, service: service,
			})
			if err != nil {
				return fmt.Errorf("%s run: %w", n, err)
			}
			results = append(results, res)
		}
	}
	sims := map[string]sim.Metrics{}
	if b := 60 / *speed; b == math.Trunc(b) {
		cold, _ := dist.ParseDelay(*delay, 10*time.Minute)
		for _, n := range names {
			if n == "reactive" {
				continue // the chain's reactive mode has no simulator policy
			}
			m, err := simulateWindow(ctx, n, counts, int(b), service, cold, *seed)
			if err != nil {
				return fmt.Errorf("simulate %s: %w", n, err)
			}
			sims[n] = m
		}
	}
	var md bytes.Buffer
	writeLiveReport(&md, liveReport{sims: sims, trace: filepath.Base(*tracePth), win: win, counts: counts, raw: series[win.from:win.to], speed: *speed,
		delay: *delay, sleepMS: *sleepMS, peak: *peak, schedule: *schedule, horizon: *horizon, repeats: *repeats, names: names, results: results})
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if *quick {
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "live.md"), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write live.md: %w", err)
	}
	var runs []live.Named
	seen := map[string]bool{}
	for _, r := range results {
		if !seen[r.name] { // the first repeat of each policy
			seen[r.name] = true
			runs = append(runs, live.Named{Name: r.name, History: r.history})
		}
	}
	return live.Plot(filepath.Join(*out, "live_burst.png"), "burst window, live: load and desired replicas per policy (first repeat)", runs)
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// sumSeries adds every function's per-minute counts into one series.
func sumSeries(fns []trace.Function) []float64 {
	var counts []float64
	for _, f := range fns {
		for i, c := range f.Counts {
			for len(counts) <= i {
				counts = append(counts, 0)
			}
			counts[i] += c
		}
	}
	return counts
}

// window is [from, to) minutes of a series and the burst minute in it.
type window struct{ from, to, burst int }

// burstWindow is the rule: the minute m with the largest rise over the
// minute before (counts[m] - counts[m-1], the earliest on ties), with
// before minutes ahead of it and after minutes from it on (clamped).
func burstWindow(counts []float64, before, after int) (window, error) {
	if len(counts) < 2 {
		return window{}, fmt.Errorf("%d minutes: need at least 2", len(counts))
	}
	best, rise := -1, math.Inf(-1)
	for m := max(1, before); m+after <= len(counts); m++ {
		if d := counts[m] - counts[m-1]; d > rise {
			best, rise = m, d
		}
	}
	if best < 0 {
		return window{}, fmt.Errorf("%d minutes: too short for %d minutes before and %d after the burst", len(counts), before, after)
	}
	return window{from: best - before, to: best + after, burst: best}, nil
}

// scaleToPeak multiplies counts so the peak minute's mean rate, as replayed
// at speed (a minute in 60/speed s), needs peak replicas of one slot each:
// peak rate × service = peak.
func scaleToPeak(counts []float64, peak int, service, speed float64) []float64 {
	mx := 0.0
	for _, c := range counts {
		mx = math.Max(mx, c)
	}
	out := make([]float64, len(counts))
	if mx == 0 {
		return out
	}
	f := float64(peak) / service * (60 / speed) / mx
	for i, c := range counts {
		out[i] = math.Round(c * f)
	}
	return out
}

type liveParams struct {
	stack, policy, schedule, delay string
	horizon                        time.Duration
	sleepMS                        int
	counts                         []float64
	speed, service                 float64
	seed                           uint64
	log                            io.Writer
}

type liveResult struct {
	name    string
	sum     replay.Summary
	live    live.Summary
	history *live.History
}

func liveRun(ctx context.Context, lp liveParams) (liveResult, error) {
	chain := lp.policy == "prescale" || lp.policy == "reactive"
	mode := map[bool]string{true: "predictive", false: "reactive"}[lp.policy == "prescale"]
	if err := setenvAll(map[string]string{"PRESCALE_SCHEDULE": lp.schedule, "PRESCALE_HORIZON": lp.horizon.String(),
		"PRESCALE_FORECAST_ONLY": "false", "PRESCALE_SCALER_MODE": mode}); err != nil {
		return liveResult{}, err
	}
	p, gw, stop, err := startBenchPlatform(ctx, "prescale-bench-live-", lp.stack, lp.seed)
	if err != nil {
		return liveResult{}, err
	}
	defer stop()
	const maxReplicas = 10
	err = gw.update(ctx, "hello-python", func(fd *types.FunctionDeployment) {
		fd.EnvVars["sleep_ms"] = strconv.Itoa(lp.sleepMS)
		fd.EnvVars["cpu_ms"] = "0"
		fd.EnvVars["max_inflight"] = "1"
		(*fd.Labels)["com.openfaas.scale.max"] = strconv.Itoa(maxReplicas)
		(*fd.Labels)[decide.LabelTargetConcurrency] = "1"
		(*fd.Labels)["prescale.enabled"] = strconv.FormatBool(chain)
		(*fd.Annotations)["prescale.startup-delay"] = lp.delay
	})
	if err != nil {
		return liveResult{}, err
	}
	if err := gw.waitReady(ctx, "hello-python"); err != nil {
		return liveResult{}, err
	}
	var ctl sim.Controller
	if !chain {
		pol, err := autoscaler.New(lp.policy, autoscaler.DefaultOptions())
		if err != nil {
			return liveResult{}, err
		}
		d, _ := dist.ParseDelay(lp.delay, 10*time.Minute)
		ctl = pol.NewController(sim.FunctionInfo{Name: "hello-python", Concurrency: 1, MeanService: lp.service,
			Min: 1, Max: maxReplicas, ColdStartMax: d.Max()})
	}
	dur := time.Duration(float64(len(lp.counts))*60/lp.speed*float64(time.Second)) + 5*time.Second
	obs := &live.HTTPGateway{URL: p.URL(), User: p.User(), Pass: p.Password(), Concurrency: 1}
	type liveOut struct {
		h   *live.History
		err error
	}
	lc := make(chan liveOut, 1)
	go func() {
		h, err := live.Run(ctx, obs, ctl, live.Config{Function: "hello-python", Duration: dur, Min: 1, Max: maxReplicas})
		lc <- liveOut{h, err}
	}()
	sum, rerr := replay.Run(ctx, replay.Config{Gateway: p.URL(), Function: "hello-python", Counts: lp.counts, Speed: lp.speed, Seed: lp.seed})
	lo := <-lc
	if rerr != nil {
		return liveResult{}, rerr
	}
	if lo.err != nil {
		return liveResult{}, lo.err
	}
	res := liveResult{name: lp.policy, sum: sum, live: live.Summarize(lo.h), history: lo.h}
	fmt.Fprintf(lp.log, "  %s: %d responses, p99 %.3fs, %.0f cold-start waits, %.0f replica-seconds, peak %d\n",
		res.name, sum.Completed, sum.Percentile(0.99), res.live.ColdWaits, math.Round(res.live.ReplicaSeconds), res.live.PeakReplicas)
	return res, nil
}

// startBenchPlatform starts a fresh plugin in a new temporary directory
// (named with prefix) that builds and deploys stack, with the replica
// start seed, logging to the directory's platform.log, and waits until
// the stack's functions are ready. stop closes it and removes the directory.
func startBenchPlatform(ctx context.Context, prefix, stack string, seed uint64) (*plugin.Platform, liveGateway, func(), error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, liveGateway{}, nil, fmt.Errorf("temp dir: %w", err)
	}
	logf, err := os.Create(filepath.Join(dir, "platform.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, liveGateway{}, nil, fmt.Errorf("log: %w", err)
	}
	p, err := plugin.New(plugin.Config{Port: 0, DataDir: dir, StackFile: stack, Deploy: true, SkipTests: true,
		Runtime: runtime.Config{StartupSeed: seed}},
		slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, liveGateway{}, nil, err
	}
	stop := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.Close(cctx)
		logf.Close()
		os.RemoveAll(dir)
	}
	if err := p.Start(ctx); err != nil {
		stop()
		return nil, liveGateway{}, nil, fmt.Errorf("start platform: %w", err)
	}
	gw := liveGateway{url: p.URL(), user: p.User(), pw: p.Password()}
	if err := gw.waitReady(ctx, "hello-python", "load-probe", "predictor", "scaler"); err != nil {
		stop()
		return nil, liveGateway{}, nil, err
	}
	return p, gw, stop, nil
}

// simulateWindow runs internal/sim on the replayed counts (Bucket = the
// seconds a trace minute lasts live), one slot per replica, the sleep as a
// fixed service time, the same cold-start distribution and bounds 1..10.
func simulateWindow(ctx context.Context, name string, counts []float64, bucket int, service float64, cold dist.Dist, seed uint64) (sim.Metrics, error) {
	pol, err := autoscaler.New(name, autoscaler.DefaultOptions())
	if err != nil {
		return sim.Metrics{}, err
	}
	cfg := sim.DefaultConfig()
	cfg.Concurrency, cfg.ColdStart, cfg.Seed, cfg.MinReplicas, cfg.MaxReplicas, cfg.Workers = 1, cold, seed, 1, 10, 1
	r, err := sim.Run(ctx, cfg, []sim.FunctionSpec{{Name: "hello-python", Counts: counts, Service: sim.FixedService(service), Bucket: bucket}}, pol)
	if err != nil {
		return sim.Metrics{}, err
	}
	return r.Metrics, nil
}

type liveReport struct {
	sims                   map[string]sim.Metrics
	trace                  string
	win                    window
	counts, raw            []float64
	speed                  float64
	delay, schedule        string
	sleepMS, peak, repeats int
	horizon                time.Duration
	names                  []string
	results                []liveResult
}

// writeLiveReport is live.md: the window, then per policy the median and
// min–max over the repeats.
func writeLiveReport(w io.Writer, r liveReport) {
	fmt.Fprintf(w, "## Live: every policy on the plugin\n\n")
	fmt.Fprintf(w, "`make bench-live` (`prescale bench-live`): %s, every function's per-minute counts summed; the window is the minute with the largest\n", r.trace)
	fmt.Fprintf(w, "rise over the minute before (minute %d) with the minutes around it, %d–%d (trace counts %v), scaled so the peak minute needs %d replicas\n",
		r.win.burst, r.win.from, r.win.to-1, r.raw, r.peak)
	fmt.Fprintf(w, "(%v requests a minute), replayed at speed %g (a trace minute in %.0f s; Poisson arrivals within each minute, the same seed for every run)\n",
		r.counts, r.speed, 60/r.speed)
	fmt.Fprintf(w, "at hello-python with `sleep_ms: %d`, `cpu_ms: 0`, `max_inflight: 1` (one request per replica: capacity per replica) and\n", r.sleepMS)
	fmt.Fprintf(w, "`prescale.startup-delay: %s` (drawn per replica start, the simulator's cold start), scale 1..10, on a fresh plugin per run, %d repeat(s).\n", r.delay, r.repeats)
	fmt.Fprintf(w, "*prescale* and *reactive* are the function chain (load-probe on `%s`, horizon %s; scaler_mode predictive / reactive); the others are\n", r.schedule, r.horizon)
	fmt.Fprintf(w, "internal/autoscaler's controllers driven by internal/live from the gateway's /metrics and /system/function, sampled every second.\n")
	fmt.Fprintf(w, "*cold-start waits* = the plugin's prescale_plugin_start_waits_total (requests served by a replica that became ready after they\n")
	fmt.Fprintf(w, "arrived: the simulator's definition); *non-200* = 503s after the plugin's 30 s cold-start wait or client timeouts;\n")
	fmt.Fprintf(w, "*replica-seconds* = ∫ desired replicas dt; latencies from the replay driver. Median [min–max] over the repeats. *sim:* internal/sim\n")
	fmt.Fprintf(w, "on the same counts (each count over %.0f s), fixed %d ms service, the same cold-start distribution, one slot per replica, 1..10\n", 60/r.speed, r.sleepMS)
	fmt.Fprintf(w, "replicas (the simulator's prescale is pkg/decide in-process with a 5 s period; the chain's reactive mode has no simulator row).\n\n")
	fmt.Fprintf(w, "![load and replicas per policy](live_burst.png)\n\n")
	fmt.Fprintf(w, "| policy | requests | non-200 | cold-start waits | p50 | p95 | p99 | replica-seconds | peak replicas | sim: cold-start waits | sim: p99 | sim: replica-seconds |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range r.names {
		var req, bad, cold, p50, p95, p99, rs, pk []float64
		for _, x := range r.results {
			if x.name != n {
				continue
			}
			req = append(req, float64(x.sum.Scheduled))
			bad = append(bad, float64(x.sum.Completed-x.sum.Status[http.StatusOK]+x.sum.Failed))
			cold = append(cold, x.live.ColdWaits)
			p50 = append(p50, x.sum.Percentile(0.5))
			p95 = append(p95, x.sum.Percentile(0.95))
			p99 = append(p99, x.sum.Percentile(0.99))
			rs = append(rs, x.live.ReplicaSeconds)
			pk = append(pk, float64(x.live.PeakReplicas))
		}
		simCols := "– | – | –"
		if m, ok := r.sims[n]; ok {
			simCols = fmt.Sprintf("%d | %.2fs | %.0f", m.ColdDelayed, m.Latency.Quantile(0.99), m.ReplicaSeconds)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, spread(req, "%.0f"), spread(bad, "%.0f"), spread(cold, "%.0f"),
			spread(p50, "%.2fs"), spread(p95, "%.2fs"), spread(p99, "%.2fs"), spread(rs, "%.0f"), spread(pk, "%.0f"), simCols)
	}
}

// spread is "median [min–max]", or the value alone when they agree.
func spread(xs []float64, f string) string {
	if len(xs) == 0 {
		return "–"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var med float64
	if n := len(s); n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	if s[0] == s[len(s)-1] {
		return fmt.Sprintf(f, med)
	}
	return fmt.Sprintf(f+" ["+f+"–"+f+"]", med, s[0], s[len(s)-1])
}

// liveGateway is the few gateway API calls bench-live makes.
type liveGateway struct{ url, user, pw string }

func (g liveGateway) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("encode: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.url+path, rd)
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.SetBasicAuth(g.user, g.pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

func (g liveGateway) status(ctx context.Context, name string) (types.FunctionStatus, error) {
	var st types.FunctionStatus
	code, err := g.do(ctx, http.MethodGet, "/system/function/"+name, nil, &st)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status of %s: HTTP %d", name, code)
	}
	return st, err
}

func (g liveGateway) waitReady(ctx context.Context, names ...string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for _, n := range names {
		for {
			st, err := g.status(ctx, n)
			if err == nil && st.AvailableReplicas > 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready within 3 minutes (last: %v)", n, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// deploy deploys a new function as `faas-cli deploy` would.
func (g liveGateway) deploy(ctx context.Context, fd types.FunctionDeployment) error {
	code, err := g.do(ctx, http.MethodPost, "/system/functions", fd, nil)
	if err != nil {
		return err
	}
	if code != http.StatusAccepted && code != http.StatusOK {
		return fmt.Errorf("deploy %s: HTTP %d", fd.Service, code)
	}
	return nil
}

// update redeploys a function as `faas-cli deploy` would after edit.
func (g liveGateway) update(ctx context.Context, name string, edit func(*types.FunctionDeployment)) error {
	st, err := g.status(ctx, name)
	if err != nil {
		return err
	}
	env := map[string]string{}
	for k, v := range st.EnvVars {
		env[k] = v
	}
	labels := map[string]string{}
	if st.Labels != nil {
		for k, v := range *st.Labels {
			labels[k] = v
		}
	}
	ann := map[string]string{}
	if st.Annotations != nil {
		for k, v := range *st.Annotations {
			ann[k] = v
		}
	}
	fd := types.FunctionDeployment{Service: name, Image: st.Image, EnvProcess: st.EnvProcess, EnvVars: env,
		Secrets: st.Secrets, Labels: &labels, Annotations: &ann}
	edit(&fd)
	code, err := g.do(ctx, http.MethodPut, "/system/functions", fd, nil)
	if err != nil {
		return err
	}
	if code != http.StatusAccepted && code != http.StatusOK {
		return fmt.Errorf("update %s: HTTP %d", name, code)
	}
	return nil
}
