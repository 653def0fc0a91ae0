package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/internal/autoscaler"
	"github.com/prescale/prescale/internal/dist"
	"github.com/prescale/prescale/internal/live"
	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/pkg/decide"
)

// The zero-mode policies of the periodic and scale-from-zero windows, in
// report order: prescale is the function chain with com.openfaas.scale.zero
// on; the others are internal/autoscaler's zero-regime policies driven by
// internal/live, every time constant of theirs compressed by the windows'
// speed (a 10-minute keep-alive lasts 600/speed s).
func defaultZeroPolicies() []string {
	return []string{"prescale", "keepalive-5m", "keepalive-10m", "kpa", "hybrid"}
}

// zeroKnobs are the zero windows' settings, shared by the live runs and
// the simulator.
type zeroKnobs struct {
	speed  float64       // time compression of the zero windows
	period int           // seconds between the chain's ticks (its schedule) and the zero controllers' checks
	lead   time.Duration // pre-warm lead (not compressed; see the --prewarm-lead flag)
}

// zeroSettings are prescale's scale-to-zero labels compressed by speed:
// W = 600 s / speed, the arrival model's unit one compressed trace minute,
// the keep-alive until confident the default 4 × W.
func (k zeroKnobs) zeroSettings() decide.ZeroSettings {
	s := decide.DefaultZeroSettings()
	s.Enabled = true
	s.ColdStartCost = time.Duration(float64(decide.DefaultColdStartCost) / k.speed)
	s.Resolution = time.Duration(float64(time.Minute) / k.speed)
	s.PrewarmLead = k.lead
	return s
}

// minTimerPeriod is the shortest compressed period the periodic window's
// rule accepts: room for a release and a pre-warm between two calls — the
// call (service seconds), the release up to two control periods after it,
// and the pre-warm window (the lead plus the tolerance either side of the
// expected call, timerTolerance).
func (k zeroKnobs) minTimerPeriod(service float64) float64 {
	return service + 2*float64(k.period) + k.lead.Seconds() + 2*k.timerTolerance()
}

// timerTolerance is the window's half-width around an expected timer call
// (decide.ArrivalState.Tolerance) for calls counted per control period and
// no jitter beyond it: 1.5 s at a 2 s period.
func (k zeroKnobs) timerTolerance() float64 {
	st := decide.ArrivalState{Quantum: float64(k.period)}
	return st.Tolerance().Seconds()
}

// stabilization is the chain's 300 s scale-down stabilization window
// compressed by speed (at least one period).
func (k zeroKnobs) stabilization() time.Duration {
	return max(time.Duration(k.period)*time.Second, time.Duration(float64(300*time.Second)/k.speed).Round(time.Second))
}

// horizon is the predictor's 30 s horizon compressed by speed; the
// predictor forecasts at least two periods ahead (decide.EffectiveHorizon).
func (k zeroKnobs) horizon() time.Duration {
	return max(2*time.Duration(k.period)*time.Second, time.Duration(float64(30*time.Second)/k.speed).Round(time.Second))
}

// labels are the chain's copy's labels for zeroSettings and the
// compressed stabilization window.
func (k zeroKnobs) labels() map[string]string {
	s := k.zeroSettings()
	return map[string]string{
		decide.LabelZero:              "true",
		decide.LabelColdStartCost:     s.ColdStartCost.String(),
		decide.LabelArrivalResolution: s.Resolution.String(),
		decide.LabelPrewarmLead:       s.PrewarmLead.String(),
		decide.LabelStabilization:     k.stabilization().String(),
	}
}

// load is the shared load layer of the keep-alive and hybrid policies in
// the zero windows: one request in flight per replica (the chain's
// prescale.target-concurrency 1 on this workload) and its 60 s
// stabilization compressed (at least one period).
func (k zeroKnobs) load() autoscaler.LoadLayer {
	return autoscaler.LoadLayer{Target: 1, Stabilization: max(k.period, int(math.Round(60/k.speed)))}
}

// zeroPolicy is a zero-mode policy compressed by k.speed: keep-alives of 5
// and 10 trace minutes; Knative's KPA with its 60 s stable window and 30 s
// grace compressed (the stable window no shorter than the KPA's 6 s
// minimum); the hybrid histogram with one-minute bins and its 4-hour range
// compressed and prescale's pre-warm lead; and (simulator only) prescale as
// the chain runs it, at the chain's period with k's labels.
func zeroPolicy(name string, k zeroKnobs) (sim.Policy, error) {
	switch name {
	case "keepalive-5m", "keepalive-10m":
		m := map[string]float64{"keepalive-5m": 5, "keepalive-10m": 10}[name]
		return autoscaler.KeepAlive{Duration: m * 60 / k.speed, Label: name, Period: k.period, Load: k.load()}, nil
	case "kpa":
		c := autoscaler.DefaultKPA()
		c.StableWindow = max(6, int(math.Round(float64(c.StableWindow)/k.speed)))
		return autoscaler.KPAZero{Config: c, Grace: max(1, int(math.Round(30/k.speed))), Label: name}, nil
	case "hybrid":
		c := autoscaler.DefaultHybrid()
		c.BinWidth, c.Range, c.Lead = c.BinWidth/k.speed, c.Range/k.speed, k.lead.Seconds()
		return autoscaler.Hybrid{Config: c, Label: name, Period: k.period, Load: k.load()}, nil
	case "prescale":
		c := autoscaler.DefaultPrescale()
		c.Period = k.period
		c.TargetUtilization = 1 // the copies' prescale.target-concurrency: 1
		c.Stabilization = k.stabilization()
		c.Horizon = k.horizon()
		p := autoscaler.NewPrescaleChain(c)
		p.Zero, p.Label = k.zeroSettings(), name
		return p, nil
	}
	return nil, fmt.Errorf("%q is not a zero-mode policy (allowed: %s)", name, strings.Join(defaultZeroPolicies(), ", "))
}

// zeroWin is one zero window as run: its name (periodic, zero) and calls.
type zeroWin struct {
	name string
	w    timedWindow
}

type zeroParams struct {
	stack, delay string
	horizon      time.Duration
	knobs        zeroKnobs
	sleepMS      int
	service      float64
	seed         uint64
	windows      []zeroWin
	policies     []string
	repeats      int
	stagger      time.Duration // between the copies' starts
	log          io.Writer
}

// zeroCopy is one function copy of the zero stage: a policy on a window,
// one repeat.
type zeroCopy struct {
	fn, window, policy string
	repeat             int
	w                  timedWindow
	offset             time.Duration
}

// zeroCopies lays out the stage: every repeat × window × policy, each its
// own copy of hello-python, started stagger after the one before (so the
// copies' identical arrivals do not coincide on the 2 cores).
func zeroCopies(zp zeroParams) []zeroCopy {
	var out []zeroCopy
	for r := 1; r <= zp.repeats; r++ {
		for _, w := range zp.windows {
			for _, p := range zp.policies {
				out = append(out, zeroCopy{fn: fmt.Sprintf("z%d-%s-%s", r, w.name, p), window: w.name, policy: p, repeat: r, w: w.w,
					offset: time.Duration(len(out)) * zp.stagger})
			}
		}
	}
	return out
}

// zeroStageSeconds is how long the stage's replays last (the last copy's
// start plus its window).
func zeroStageSeconds(zp zeroParams) float64 {
	t := 0.0
	for _, c := range zeroCopies(zp) {
		t = math.Max(t, c.offset.Seconds()+c.w.span/zp.knobs.speed)
	}
	return t
}

// runZeroStage runs every copy side by side on one fresh platform: the
// chain at the zero schedule for the prescale copies (prescale.enabled and
// the zero labels), internal/live for the others (prescale.enabled=false);
// every copy has com.openfaas.scale.zero=true and com.openfaas.scale.min=0
// and starts at zero replicas.
func runZeroStage(ctx context.Context, zp zeroParams) ([]liveResult, error) {
	sched := fmt.Sprintf("@every %ds", zp.knobs.period)
	if err := setenvAll(map[string]string{"PRESCALE_SCHEDULE": sched, "PRESCALE_HORIZON": zp.knobs.horizon().String(),
		"PRESCALE_FORECAST_ONLY": "false", "PRESCALE_SCALER_MODE": "predictive"}); err != nil {
		return nil, err
	}
	p, gw, stop, err := startBenchPlatform(ctx, "prescale-bench-zero-", zp.stack, zp.seed)
	if err != nil {
		return nil, err
	}
	defer stop()
	base, err := gw.status(ctx, "hello-python")
	if err != nil {
		return nil, err
	}
	copies := zeroCopies(zp)
	const maxReplicas = 10
	for _, c := range copies {
		env := map[string]string{}
		for k, v := range base.EnvVars {
			env[k] = v
		}
		env["sleep_ms"], env["cpu_ms"], env["max_inflight"] = strconv.Itoa(zp.sleepMS), "0", "1"
		labels := map[string]string{}
		if base.Labels != nil {
			for k, v := range *base.Labels {
				labels[k] = v
			}
		}
		labels["com.openfaas.scale.max"] = strconv.Itoa(maxReplicas)
		labels["com.openfaas.scale.min"] = "0"
		labels[decide.LabelZero] = "true"
		labels[decide.LabelTargetConcurrency] = "1"
		labels["prescale.enabled"] = strconv.FormatBool(c.policy == "prescale")
		if c.policy == "prescale" {
			for k, v := range zp.knobs.labels() {
				labels[k] = v
			}
		}
		ann := map[string]string{"prescale.startup-delay": zp.delay}
		fd := types.FunctionDeployment{Service: c.fn, Image: base.Image, EnvProcess: base.EnvProcess, EnvVars: env,
			Labels: &labels, Annotations: &ann}
		code, err := gw.do(ctx, http.MethodPost, "/system/functions", fd, nil)
		if err != nil {
			return nil, err
		}
		if code/100 != 2 {
			return nil, fmt.Errorf("deploy %s: HTTP %d", c.fn, code)
		}
	}
	names := make([]string, len(copies))
	for i, c := range copies {
		names[i] = c.fn
	}
	// com.openfaas.scale.min=0 deploys at zero replicas; the scale call
	// makes sure of it. Every policy starts at zero.
	for _, n := range names {
		if err := gw.scale(ctx, n, 0); err != nil {
			return nil, err
		}
	}
	if err := gw.waitZero(ctx, names...); err != nil {
		return nil, err
	}
	cold, _ := dist.ParseDelay(zp.delay, 10*time.Minute)
	results := make([]liveResult, len(copies))
	errs := make([]error, len(copies))
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range copies {
		var ctl sim.Controller
		if c.policy != "prescale" {
			pol, err := zeroPolicy(c.policy, zp.knobs)
			if err != nil {
				return nil, err
			}
			ctl = pol.NewController(sim.FunctionInfo{Name: c.fn, Concurrency: 1, MeanService: zp.service, Min: 0, Max: maxReplicas, ColdStartMax: cold.Max()})
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			case <-time.After(time.Until(start.Add(c.offset))):
			}
			dur := time.Duration((c.w.span/zp.knobs.speed + runTail) * float64(time.Second))
			obs := &live.HTTPGateway{URL: p.URL(), User: p.User(), Pass: p.Password(), Concurrency: 1}
			lc := make(chan liveOut, 1)
			go func() {
				h, err := live.Run(ctx, obs, ctl, live.Config{Function: c.fn, Duration: dur, Min: 0, Max: maxReplicas})
				lc <- liveOut{h, err}
			}()
			sum, rerr := replay.Run(ctx, replay.Config{Gateway: p.URL(), Function: c.fn, Counts: perMinute(c.w.times, c.w.span),
				Times: c.w.times, Speed: zp.knobs.speed, Seed: zp.seed})
			lo := <-lc
			switch {
			case rerr != nil:
				errs[i] = fmt.Errorf("%s: %w", c.fn, rerr)
			case lo.err != nil:
				errs[i] = fmt.Errorf("%s: %w", c.fn, lo.err)
			default:
				results[i] = liveResult{name: c.policy, window: c.window, sum: sum, live: live.Summarize(lo.h), history: lo.h}
			}
		}()
	}
	done := make(chan struct{})
	go func() { // progress while the copies run
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(zp.log, "  zero stage: %s of ~%.0fs\n", time.Since(start).Round(time.Second), zeroStageSeconds(zp)+runTail)
			}
		}
	}()
	wg.Wait()
	close(done)
	// A copy that failed (an observation error ends its run) is left out of
	// the tables and named in the report; the others stand.
	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, err)
			results[i] = liveResult{}
		}
	}
	if len(failed) == len(copies) {
		return nil, errors.Join(failed...)
	}
	text, err := gw.metrics(ctx)
	if err != nil {
		return nil, err
	}
	var out []liveResult
	for i, c := range copies {
		if errs[i] != nil {
			continue
		}
		if err := results[i].readHists(text, c.fn); err != nil {
			return nil, err
		}
		r := results[i]
		out = append(out, r)
		fmt.Fprintf(zp.log, "  %s: %d responses, %.0f cold-start waits (wait p99 %.2fs), %.0f replica-seconds, peak %d%s\n",
			c.fn, r.sum.Completed, r.live.ColdWaits, r.waitP99(), math.Round(r.live.ReplicaSeconds), r.live.PeakReplicas, r.gapNote())
	}
	return out, errors.Join(failed...)
}

type liveOut struct {
	h   *live.History
	err error
}

// simulateZero runs internal/sim on a zero window as replayed: the real
// instants compressed by speed, the sleep as each call's service time, the
// same cold-start distribution, one slot per replica, 0..10 replicas.
func simulateZero(ctx context.Context, pol sim.Policy, w timedWindow, speed, service float64, cold dist.Dist, seed uint64) (sim.Metrics, error) {
	secs := int(math.Ceil(w.span/speed)) + 1
	spec := sim.FunctionSpec{Name: "hello-python", Counts: make([]float64, secs), Bucket: 1}
	for _, t := range w.times {
		c := t / speed
		spec.Times = append(spec.Times, c)
		spec.Durations = append(spec.Durations, service)
		if i := int(c); i < secs {
			spec.Counts[i]++
		}
	}
	cfg := sim.DefaultConfig()
	cfg.Concurrency, cfg.ColdStart, cfg.Seed, cfg.MinReplicas, cfg.MaxReplicas, cfg.Workers = 1, cold, seed, 0, 10, 1
	r, err := sim.Run(ctx, cfg, []sim.FunctionSpec{spec}, pol)
	if err != nil {
		return sim.Metrics{}, err
	}
	return r.Metrics, nil
}
