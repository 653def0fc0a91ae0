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

// runBenchLive is `prescale bench-live`: every policy live on the plugin,
// in three windows chosen from a real trace by stated rules
// (benchwindows.go): a burst window (per-minute counts of every function
// summed; the largest rise from a quiet lead-in), replayed policy by policy
// on a fresh platform per run; and a periodic/timer window and a
// scale-from-zero window (one function's real invocation instants each),
// whose zero-mode policies run side by side as copies of the workload on
// one fresh platform (the load is a few calls a minute). The workload is
// hello-python's sleep (sleep_ms per request, max_inflight 1: capacity per
// replica). prescale and reactive run as the function chain; the
// simulator's policies (internal/autoscaler) run through internal/live
// against the gateway's API. The platform measures: its cold-start-wait
// counter and start-wait histogram, replica-seconds and peak replicas from
// /system/function; latency percentiles from the replay.
func runBenchLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseBenchLive(args, stderr)
	if err != nil {
		return err
	}
	pl, err := planBenchLive(o)
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, pl.describe(o))
	if o.planOnly {
		return nil
	}
	t0 := time.Now()
	stackAbs, err := filepath.Abs(o.stack)
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	rep := liveReport{o: o, pl: pl, sims: map[string]sim.Metrics{}}
	cold, _ := dist.ParseDelay(o.delay, 10*time.Minute)
	if pl.burst {
		total := len(o.names) * o.repeats
		for i, n := range o.names {
			for r := 0; r < o.repeats; r++ {
				k := i*o.repeats + r + 1
				fmt.Fprintf(stderr, "bench-live: [%s elapsed] burst run %d/%d: %s, repeat %d (%d minutes at speed %g, ~%.0fs)\n",
					time.Since(t0).Round(time.Second), k, total, n, r+1, len(pl.counts), o.speed, float64(len(pl.counts))*60/o.speed)
				res, err := liveRun(ctx, liveParams{
					stack: stackAbs, policy: n, schedule: o.schedule, horizon: o.horizon, delay: o.delay, sleepMS: o.sleepMS,
					counts: pl.counts, speed: o.speed, seed: o.seed, log: stderr, service: pl.service,
				})
				if err != nil {
					return fmt.Errorf("%s run: %w", n, err)
				}
				rep.results = append(rep.results, res)
			}
		}
	}
	if len(pl.zero) > 0 {
		zp := pl.zeroParams(o, stackAbs, stderr)
		fmt.Fprintf(stderr, "bench-live: [%s elapsed] zero stage: %d copies side by side (%s), ~%.0fs\n",
			time.Since(t0).Round(time.Second), len(zeroCopies(zp)), o.zeroPolicies, zeroStageSeconds(zp))
		res, err := runZeroStage(ctx, zp)
		if err != nil && len(res) == 0 {
			return fmt.Errorf("zero stage: %w", err)
		}
		if err != nil { // some copies failed: the report names them
			fmt.Fprintf(stderr, "bench-live: zero stage: %v\n", err)
			rep.zeroErr = err
		}
		rep.results = append(rep.results, res...)
	}
	if rep.sims, err = rep.simulate(ctx, cold); err != nil {
		return err
	}
	// The simulator again with the replica starts the plugin measured in
	// these runs (pooled): what is left between it and the live figures is
	// not the start-time assumption.
	for _, x := range rep.results {
		rep.starts.Add(x.starts)
	}
	if measured, err := dist.FromHistogram(rep.starts.Bounds, rep.starts.Cum); err == nil {
		if rep.simsMeasured, err = rep.simulate(ctx, measured); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "bench-live: done in %s (estimated %s)\n", time.Since(t0).Round(time.Second), (time.Duration(pl.estimate) * time.Second).Round(time.Second))
	var md bytes.Buffer
	writeLiveReport(&md, rep)
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if o.quick {
		return nil
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.out, "live.md"), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write live.md: %w", err)
	}
	for _, win := range pl.windowNames() {
		var runs []live.Named
		seen := map[string]bool{}
		for _, r := range rep.results {
			if r.window == win && !seen[r.name] && r.history != nil { // the first repeat of each policy
				seen[r.name] = true
				runs = append(runs, live.Named{Name: r.name, History: r.history})
			}
		}
		if len(runs) == 0 {
			continue
		}
		title := win + " window, live: load and desired replicas per policy (first repeat)"
		if err := live.Plot(filepath.Join(o.out, "live_"+win+".png"), title, runs); err != nil {
			return err
		}
	}
	return nil
}

// benchLiveOpts are bench-live's flags, parsed and validated.
type benchLiveOpts struct {
	stack, out, tracePth, delay, schedule, pols, zeroPolicies, windows string
	before, after, sleepMS, peak, repeats                              int
	speed, zeroBudget                                                  float64
	horizon                                                            time.Duration
	seed                                                               uint64
	quick, planOnly                                                    bool
	names, zeroNames                                                   []string
	knobs                                                              zeroKnobs
}

func parseBenchLive(args []string, stderr io.Writer) (benchLiveOpts, error) {
	var o benchLiveOpts
	fs := flag.NewFlagSet("bench-live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.stack, "f", "stack.yml", "stack file")
	fs.StringVar(&o.out, "out", "bench", "directory for live.md and the plots")
	fs.StringVar(&o.tracePth, "trace", "traces/invitro_azure2021_first998_invocations.csv", "trace: every function's counts summed for the burst window; one function's real instants for the zero windows")
	fs.StringVar(&o.windows, "windows", "burst,periodic,zero", "windows to run: burst, periodic (timer), zero (scale from zero)")
	fs.IntVar(&o.before, "before", 2, "minutes of the burst window before the burst minute")
	fs.IntVar(&o.after, "after", 3, "minutes of the burst window from the burst minute on")
	fs.Float64Var(&o.speed, "speed", 6, "burst window's time compression (a trace minute lasts 60/speed seconds)")
	fs.StringVar(&o.delay, "startup-delay", dist.DefaultColdStart, "hello-python's prescale.startup-delay (a replica start; the simulator's cold start)")
	fs.IntVar(&o.sleepMS, "sleep-ms", 1000, "hello-python's sleep_ms: the wait per request (its service time)")
	fs.IntVar(&o.peak, "peak", 6, "replicas the burst window's peak minute needs (its mean rate × the service time)")
	fs.StringVar(&o.schedule, "schedule", "@every 5s", "load-probe's cron schedule in the burst window (the chain's control period)")
	fs.DurationVar(&o.horizon, "horizon", 30*time.Second, "predictor's forecast horizon")
	fs.StringVar(&o.pols, "policies", "prescale,reactive,hpa,kpa,ce-alert,pro-rps", "burst window's policies: prescale and reactive (the chain) and internal/autoscaler names")
	fs.StringVar(&o.zeroPolicies, "zero-policies", strings.Join(defaultZeroPolicies(), ","), "zero windows' policies: "+strings.Join(defaultZeroPolicies(), ", "))
	fs.Float64Var(&o.knobs.speed, "zero-speed", 30, "zero windows' time compression; one compressed trace minute (60/speed s) is the arrival model's unit and must be >= the zero period")
	fs.IntVar(&o.knobs.period, "zero-period", 2, "seconds: the chain's schedule and the zero controllers' check interval in the zero windows (1..10)")
	fs.DurationVar(&o.knobs.lead, "prewarm-lead", 5*time.Second, "prescale.prewarm-lead and the hybrid's lead in the zero windows: asked for at the first tick from lead + tolerance (1.5 s at the 2 s zero period) before a timer's call, a replica is wanted 4.5-6.5 s ahead, above a replica start's measured p95 (3.9 s) plus the chain's latency")
	fs.Float64Var(&o.zeroBudget, "zero-budget", 240, "seconds: the longest a zero window may last compressed (the window rules pick within it)")
	fs.IntVar(&o.repeats, "repeats", 3, "runs per policy (median and spread)")
	fs.Uint64Var(&o.seed, "seed", 1, "arrival seed (every run replays the same requests)")
	fs.BoolVar(&o.quick, "quick", false, "smoke test: a 2-minute burst window with hpa and reactive, the zero windows cut to their first 45 s, one repeat, no live.md")
	fs.BoolVar(&o.planOnly, "plan", false, "print the windows and the plan's estimated duration, run nothing")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.quick {
		o.before, o.after, o.repeats = 1, 1, 1
		if !flagSet(fs, "policies") {
			o.pols = "hpa,reactive"
		}
	}
	if o.before < 0 || o.after < 1 || !(o.speed > 0) || o.speed > 60 || o.sleepMS < 1 || o.sleepMS > 60000 || o.peak < 1 || o.peak > 100 || o.repeats < 1 || o.repeats > 20 {
		return o, errors.New("need --before >= 0, --after >= 1, --speed in (0, 60], --sleep-ms in 1..60000, --peak in 1..100 and --repeats in 1..20")
	}
	if o.knobs.period < 1 || o.knobs.period > 10 || !(o.knobs.speed >= 1) || 60/o.knobs.speed < float64(o.knobs.period) {
		return o, fmt.Errorf("need --zero-period in 1..10 s and --zero-speed >= 1 with 60/zero-speed >= the zero period (got %d s, %g: the arrival model's unit may not be finer than the control period)", o.knobs.period, o.knobs.speed)
	}
	if o.knobs.lead < 0 || o.knobs.lead > 10*time.Minute {
		return o, fmt.Errorf("--prewarm-lead %s: allowed range is 0s..10m", o.knobs.lead)
	}
	if !(o.zeroBudget >= 10) || o.zeroBudget > 3600 {
		return o, fmt.Errorf("--zero-budget %g: allowed range is 10..3600 s", o.zeroBudget)
	}
	if _, err := dist.ParseDelay(o.delay, 10*time.Minute); err != nil {
		return o, fmt.Errorf("--startup-delay: %w", err)
	}
	for _, w := range strings.Split(o.windows, ",") {
		if w != "burst" && w != "periodic" && w != "zero" {
			return o, fmt.Errorf("--windows: %q is not a window (allowed: burst, periodic, zero)", w)
		}
	}
	o.names = strings.Split(o.pols, ",")
	for _, n := range o.names {
		if n == "prescale" || n == "reactive" {
			continue
		}
		if _, err := autoscaler.New(n, autoscaler.DefaultOptions()); err != nil {
			return o, fmt.Errorf("--policies: %w", err)
		}
	}
	o.zeroNames = strings.Split(o.zeroPolicies, ",")
	for _, n := range o.zeroNames {
		if _, err := zeroPolicy(n, o.knobs); err != nil {
			return o, fmt.Errorf("--zero-policies: %w", err)
		}
	}
	return o, nil
}

// benchPlan is what the rules picked and what running it costs.
type benchPlan struct {
	burst       bool
	series      []float64
	win         window
	counts, raw []float64 // the burst window as replayed / in the trace
	service     float64
	zero        []zeroWin
	estimate    float64 // seconds
}

func (p benchPlan) windowNames() []string {
	var out []string
	if p.burst {
		out = append(out, "burst")
	}
	for _, z := range p.zero {
		out = append(out, z.name)
	}
	return out
}

func (p benchPlan) zeroParams(o benchLiveOpts, stack string, log io.Writer) zeroParams {
	return zeroParams{stack: stack, delay: o.delay, horizon: o.horizon, knobs: o.knobs, sleepMS: o.sleepMS, service: p.service,
		seed: o.seed, windows: p.zero, policies: o.zeroNames, repeats: o.repeats, stagger: time.Second, log: log}
}

// quickZeroSeconds is how much of each zero window --quick replays
// (compressed seconds).
const quickZeroSeconds = 45

func planBenchLive(o benchLiveOpts) (benchPlan, error) {
	pl := benchPlan{service: float64(o.sleepMS) / 1000}
	fns, err := trace.Open(o.tracePth)
	if err != nil {
		return pl, err
	}
	want := map[string]bool{}
	for _, w := range strings.Split(o.windows, ",") {
		want[w] = true
	}
	burstRuns, burstSecs := 0, 0.0
	if want["burst"] {
		pl.burst = true
		pl.series = sumSeries(fns)
		if pl.win, err = burstWindow(pl.series, o.before, o.after); err != nil {
			return pl, fmt.Errorf("trace %s: %w", o.tracePth, err)
		}
		pl.raw = pl.series[pl.win.from:pl.win.to]
		pl.counts = scaleToPeak(pl.raw, o.peak, pl.service, o.speed)
		burstRuns, burstSecs = len(o.names)*o.repeats, float64(len(pl.counts))*60/o.speed
	}
	// The from-zero window is about the 10-minute keep-alive: its idle gaps are longer.
	const keepAlive = 600.0
	minPeriod := o.knobs.minTimerPeriod(pl.service) // release after a call, pre-warm before the next
	if want["periodic"] {
		w, err := periodicWindow(fns, o.knobs.speed, minPeriod, o.zeroBudget)
		if err != nil {
			return pl, fmt.Errorf("periodic window of %s: %w", o.tracePth, err)
		}
		pl.zero = append(pl.zero, zeroWin{"periodic", w})
	}
	if want["zero"] {
		w, err := fromZeroWindow(fns, o.knobs.speed, keepAlive, o.zeroBudget)
		if err != nil {
			return pl, fmt.Errorf("scale-from-zero window of %s: %w", o.tracePth, err)
		}
		pl.zero = append(pl.zero, zeroWin{"zero", w})
	}
	if o.quick {
		for i := range pl.zero {
			pl.zero[i].w = pl.zero[i].w.truncate(quickZeroSeconds * o.knobs.speed)
		}
	}
	zs := 0.0
	if len(pl.zero) > 0 {
		zs = zeroStageSeconds(pl.zeroParams(o, "", nil))
	}
	pl.estimate = planEstimate(burstRuns, burstSecs, len(pl.zero) > 0, zs)
	return pl, nil
}

// describe is the plan as printed at the start.
func (p benchPlan) describe(o benchLiveOpts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bench-live plan (%s):\n", filepath.Base(o.tracePth))
	if p.burst {
		secs := float64(len(p.counts)) * 60 / o.speed
		fmt.Fprintf(&b, "  burst window: minutes %d–%d (burst at %d), %d policies × %d repeats × (%.0f s + %.0f s platform + %.0f s tail), one fresh platform per run\n",
			p.win.from, p.win.to-1, p.win.burst, len(o.names), o.repeats, secs, platformOverhead, runTail)
	}
	for _, z := range p.zero {
		fmt.Fprintf(&b, "  %s window: function %s, %d calls over %.0f s real = %.0f s at speed %g\n", z.name, z.w.fn, len(z.w.times), z.w.span, z.w.span/o.knobs.speed, o.knobs.speed)
	}
	if len(p.zero) > 0 {
		zp := p.zeroParams(o, "", nil)
		fmt.Fprintf(&b, "  zero stage: %d copies (%d windows × %d policies × %d repeats) side by side on one fresh platform, %.0f s (staggered %s apart) + %.0f s platform + %.0f s tail\n",
			len(zeroCopies(zp)), len(p.zero), len(o.zeroNames), o.repeats, zeroStageSeconds(zp), zp.stagger, platformOverhead, runTail)
	}
	fmt.Fprintf(&b, "  estimated duration: %s", (time.Duration(p.estimate) * time.Second).Round(time.Second))
	if p.estimate > 30*60 {
		b.WriteString(" — over issue 12's 30 minutes")
	}
	b.WriteString("\n")
	return b.String()
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
	name, window string // policy; burst, periodic or zero
	sum          replay.Summary
	live         live.Summary
	history      *live.History
	waits        live.WaitHist // the plugin's start-wait histogram of the run's function
	starts       live.WaitHist // its replica starts, scale-up to ready (runtime.ReplicaStartMetric)
}

// readHists fills the run's start-wait and replica-start histograms for fn
// from the gateway's /metrics text.
func (r *liveResult) readHists(text []byte, fn string) error {
	var err error
	if r.waits, err = live.ParseStartWaits(text, fn); err != nil {
		return err
	}
	r.starts, err = live.ParseReplicaStarts(text, fn)
	return err
}

// waitP99 is the 99th percentile of the wait for a replica start over the
// run's requests, those that did not wait counting 0 s (the plugin's
// histogram; see live.WaitHist.Quantile).
func (r liveResult) waitP99() float64 { return r.waits.Quantile(0.99, float64(r.sum.Scheduled)) }

// gapNote says, for the progress log, how many observations of the run
// failed and were retried (live.Gap); nothing when none did.
func (r liveResult) gapNote() string {
	if r.live.Gaps == 0 {
		return ""
	}
	return fmt.Sprintf(", %d failed observations retried", r.live.Gaps)
}

// liveRun is one policy's run of the burst window on a fresh platform.
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
	dur := time.Duration((float64(len(lp.counts))*60/lp.speed + runTail) * float64(time.Second))
	obs := &live.HTTPGateway{URL: p.URL(), User: p.User(), Pass: p.Password(), Concurrency: 1}
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
	res := liveResult{name: lp.policy, window: "burst", sum: sum, live: live.Summarize(lo.h), history: lo.h}
	text, err := gw.metrics(ctx)
	if err != nil {
		return liveResult{}, err
	}
	if err := res.readHists(text, "hello-python"); err != nil {
		return liveResult{}, err
	}
	fmt.Fprintf(lp.log, "  %s: %d responses, p99 %.3fs, %.0f cold-start waits (wait p99 %.2fs), %.0f replica-seconds, peak %d%s\n",
		res.name, sum.Completed, sum.Percentile(0.99), res.live.ColdWaits, res.waitP99(), math.Round(res.live.ReplicaSeconds), res.live.PeakReplicas, res.gapNote())
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
	o       benchLiveOpts
	pl      benchPlan
	results []liveResult
	sims    map[string]sim.Metrics // "window/policy", the simulator's cold-start distribution
	// starts pools every run's replica starts; simsMeasured is the
	// simulator with them as its cold starts (nil without starts).
	starts       live.WaitHist
	simsMeasured map[string]sim.Metrics
	zeroErr      error // copies of the zero stage that failed (left out of the tables)
}

// simulate runs the simulator on every window and policy of the plan with
// cold as the replica start: "window/policy" → its metrics.
func (r liveReport) simulate(ctx context.Context, cold dist.Dist) (map[string]sim.Metrics, error) {
	o, pl := r.o, r.pl
	out := map[string]sim.Metrics{}
	if b := 60 / o.speed; pl.burst && b == math.Trunc(b) {
		for _, n := range o.names {
			if n == "reactive" {
				continue // the chain's reactive mode has no simulator policy
			}
			m, err := simulateWindow(ctx, n, pl.counts, int(b), pl.service, cold, o.seed)
			if err != nil {
				return nil, fmt.Errorf("simulate %s: %w", n, err)
			}
			out["burst/"+n] = m
		}
	}
	for _, w := range pl.zero {
		for _, n := range o.zeroNames {
			pol, err := zeroPolicy(n, o.knobs)
			if err != nil {
				return nil, err
			}
			m, err := simulateZero(ctx, pol, w.w, o.knobs.speed, pl.service, cold, o.seed)
			if err != nil {
				return nil, fmt.Errorf("simulate %s on the %s window: %w", n, w.name, err)
			}
			out[w.name+"/"+n] = m
		}
	}
	return out, nil
}

// writeLiveReport is live.md: the workload, then per window its rule, what
// it picked and a table — per policy the median and min–max over the
// repeats, beside the simulator's numbers for the same window.
func writeLiveReport(w io.Writer, r liveReport) {
	o, pl := r.o, r.pl
	trace := filepath.Base(o.tracePth)
	fmt.Fprintf(w, "## Live: every policy on the plugin\n\n")
	fmt.Fprintf(w, "`make bench-live` (`prescale bench-live`, %d repeat(s)): three windows of %s, each chosen by the rule stated with it, replayed at\n", o.repeats, trace)
	fmt.Fprintf(w, "hello-python with `sleep_ms: %d`, `cpu_ms: 0`, `max_inflight: 1` (one request per replica: capacity per replica) and\n", o.sleepMS)
	fmt.Fprintf(w, "`prescale.startup-delay: %s` (drawn per replica start, the simulator's cold start), at most 10 replicas; identical arrivals for every policy and repeat.\n", o.delay)
	fmt.Fprintf(w, "*prescale* and *reactive* are the function chain (scaler_mode predictive / reactive, horizon %s); the others are internal/autoscaler's\n", o.horizon)
	fmt.Fprintf(w, "controllers driven by internal/live from the gateway's /metrics and /system/function, sampled every second (zero-mode ones also hear every arrival).\n")
	fmt.Fprintf(w, "*cold-start waits* = the plugin's prescale_plugin_start_waits_total (requests served by a replica that became ready after they\n")
	fmt.Fprintf(w, "arrived, taken when it became ready or later from the queue: the simulator's ColdDelayed has the same rule); *wait p99* = the 99th percentile over all requests of the wait for a replica start, from the\n")
	fmt.Fprintf(w, "plugin's prescale_plugin_start_wait_seconds histogram (requests that did not wait count 0 s; interpolated within a bucket as\n")
	fmt.Fprintf(w, "histogram_quantile does); *non-200* = 503s after the plugin's 30 s cold-start wait or client timeouts; *replica-seconds* = ∫ desired\n")
	fmt.Fprintf(w, "replicas dt; *replica starts* = the starts in the run and their p50 / p95 from scale-up to ready (the plugin's\n")
	fmt.Fprintf(w, "prescale_plugin_replica_start_seconds: process spawn, health probe and the drawn delay; the simulator's cold start is the drawn\n")
	fmt.Fprintf(w, "delay alone); latencies from the replay driver. Median [min–max] over the repeats. *sim:* internal/sim on the same arrivals, fixed\n")
	fmt.Fprintf(w, "%d ms service, the same cold-start distribution, one slot per replica (*sim: cold-start waits* is its ColdDelayed).\n", o.sleepMS)
	if r.simsMeasured != nil {
		fmt.Fprintf(w, "*sim, measured starts:* the same simulation with the replica starts measured in these runs as its cold starts (%.0f starts\n", r.starts.Count)
		fmt.Fprintf(w, "pooled over every run: p50 %.2f s, p95 %.2f s from scale-up to ready; the drawn delay alone is %s): the gap left between it and the live\n", r.starts.Of(0.5), r.starts.Of(0.95), o.delay)
		fmt.Fprintf(w, "figures is not the start-time assumption.\n")
	}
	fmt.Fprintln(w)
	if pl.burst {
		fmt.Fprintf(w, "### Burst window\n\n")
		fmt.Fprintf(w, "**Rule:** every function's per-minute counts summed; the minute with the largest rise over the minute before among the minutes\n")
		fmt.Fprintf(w, "whose lead-in is quiet (none of the %d minutes before it rises over its own predecessor by more than %.0f %% of that rise: a rise that\n", o.before, 100*quietShare)
		fmt.Fprintf(w, "starts earlier, a ramp or a smaller burst just before, is excluded), with %d minutes before it and %d from it on. Picked: minute %d,\n", o.before, o.after, pl.win.burst)
		fmt.Fprintf(w, "window %d–%d (trace counts %v), scaled so the peak minute needs %d replicas (%v requests a minute), replayed at speed %g (a trace\n",
			pl.win.from, pl.win.to-1, pl.raw, o.peak, pl.counts, o.speed)
		fmt.Fprintf(w, "minute in %.0f s; each minute's exact count, uniform within it, the same seed for every run), scale 1..10, one fresh plugin per run; the chain's\n", 60/o.speed)
		fmt.Fprintf(w, "load-probe on `%s`. *sim:* each count over %.0f s, 1..10 replicas (the simulator's prescale is pkg/decide in-process with a 5 s\n", o.schedule, 60/o.speed)
		fmt.Fprintf(w, "period; the chain's reactive mode has no simulator row).\n\n")
		fmt.Fprintf(w, "![burst window: load and replicas per policy](live_burst.png)\n\n")
		writeLiveTable(w, "burst", o.names, r)
	}
	for _, z := range pl.zero {
		k := o.knobs
		switch z.name {
		case "periodic":
			fmt.Fprintf(w, "### Periodic / timer window\n\n")
			fmt.Fprintf(w, "**Rule:** among the functions with real invocation instants and at least %d calls whose consecutive gaps are at least %.0f %% on\n", minTimerCalls, 100*periodicMinScore)
			fmt.Fprintf(w, "time (within %.0f %% of the median gap, the period), the one with the highest on-time share whose period compressed is at least\n", 100*periodTol)
			fmt.Fprintf(w, "%.0f s (a call, its release up to two control periods later, the pre-warm lead and the ±%.1f s window around the next call) and whose calls\n", k.minTimerPeriod(pl.service), k.timerTolerance())
			fmt.Fprintf(w, "fit in %.0f s compressed; ties to more calls, then less jitter, then file order. Picked: function %s… (trace row order %d), %d calls,\n", o.zeroBudget, z.w.fn, z.w.index, z.w.calls)
			fmt.Fprintf(w, "period %.1f s (%.0f %% on time, jitter %.1f s), its real instants from one minute before the first call to one period after the last.\n\n",
				z.w.period, 100*z.w.score, z.w.jitter)
		case "zero":
			fmt.Fprintf(w, "### Scale-from-zero window\n\n")
			fmt.Fprintf(w, "**Rule:** among the functions with real invocation instants that are not timers (on-time share below %.0f %%) and whose trace fits\n", 100*periodicMinScore)
			fmt.Fprintf(w, "in %.0f s compressed, the one with the most idle gaps longer than 1.05 × the 10-minute keep-alive (each sends the keep-alive idler to\n", o.zeroBudget)
			fmt.Fprintf(w, "zero and makes the next call a scale from zero), at least 3; ties to more calls, then file order. Picked: function %s… (trace row\n", z.w.fn)
			fmt.Fprintf(w, "order %d), %d calls, %d such gaps, its real instants from one minute before the first call to 10.5 minutes after the last.\n\n", z.w.index, z.w.calls, z.w.longGaps)
		}
		fmt.Fprintf(w, "Replayed at speed %g (%.0f s real = %.0f s; %d calls), every policy from zero replicas with com.openfaas.scale.zero=true and\n", k.speed, z.w.span, z.w.span/k.speed, len(z.w.times))
		fmt.Fprintf(w, "com.openfaas.scale.min=0. Every time constant is compressed by the speed: *prescale* = the chain with load-probe on `@every %ds`,\n", k.period)
		s := k.zeroSettings()
		fmt.Fprintf(w, "prescale.cold-start-cost %s (W = 600 s compressed), prescale.arrival-resolution %s (one trace minute), the keep-alive until confident\n", s.ColdStartCost, s.Resolution)
		ahead := s.PrewarmLead.Seconds() + k.timerTolerance()
		fmt.Fprintf(w, "4 × W, prescale.prewarm-lead %s (not compressed: with the ±%.1f s window, asked for %.1f–%.1f s ahead of a timer's call at the first tick, above a replica start's p95), prescale.stabilization-window %s\n",
			s.PrewarmLead, k.timerTolerance(), ahead-float64(k.period), ahead, k.stabilization())
		fmt.Fprintf(w, "(300 s compressed), prescale.target-concurrency 1, the predictor's horizon %s (30 s compressed, at least two periods); *keepalive-5m* / *keepalive-10m* =\n", k.horizon())
		fmt.Fprintf(w, "the fixed keep-alive idler (OpenFaaS Pro's zero-duration) of 5 / 10 trace minutes (%.0f s / %.0f s), checked every %d s; *kpa* = Knative's\n", 300/k.speed, 600/k.speed, k.period)
		fmt.Fprintf(w, "KPA with scale to zero, stable window max(6 s, 60 s compressed), grace 30 s compressed (at least 1 s), Knative's target utilization 0.7\n")
		fmt.Fprintf(w, "(so one request in flight asks for 2 pods); *hybrid* = the hybrid histogram (Shahrad et al.), one-minute bins and its 4-hour range compressed,\n")
		fmt.Fprintf(w, "the same pre-warm lead. keepalive and hybrid add replicas above one on the shared load layer, here at one request per replica (the\n")
		ll := k.load()
		fmt.Fprintf(w, "chain's prescale.target-concurrency 1) with its 60 s stabilization compressed to %d s. The %d copies of all zero windows, policies\n", ll.Stabilization, len(pl.zero)*len(o.zeroNames)*o.repeats)
		fmt.Fprintf(w, "and repeats run side by side on **one** fresh plugin (each its own copy of hello-python, starts staggered 1 s apart) — not a platform\n")
		fmt.Fprintf(w, "per run, to fit the 30-minute budget; the load is a few calls a minute. *sim:* the same policies and settings in internal/sim, 0..10 replicas\n")
		fmt.Fprintf(w, "(prescale = prescale-chain: the forecast load policy and DecideZero through decide.WithZero, at the chain's period and these labels).\n\n")
		fmt.Fprintf(w, "![%s window: load and replicas per policy](live_%s.png)\n\n", z.name, z.name)
		writeLiveTable(w, z.name, o.zeroNames, r)
		if z.name == "zero" {
			writeZeroBound(w, z.w, k, r)
		}
	}
	if r.zeroErr != nil {
		fmt.Fprintf(w, "**Zero-stage copies that failed** (left out of the tables above): %s\n\n", strings.ReplaceAll(r.zeroErr.Error(), "\n", "; "))
	}
}

// writeZeroBound states what the from-zero window's bar asks of any policy
// that knows only the function's past: the window's long gaps whose length no earlier gap announced (unannounced, within
// the pre-warm window at the speed) are met warm only by holding a replica
// through them; when that alone costs more than the 10-minute idler's
// whole run, a policy at the idler's cost meets one of them cold besides
// the first call (at zero, with no past), and ≥ 80 % fewer waits than the
// idler's is out of reach.
func writeZeroBound(w io.Writer, zw timedWindow, k zeroKnobs, r liveReport) {
	win := (k.lead.Seconds() + 2*k.timerTolerance()) * k.speed
	n, total := unannounced(zw.times, zw.long, win)
	hold := total / k.speed
	fmt.Fprintf(w, "**What the bar asks of this window.** %d of its %d idle gaps longer than %.1f trace minutes have a length that no earlier gap of the\n", n, zw.longGaps, zw.long/60)
	fmt.Fprintf(w, "function came within ±%.0f trace seconds of (the pre-warm window, lead + 2 × tolerance, at speed %g): no model of the function's past\n", win, k.speed)
	fmt.Fprintf(w, "expects their ends, so a policy meets them warm only by holding a replica through them — %.0f replica-seconds compressed for those\n", hold)
	var rs, waits []float64
	for _, x := range r.results {
		if x.window == "zero" && x.name == "keepalive-10m" {
			rs, waits = append(rs, x.live.ReplicaSeconds), append(waits, x.live.ColdWaits)
		}
	}
	if len(rs) == 0 {
		fmt.Fprintf(w, "gaps alone (the 10-minute idler did not run: no comparison).\n\n")
		return
	}
	idleRS, idleW := med(rs), med(waits)
	fmt.Fprintf(w, "gaps alone, against the 10-minute idler's %.0f for its whole run (median).", idleRS)
	if n >= 1 && hold > idleRS && idleW > 0 {
		fmt.Fprintf(w, "\nAt or below that cost a policy meets at least one of those ends cold besides the first call (every policy starts at zero with\n")
		fmt.Fprintf(w, "no past): at least 2 waits against the idler's %.0f, at most %.0f %% fewer, short of the bar's 80 %% for any\n", idleW, 100*(1-2/idleW))
		fmt.Fprintf(w, "policy that does not know the future (the simulator's oracle, which does, is the only one that can).\n\n")
		return
	}
	fmt.Fprintf(w, "\n\n")
}

// med is the median of xs (0 for none).
func med(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// writeLiveTable is one window's table.
func writeLiveTable(w io.Writer, window string, names []string, r liveReport) {
	fmt.Fprintf(w, "| policy | requests | non-200 | cold-start waits | wait p99 | p50 | p95 | p99 | replica-seconds | peak replicas | replica starts (p50 / p95) | sim: cold-start waits | sim: p99 | sim: replica-seconds | sim, measured starts: cold-start waits | sim, measured starts: replica-seconds |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range names {
		var req, bad, cold, wp99, p50, p95, p99, rs, pk, ns, s50, s95 []float64
		for _, x := range r.results {
			if x.name != n || x.window != window {
				continue
			}
			req = append(req, float64(x.sum.Scheduled))
			bad = append(bad, float64(x.sum.Completed-x.sum.Status[http.StatusOK]+x.sum.Failed))
			cold = append(cold, x.live.ColdWaits)
			wp99 = append(wp99, x.waitP99())
			p50 = append(p50, x.sum.Percentile(0.5))
			p95 = append(p95, x.sum.Percentile(0.95))
			p99 = append(p99, x.sum.Percentile(0.99))
			rs = append(rs, x.live.ReplicaSeconds)
			pk = append(pk, float64(x.live.PeakReplicas))
			ns = append(ns, x.starts.Count)
			if x.starts.Count > 0 {
				s50, s95 = append(s50, x.starts.Of(0.5)), append(s95, x.starts.Of(0.95))
			}
		}
		starts := spread(ns, "%.0f")
		if len(s50) > 0 {
			starts += " (" + spread(s50, "%.1fs") + " / " + spread(s95, "%.1fs") + ")"
		}
		simCols := "– | – | –"
		if m, ok := r.sims[window+"/"+n]; ok {
			simCols = fmt.Sprintf("%d | %.2fs | %.0f", m.ColdDelayed, m.Latency.Quantile(0.99), m.ReplicaSeconds)
		}
		simM := "– | –"
		if m, ok := r.simsMeasured[window+"/"+n]; ok {
			simM = fmt.Sprintf("%d | %.0f", m.ColdDelayed, m.ReplicaSeconds)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, spread(req, "%.0f"), spread(bad, "%.0f"), spread(cold, "%.0f"),
			spread(wp99, "%.2fs"), spread(p50, "%.2fs"), spread(p95, "%.2fs"), spread(p99, "%.2fs"), spread(rs, "%.0f"), spread(pk, "%.0f"), starts, simCols, simM)
	}
	fmt.Fprintln(w)
}

// spread is "median [min–max]", or the value alone when they agree.
func spread(xs []float64, f string) string {
	if len(xs) == 0 {
		return "–"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := med(s)
	if s[0] == s[len(s)-1] {
		return fmt.Sprintf(f, m)
	}
	return fmt.Sprintf(f+" ["+f+"–"+f+"]", m, s[0], s[len(s)-1])
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
				if err != nil {
					return fmt.Errorf("%s not ready within 3 minutes (last: %w)", n, err)
				}
				return fmt.Errorf("%s not ready within 3 minutes (last: %d desired, none available)", n, st.Replicas)
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

// waitZero waits until every named function has 0 desired and 0 available replicas.
func (g liveGateway) waitZero(ctx context.Context, names ...string) error {
	deadline := time.Now().Add(time.Minute)
	for _, n := range names {
		for {
			st, err := g.status(ctx, n)
			if err == nil && st.Replicas == 0 && st.AvailableReplicas == 0 {
				break
			}
			if time.Now().After(deadline) {
				if err != nil {
					return fmt.Errorf("%s not at zero replicas within a minute (last: %w)", n, err)
				}
				return fmt.Errorf("%s not at zero replicas within a minute (last: %d desired, %d available)", n, st.Replicas, st.AvailableReplicas)
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

// metrics is the gateway's /metrics text.
func (g liveGateway) metrics(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: HTTP %d: %w", res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: HTTP %d", res.StatusCode)
	}
	return b, nil
}

// update redeploys a function as `faas-cli deploy` would after edit, and
// returns once a replica of the new spec is ready and none of the old one
// serves (the desired replicas kept, at least 1).
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
	// The PUT is a rolling update: the old replica serves until a new one is
	// ready, and /system/function does not say which spec a ready replica
	// runs, so waiting for a ready replica would return at once, on the old
	// spec. Scaling to 0 takes every replica out of routing before the call
	// answers (runtime.Manager.Scale stops them under its lock); any replica
	// started after it, by the scale back up, the scaler or a scale from
	// zero, runs the new spec, and only such a replica can become ready.
	if err := g.scale(ctx, name, 0); err != nil {
		return fmt.Errorf("update %s: restart on the new spec: %w", name, err)
	}
	if err := g.scale(ctx, name, max(1, int(st.Replicas))); err != nil {
		return fmt.Errorf("update %s: restart on the new spec: %w", name, err)
	}
	return g.waitReady(ctx, name)
}

// scale posts a function's desired replicas.
func (g liveGateway) scale(ctx context.Context, name string, replicas int) error {
	code, err := g.do(ctx, http.MethodPost, "/system/scale-function/"+name, map[string]any{"serviceName": name, "replicas": replicas}, nil)
	if err != nil {
		return fmt.Errorf("scale %s to %d: %w", name, replicas, err)
	}
	if code/100 != 2 {
		return fmt.Errorf("scale %s to %d: HTTP %d", name, replicas, code)
	}
	return nil
}
