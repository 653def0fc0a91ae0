package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/state"
	"github.com/prescale/prescale/plugin"
)

// controlPrefix names bench-control's functions (ctl-0001, …).
const controlPrefix = "ctl-"

// Bounds of bench-control's flags.
const (
	maxControlFunctions = 1000
	minControlTicks     = 2
	maxControlTicks     = 120
	maxControlWarm      = 100
	defaultBatchSize    = chain.DefaultBatchSize // load-probe's default batch_size, for the report
)

type controlParams struct {
	stack, out string
	counts     []int
	ticks      int
	period     time.Duration
	warm       int // functions at one replica (the rest at zero)
	sleepMS    int
	batchSize  int // 0: load-probe's default
	prefill    int // idle samples of history stored per function before it is deployed
	seed       uint64
}

// parseControlFlags reads and validates bench-control's flags; every bad
// flag is reported with its allowed range, before anything starts.
func parseControlFlags(args []string, stderr io.Writer) (controlParams, error) {
	fs := flag.NewFlagSet("bench-control", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cp controlParams
	fs.StringVar(&cp.stack, "f", "stack.yml", "stack file")
	fs.StringVar(&cp.out, "out", "bench", "directory for control.md")
	fns := fs.String("functions", "10,100,500", "comma-separated counts of opted-in functions, one fresh platform each")
	fs.IntVar(&cp.ticks, "ticks", 12, "control periods measured per count")
	fs.DurationVar(&cp.period, "period", 5*time.Second, "load-probe's cron period (@every <period>)")
	fs.IntVar(&cp.warm, "warm", 10, "functions kept at one replica (com.openfaas.scale.min 1); the others are at zero")
	fs.IntVar(&cp.sleepMS, "sleep-ms", 10, "hello-python's sleep_ms for the functions (never invoked: they cost a watchdog process when warm)")
	fs.IntVar(&cp.batchSize, "batch-size", 0, "load-probe's batch_size (0: its default, 50)")
	fs.IntVar(&cp.prefill, "prefill", 120, "idle samples of history stored per function before it is deployed, so payloads have their steady-state size (load-probe's payload_history is 120)")
	fs.Uint64Var(&cp.seed, "seed", 1, "replica start seed")
	if err := fs.Parse(args); err != nil {
		return cp, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	for _, f := range strings.Split(*fns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxControlFunctions {
			errs = append(errs, fmt.Errorf("--functions %q: each count must be an integer in 1..%d", *fns, maxControlFunctions))
			break
		}
		cp.counts = append(cp.counts, n)
	}
	if cp.ticks < minControlTicks || cp.ticks > maxControlTicks {
		errs = append(errs, fmt.Errorf("--ticks %d: must be in %d..%d", cp.ticks, minControlTicks, maxControlTicks))
	}
	if cp.period < time.Second || cp.period > time.Minute {
		errs = append(errs, fmt.Errorf("--period %s: must be in 1s..1m", cp.period))
	}
	if cp.warm < 0 || cp.warm > maxControlWarm {
		errs = append(errs, fmt.Errorf("--warm %d: must be in 0..%d", cp.warm, maxControlWarm))
	}
	if cp.sleepMS < 0 || cp.sleepMS > 60000 {
		errs = append(errs, fmt.Errorf("--sleep-ms %d: must be in 0..60000", cp.sleepMS))
	}
	if cp.prefill < 0 || cp.prefill > 360 {
		errs = append(errs, fmt.Errorf("--prefill %d: must be in 0..360 (stack.yml's history_length)", cp.prefill))
	}
	if cp.batchSize < 0 || cp.batchSize > 500 {
		errs = append(errs, fmt.Errorf("--batch-size %d: must be in 0..500 (0: load-probe's default)", cp.batchSize))
	}
	return cp, errors.Join(errs...)
}

// runBenchControl is `prescale bench-control`: the chain's control plane
// at N opted-in functions. Per count a fresh plugin runs the stack with
// load-probe on `@every <period>`, hello-python opted out, and N copies of
// it opted in (--warm of them at one replica, the rest at zero, never
// invoked: the chain's own cost is what is measured). Once the chain has
// decided on every function, it measures --ticks periods: tick → decision
// latencies from the decision stream (observation time → the scaler's
// decision time, and → the decision's storing, which follows the scale
// call), ticks completed and their duration, CPU seconds of the plugin
// process and every process under it, the embedded NATS server's messages
// and the peak RSS. It writes <out>/control.md.
func runBenchControl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cp, err := parseControlFlags(args, stderr)
	if err != nil {
		return err
	}
	stackAbs, err := filepath.Abs(cp.stack)
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	cp.stack = stackAbs
	rep := controlReport{ticks: cp.ticks, period: cp.period, warm: cp.warm, batchSize: cp.batchSize, prefill: cp.prefill}
	if rep.batchSize == 0 {
		rep.batchSize = defaultBatchSize
	}
	for i, n := range cp.counts {
		fmt.Fprintf(stderr, "bench-control: %d/%d: %d functions, %d ticks of %s\n", i+1, len(cp.counts), n, cp.ticks, cp.period)
		r, err := controlRun(ctx, cp, n, stderr)
		if err != nil {
			return fmt.Errorf("%d functions: %w", n, err)
		}
		fmt.Fprintf(stderr, "  %d functions: %d/%d ticks, period %.2fs, tick→decision p50 %s p99 %s, max tick %s, %.2f ms CPU per function-tick, %.0f NATS msgs per tick\n",
			n, r.ticksSeen, r.expected, r.meanPeriod.Seconds(), ms(r.decide.p50), ms(r.decide.p99), ms(r.maxTick), r.cpuPerFnTick*1000, r.natsIn+r.natsOut)
		rep.results = append(rep.results, r)
	}
	var md bytes.Buffer
	writeControlReport(&md, rep)
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := os.MkdirAll(cp.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return os.WriteFile(filepath.Join(cp.out, "control.md"), md.Bytes(), 0o644)
}

// quantiles are a latency sample's p50, p99 and max.
type quantiles struct{ p50, p99, max time.Duration }

func quantilesOf(ds []time.Duration) quantiles {
	if len(ds) == 0 {
		return quantiles{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)] }
	return quantiles{p50: at(0.5), p99: at(0.99), max: s[len(s)-1]}
}

// controlResult is one count's measurement.
type controlResult struct {
	n                   int
	ticksSeen, expected int
	meanPeriod          time.Duration // between consecutive observed ticks
	minCoverage         float64       // least share of the n functions decided in one tick
	maxTick             time.Duration // observation → the tick's last decision stored
	decide, stored      quantiles     // observation → decided, → stored (after the scale call)
	decisions, scales   int
	cpuSeconds          float64
	cpuRoles            map[string]float64 // CPU seconds by process role (procTree)
	cpuPerFnTick        float64            // seconds
	natsIn, natsOut     float64            // messages per tick
	calls               float64            // predictor calls (async requests) per tick
	peakRSS             int64              // bytes, the plugin and every process under it
}

// held: every expected tick came, each decided on (nearly) every function,
// within the period, with tick → stored p99 under a second.
func (r controlResult) held() bool {
	return r.ticksSeen >= r.expected-1 && r.minCoverage >= 0.99 && r.stored.p99 < time.Second && r.maxTick < r.meanPeriod
}

// decisionRec is one decision of the window: its tick and latencies.
type decisionRec struct {
	tick            time.Time
	decided, stored time.Duration
	scaled          bool
}

// summarize folds a window's decisions (of n functions, over ticks
// periods) into a result.
func summarize(n, ticks int, recs []decisionRec) controlResult {
	r := controlResult{n: n, expected: ticks, decisions: len(recs)}
	byTick := map[time.Time][]decisionRec{}
	var dec, sto []time.Duration
	for _, d := range recs {
		byTick[d.tick] = append(byTick[d.tick], d)
		dec, sto = append(dec, d.decided), append(sto, d.stored)
		if d.scaled {
			r.scales++
		}
	}
	r.decide, r.stored = quantilesOf(dec), quantilesOf(sto)
	var times []time.Time
	r.minCoverage = 1
	for t, ds := range byTick {
		times = append(times, t)
		r.minCoverage = math.Min(r.minCoverage, float64(len(ds))/float64(n))
		for _, d := range ds {
			r.maxTick = max(r.maxTick, d.stored)
		}
	}
	if len(times) == 0 {
		r.minCoverage = 0
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	r.ticksSeen = len(times)
	if len(times) > 1 {
		r.meanPeriod = times[len(times)-1].Sub(times[0]) / time.Duration(len(times)-1)
	}
	return r
}

func controlRun(ctx context.Context, cp controlParams, n int, log io.Writer) (controlResult, error) {
	if err := setenvAll(map[string]string{"PRESCALE_SCHEDULE": "@every " + cp.period.String(),
		"PRESCALE_FORECAST_ONLY": "false", "PRESCALE_SCALER_MODE": "predictive"}); err != nil {
		return controlResult{}, err
	}
	p, gw, stop, err := startBenchPlatform(ctx, "prescale-bench-control-", cp.stack, cp.seed)
	if err != nil {
		return controlResult{}, err
	}
	defer stop()
	if err := gw.update(ctx, "hello-python", func(fd *types.FunctionDeployment) { (*fd.Labels)[decide.LabelEnabled] = "false" }); err != nil {
		return controlResult{}, err
	}
	if cp.batchSize > 0 {
		if err := gw.update(ctx, "load-probe", func(fd *types.FunctionDeployment) { fd.EnvVars["batch_size"] = strconv.Itoa(cp.batchSize) }); err != nil {
			return controlResult{}, err
		}
	}
	tmpl, err := gw.status(ctx, "hello-python")
	if err != nil {
		return controlResult{}, err
	}
	store, snc, err := state.Connect(ctx, p.NATSURL(), state.DefaultConfig())
	if err != nil {
		return controlResult{}, err
	}
	defer snc.Close()
	var names, warm []string
	for i := range n {
		name := fmt.Sprintf("%s%04d", controlPrefix, i+1)
		names = append(names, name)
		minReplicas := "0"
		if i < cp.warm {
			minReplicas = "1"
			warm = append(warm, name)
		}
		// The history first: a function's first observation comes after it.
		if err := prefillHistory(ctx, store, name, cp.prefill, i < cp.warm, cp.period); err != nil {
			return controlResult{}, err
		}
		fd := types.FunctionDeployment{Service: name, Image: tmpl.Image, EnvProcess: tmpl.EnvProcess,
			EnvVars: map[string]string{"sleep_ms": strconv.Itoa(cp.sleepMS), "cpu_ms": "0", "max_inflight": "1"},
			Labels: &map[string]string{decide.LabelEnabled: "true", "com.openfaas.scale.min": minReplicas, "com.openfaas.scale.max": "2",
				decide.LabelTargetConcurrency: "1"},
			Annotations: &map[string]string{}}
		if err := gw.deploy(ctx, fd); err != nil {
			return controlResult{}, err
		}
	}
	if err := gw.waitReady(ctx, append(warm, "load-probe")...); err != nil {
		return controlResult{}, err
	}
	nc, err := nats.Connect(p.NATSURL())
	if err != nil {
		return controlResult{}, fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	fmt.Fprintf(log, "  %d functions deployed (%d warm); waiting for a decision on each\n", n, len(warm))
	if err := waitCovered(ctx, nc, names, 4*cp.period+time.Minute); errors.Is(err, errNotCovered) {
		// Measured anyway: the report's coverage says how far the chain got.
		fmt.Fprintf(log, "  warning: %v; measuring anyway\n", err)
	} else if err != nil {
		return controlResult{}, err
	}

	pid := os.Getpid()
	tree0, err := procTree(pid)
	if err != nil {
		return controlResult{}, err
	}
	cpu0, _ := treeTotals(tree0)
	tr0, err := p.NATSTraffic()
	if err != nil {
		return controlResult{}, err
	}
	calls0 := asyncQueued(p)
	t0 := time.Now()
	peak := int64(0)
	tick := time.NewTicker(time.Second)
	end := t0.Add(time.Duration(cp.ticks) * cp.period)
	fmt.Fprintf(log, "  measuring %d ticks (%s)\n", cp.ticks, end.Sub(t0).Round(time.Second))
	for now := t0; now.Before(end); {
		select {
		case <-ctx.Done():
			tick.Stop()
			return controlResult{}, ctx.Err()
		case now = <-tick.C:
		}
		if t, err := procTree(pid); err == nil {
			_, rss := treeTotals(t)
			peak = max(peak, rss)
		}
	}
	tick.Stop()
	t1 := time.Now()
	tree1, err := procTree(pid)
	if err != nil {
		return controlResult{}, err
	}
	cpu1, rss := treeTotals(tree1)
	peak = max(peak, rss)
	tr1, err := p.NATSTraffic()
	if err != nil {
		return controlResult{}, err
	}
	calls1 := asyncQueued(p)
	// The window's last ticks finish after it: wait for them.
	select {
	case <-ctx.Done():
		return controlResult{}, ctx.Err()
	case <-time.After(min(2*cp.period, 15*time.Second)):
	}
	var recs []decisionRec
	err = state.ReadStoredDecisions(ctx, nc, state.DefaultConfig().DecisionStream, func(d decide.Decision, at time.Time) error {
		obs := d.Observed.At
		if !strings.HasPrefix(d.Function, controlPrefix) || obs.Before(t0) || !obs.Before(t1) {
			return nil
		}
		recs = append(recs, decisionRec{tick: obs.UTC(), decided: d.At.Sub(obs), stored: at.Sub(obs), scaled: d.Applied})
		return nil
	})
	if err != nil {
		return controlResult{}, err
	}
	r := summarize(n, int(t1.Sub(t0)/cp.period), recs)
	ticks := float64(max(r.ticksSeen, 1))
	r.cpuSeconds = cpu1 - cpu0
	r.cpuRoles = cpuByRole(tree0, tree1)
	r.cpuPerFnTick = r.cpuSeconds / (float64(n) * ticks)
	r.natsIn, r.natsOut = float64(tr1.InMsgs-tr0.InMsgs)/ticks, float64(tr1.OutMsgs-tr0.OutMsgs)/ticks
	r.calls = (calls1 - calls0) / ticks
	r.peakRSS = peak
	return r, nil
}

// prefillHistory stores k idle samples for fn, one per period up to now:
// what a function deployed long ago and never invoked has.
func prefillHistory(ctx context.Context, store *state.Store, fn string, k int, warm bool, period time.Duration) error {
	if k == 0 {
		return nil
	}
	replicas := 0
	if warm {
		replicas = 1
	}
	if _, err := store.AppendHistory(ctx, fn, idleSamples(fn, k, replicas, period, time.Now().UTC())...); err != nil {
		return fmt.Errorf("prefill history of %s: %w", fn, err)
	}
	return nil
}

// idleSamples are k samples of fn at replicas with no calls, one per
// period up to now.
func idleSamples(fn string, k, replicas int, period time.Duration, now time.Time) []decide.Sample {
	samples := make([]decide.Sample, k)
	for i := range samples {
		samples[i] = decide.Sample{Function: fn, At: now.Add(-time.Duration(k-i) * period), Interval: period.Seconds(),
			Replicas: replicas, AvailableReplicas: replicas}
	}
	return samples
}

// controlBatchMaxBytes is load-probe's default batch_max_bytes.
const controlBatchMaxBytes = chain.DefaultBatchMaxBytes

// idlePayloadBytes is the JSON size of the payload load-probe sends for a
// function at zero with k idle samples of history (its name as the
// benchmark names them).
func idlePayloadBytes(k int, period time.Duration) int {
	fn := fmt.Sprintf("%s%04d", controlPrefix, 1)
	now := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	b, err := json.Marshal(chain.ProbePayload{Function: fn, At: now, Source: "gateway", History: idleSamples(fn, k, 0, period, now)})
	if err != nil {
		return 0
	}
	return len(b)
}

// setenvAll sets the variables (the stack's ${PRESCALE_…} substitutions).
func setenvAll(env map[string]string) error {
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("setenv %s: %w", k, err)
		}
	}
	return nil
}

// errNotCovered: the chain did not decide on every function in time.
var errNotCovered = errors.New("the chain has not reached every function")

// waitCovered waits until the decision stream holds a decision on every
// one of names (the chain has reached them all), for at most limit.
func waitCovered(ctx context.Context, nc *nats.Conn, names []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for {
		err := state.ReadStoredDecisions(ctx, nc, state.DefaultConfig().DecisionStream, func(d decide.Decision, _ time.Time) error {
			delete(want, d.Function)
			return nil
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
		if len(want) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d of %d functions have no decision within %s", errNotCovered, len(want), len(names), limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// asyncQueued is the async requests the plugin's queue has accepted
// (prescale_async_queued_total over every function: load-probe's
// predictor calls).
func asyncQueued(p *plugin.Platform) float64 {
	mfs, err := p.Registry().Gather()
	if err != nil {
		return math.NaN()
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "prescale_async_queued_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times (100 on
// every Linux architecture Go supports).
const clockTicks = 100

// procSample is one process of the tree under the plugin.
type procSample struct {
	ticks, pages int64
	role         string // the function whose replica it is (or a child of), "watchdog", "plugin"
}

// procTree reads root and every process under it from /proc: CPU ticks
// (utime+stime, plus cutime+cstime: its waited-for children's), resident
// pages and role. A process is labelled by its command: a built function's
// <build>/<function>/handler, `prescale watchdog` (a fork-mode replica);
// any other inherits its parent's role; root is "plugin".
func procTree(root int) (map[int]procSample, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("/proc: %w", err)
	}
	type proc struct {
		ppid         int
		ticks, pages int64
	}
	procs := map[int]proc{}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		ppid, ticks, pages, ok := parseStat(string(b))
		if !ok {
			continue
		}
		procs[pid] = proc{ppid, ticks, pages}
		children[ppid] = append(children[ppid], pid)
	}
	if _, ok := procs[root]; !ok {
		return nil, fmt.Errorf("/proc/%d/stat: not readable", root)
	}
	out := map[int]procSample{}
	type item struct {
		pid  int
		role string
	}
	for stack := []item{{root, "plugin"}}; len(stack) > 0; {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.pid != root {
			if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(it.pid), "cmdline")); err == nil {
				if r := processRole(strings.Split(string(b), "\x00")); r != "" {
					it.role = r
				}
			}
		}
		pr := procs[it.pid]
		out[it.pid] = procSample{ticks: pr.ticks, pages: pr.pages, role: it.role}
		for _, c := range children[it.pid] {
			stack = append(stack, item{c, it.role})
		}
	}
	return out, nil
}

// processRole names a process by its argv ("" = its parent's role).
func processRole(argv []string) string {
	switch {
	case len(argv) == 0:
		return ""
	case filepath.Base(argv[0]) == "handler":
		return filepath.Base(filepath.Dir(argv[0]))
	case len(argv) > 1 && argv[1] == "watchdog":
		return "watchdog"
	}
	return ""
}

// treeTotals is a tree's CPU seconds and resident bytes.
func treeTotals(t map[int]procSample) (cpu float64, rss int64) {
	var ticks, pages int64
	for _, p := range t {
		ticks += p.ticks
		pages += p.pages
	}
	return float64(ticks) / clockTicks, pages * int64(os.Getpagesize())
}

// cpuByRole is the CPU seconds each role used from before to after (a
// process only in after counts whole; one gone meanwhile is lost unless
// its parent reaped it).
func cpuByRole(before, after map[int]procSample) map[string]float64 {
	out := map[string]float64{}
	for pid, a := range after {
		d := a.ticks
		if b, ok := before[pid]; ok && b.role == a.role && b.ticks <= a.ticks {
			d -= b.ticks
		}
		out[a.role] += float64(d) / clockTicks
	}
	return out
}

// parseStat reads ppid, utime+stime+cutime+cstime and rss (pages) from a
// /proc/<pid>/stat line; the command name may hold spaces and parentheses,
// so the fields are counted from its last ')'.
func parseStat(s string) (ppid int, ticks, rss int64, ok bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): field k is f[k-3].
	if len(f) < 22 {
		return 0, 0, 0, false
	}
	num := func(k int) int64 {
		v, err := strconv.ParseInt(f[k-3], 10, 64)
		if err != nil {
			ok = false
		}
		return v
	}
	ok = true
	ppid = int(num(4))
	ticks = num(14) + num(15) + num(16) + num(17)
	rss = num(24)
	return ppid, ticks, rss, ok
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

type controlReport struct {
	ticks, warm, batchSize, prefill int
	period                          time.Duration
	results                         []controlResult
}

// writeControlReport is control.md: the table, then what limits it.
func writeControlReport(w io.Writer, r controlReport) {
	fmt.Fprintf(w, "## Control-plane scale: the chain at N opted-in functions\n\n")
	fmt.Fprintf(w, "`prescale bench-control`: per N a fresh plugin runs stack.yml with load-probe on `@every %s`, hello-python opted out and N copies\n", r.period)
	fmt.Fprintf(w, "of it opted in (%d at one replica, the rest at zero; never invoked, so the chain's own cost is what is measured). load-probe\n", r.warm)
	fmt.Fprintf(w, "observes them 8 at once and sends one signed batch of at most %d functions per predictor call; the scaler reads each of a batch's\n", r.batchSize)
	fmt.Fprintf(w, "functions from the gateway (a batch of %d or more lists the namespace once; load-probe's batch_max_bytes, %d, also bounds a batch). Each function's history is pre-filled with %d idle\n", chain.ListMin, controlBatchMaxBytes, r.prefill)
	fmt.Fprintf(w, "samples before it is deployed, so payloads have the size they have on a platform that has run for a while. After the chain\n")
	fmt.Fprintf(w, "has decided on every function, %d ticks are measured. *tick → decided*: the\n", r.ticks)
	fmt.Fprintf(w, "observation time (load-probe's run) to the scaler's decision time; *→ stored*: to the decision's storing in PRESCALE_DECISIONS,\n")
	fmt.Fprintf(w, "which follows the scale call when one is made (an upper bound of tick → scale). *ticks*: ticks with decisions / periods in the\n")
	fmt.Fprintf(w, "window; *coverage*: the least share of the N functions decided in one tick; *max tick*: observation to a tick's last stored\n")
	fmt.Fprintf(w, "decision. CPU: utime+stime (+ reaped children's) of the plugin process and every process under it, per function and tick.\n")
	fmt.Fprintf(w, "NATS: the embedded server's messages in + out (KV, JetStream API and acks, the async queue, the decision stream) per tick.\n")
	fmt.Fprintf(w, "RSS: the plugin and every process under it, sampled every second.\n\n")
	fmt.Fprintf(w, "| functions | ticks | period | coverage | tick → decided p50 / p99 | tick → stored p50 / p99 | max tick | scale calls | predictor calls / tick (functions / call) | CPU ms / function-tick | NATS msgs / tick (in + out) | NATS msgs / function-tick | peak RSS | holds 5 s? |\n")
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, x := range r.results {
		held := "yes"
		if !x.held() {
			held = "**no**"
		}
		nats := x.natsIn + x.natsOut
		perCall := "–"
		if x.calls > 0 {
			perCall = fmt.Sprintf("%.1f", float64(x.decisions)/float64(max(x.ticksSeen, 1))/x.calls)
		}
		fmt.Fprintf(w, "| %d | %d/%d | %.2f s | %.0f %% | %s / %s | %s / %s | %s | %d | %.1f (%s) | %.2f | %.0f + %.0f | %.1f | %.0f MiB | %s |\n",
			x.n, x.ticksSeen, x.expected, x.meanPeriod.Seconds(), 100*x.minCoverage, ms(x.decide.p50), ms(x.decide.p99),
			ms(x.stored.p50), ms(x.stored.p99), ms(x.maxTick), x.scales, x.calls, perCall, 1000*x.cpuPerFnTick,
			x.natsIn, x.natsOut, nats/float64(x.n), float64(x.peakRSS)/(1<<20), held)
	}
	fmt.Fprintln(w)
	for _, x := range r.results {
		if len(x.cpuRoles) > 0 {
			fmt.Fprintf(w, "CPU at %d functions, by process: %s.\n", x.n, roleSplit(x.cpuRoles))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, controlParagraph(r))
}

// roleSplit is "plugin 1.20 s (60 %), load-probe …", largest first.
func roleSplit(roles map[string]float64) string {
	names, total := rolesByCPU(roles)
	var parts []string
	for _, k := range names {
		share := 0.0
		if total > 0 {
			share = 100 * roles[k] / total
		}
		parts = append(parts, fmt.Sprintf("%s %.2f s (%.0f %%)", k, roles[k], share))
	}
	return strings.Join(parts, ", ")
}

// rolesByCPU is the roles, largest first (ties by name), and their total
// summed in that order (a map's order would change the float sum).
func rolesByCPU(roles map[string]float64) ([]string, float64) {
	var names []string
	for k := range roles {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if roles[names[i]] != roles[names[j]] {
			return roles[names[i]] > roles[names[j]]
		}
		return names[i] < names[j]
	})
	total := 0.0
	for _, k := range names {
		total += roles[k]
	}
	return names, total
}

// controlParagraph says, from the figures, which counts hold and what the
// cost grows with.
func controlParagraph(r controlReport) string {
	if len(r.results) == 0 {
		return "No count was measured."
	}
	var held, failed []string
	for _, x := range r.results {
		if x.held() {
			held = append(held, strconv.Itoa(x.n))
		} else {
			failed = append(failed, strconv.Itoa(x.n))
		}
	}
	var b strings.Builder
	switch {
	case len(failed) == 0:
		fmt.Fprintf(&b, "**What limits it.** Every count held its period (%s functions): all ticks came, each decided on every function, tick → stored p99 under 1 s. ", strings.Join(held, ", "))
	case len(held) == 0:
		fmt.Fprintf(&b, "**What limits it.** No count held its period (%s functions). ", strings.Join(failed, ", "))
	default:
		fmt.Fprintf(&b, "**What limits it.** The period held at %s functions and not at %s. ", strings.Join(held, ", "), strings.Join(failed, ", "))
	}
	first, last := r.results[0], r.results[len(r.results)-1]
	fmt.Fprintf(&b, "The chain's work is per function, not per call: per function and tick load-probe makes four KV round trips (counters and history, each a read and a compare-and-set) ")
	fmt.Fprintf(&b, "and the scaler two (policy state) plus a decision append, while the async call, the predictor invocation and the callback are per batch (%.1f per tick at %d functions). ", last.calls, last.n)
	if len(r.results) > 1 {
		fmt.Fprintf(&b, "From %d to %d functions the NATS messages per function-tick went from %.1f to %.1f and the CPU per function-tick from %.2f to %.2f ms",
			first.n, last.n, (first.natsIn+first.natsOut)/float64(first.n), (last.natsIn+last.natsOut)/float64(last.n), 1000*first.cpuPerFnTick, 1000*last.cpuPerFnTick)
		switch {
		case last.cpuPerFnTick < 0.9*first.cpuPerFnTick:
			b.WriteString(" (the fixed cost — the platform, the warm replicas, the per-batch calls — spreads over more functions). ")
		case last.cpuPerFnTick > 1.1*first.cpuPerFnTick:
			b.WriteString(" (the per-function cost grows with the count: contention for the 2 cores and NATS). ")
		default:
			b.WriteString(" (the cost is per function: it grows linearly with the count). ")
		}
	}
	fmt.Fprintf(&b, "At %d functions one tick costs %.2f CPU-seconds of the %.0f that the machine's 2 cores have per period (%.0f %%), and the longest tick took %s of the %s period. ",
		last.n, last.cpuSeconds/float64(max(last.ticksSeen, 1)), 2*r.period.Seconds(),
		100*last.cpuSeconds/float64(max(last.ticksSeen, 1))/(2*r.period.Seconds()), ms(last.maxTick), r.period)
	if len(last.cpuRoles) > 0 {
		names, total := rolesByCPU(last.cpuRoles)
		if total > 0 {
			fmt.Fprintf(&b, "The largest CPU user at %d functions was %s (%.0f %%; \"plugin\" is the gateway, the embedded NATS server, the async queue and cron). ",
				last.n, names[0], 100*last.cpuRoles[names[0]]/total)
		}
	}
	if r.prefill >= 100 {
		n := idlePayloadBytes(r.prefill, r.period)
		fmt.Fprintf(&b, "With %d samples of history an idle function's payload is %.1f kB, so load-probe's batch_max_bytes (%d, under the async queue's 256,000-byte limit) sets a batch at ~%d functions",
			r.prefill, float64(n)/1000, controlBatchMaxBytes, controlBatchMaxBytes/max(n, 1))
		if controlBatchMaxBytes/max(n, 1) < r.batchSize {
			fmt.Fprintf(&b, ", not batch_size %d: the history each payload carries, not the number of calls, is what a larger batch needs (the predictor reading history from KV, or a smaller payload_history).", r.batchSize)
		} else {
			b.WriteString(".")
		}
	} else {
		n := idlePayloadBytes(120, r.period)
		fmt.Fprintf(&b, "Histories were pre-filled with only %d samples: at the default payload_history of 120 an idle function's payload is %.1f kB and batch_max_bytes caps a batch at ~%d functions.", r.prefill, float64(n)/1000, controlBatchMaxBytes/max(n, 1))
	}
	return b.String()
}
