package autoscaler

import (
	"fmt"
	"strings"
	"time"

	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/inference"
)

// NewForecaster returns the forecaster of a choice (pkg/inference' registry:
// trained, builtin or a model's name). A trained forecaster whose embedded
// artefact does not load falls back to HoltPeak, as the predictor does; the
// returned note then says why.
func NewForecaster(name string) (f decide.Forecaster, note string, err error) {
	choice, err := inference.ParseChoice(name, inference.DefaultForecasterChoice)
	if err != nil {
		return nil, "", fmt.Errorf("prescale forecaster: %w", err)
	}
	set, lerr := inference.Defaults()
	why := ""
	if lerr != nil {
		why = lerr.Error()
	}
	f, _, notes := set.Pick(choice, inference.ChoiceBuiltin, why)
	return f, strings.Join(notes, "; "), nil
}

// PrescaleConfig is prescale's control loop as deployed: the cron connector
// fires load-probe every Period; the sample, the predictor's forecast and the
// scaler's decision are made by pkg/decide (the code the functions run), and
// the scale call lands Lag seconds later (async chain: queue-worker →
// predictor → callback → scaler → scale API).
type PrescaleConfig struct {
	Period  int           // seconds, the cron schedule
	Lag     int           // seconds, the async chain's latency
	Horizon time.Duration // forecast horizon
	History int           // samples of history load-probe keeps
	// TargetUtilization sets prescale.target-concurrency to this share of the
	// per-replica concurrency (0.7, the same target as Knative's).
	TargetUtilization float64
	// Forecaster is the predictor's forecaster; ForecasterName names the
	// choice for reports.
	Forecaster     decide.Forecaster
	ForecasterName string
	Policy         decide.Policy
	// Stabilization overrides the scale-down stabilization window
	// (prescale.stabilization-window; 0 = the label's default, 300 s): a
	// time-compressed live run compresses it with the trace.
	Stabilization time.Duration
}

// DefaultPrescale returns what ships, with the recommended production
// schedule (@every 5s; see bench/NOTES.md for why), the predictor's default 30 s horizon (which the
// predictor stretches to at least two sample intervals), a 2 s chain
// latency, load-probe's default 360 samples of history, and the predictor's
// default forecaster (inference.DefaultForecasterChoice).
func DefaultPrescale() PrescaleConfig {
	f, _, _ := NewForecaster(inference.DefaultForecasterChoice)
	return PrescaleConfig{Period: 5, Lag: 2, Horizon: 30 * time.Second, History: 360,
		TargetUtilization: 0.7, Forecaster: f, ForecasterName: f.Name(), Policy: decide.DefaultPolicy()}
}

// EffectiveHorizon is the horizon the predictor forecasts over for samples
// of the period (decide.EffectiveHorizon).
func (c PrescaleConfig) EffectiveHorizon() time.Duration {
	return decide.EffectiveHorizon(c.Horizon, float64(c.Period))
}

// Predict is the predictor's step on a history, as the function runs it
// (decide.Predict with this configuration's forecaster and horizon).
func (c PrescaleConfig) Predict(function string, history []decide.Sample, set decide.Settings, now time.Time) (decide.Prediction, error) {
	return decide.Predict(c.Forecaster, decide.PredictInput{Function: function, History: history, At: now, Horizon: c.Horizon, Settings: set}, now)
}

// Validate reports the first field out of range.
func (c PrescaleConfig) Validate() error {
	switch {
	case c.Period < 1 || c.Period > 3600:
		return fmt.Errorf("prescale period %d s: allowed range is 1..3600", c.Period)
	case c.Lag < 0 || c.Lag >= 3600:
		return fmt.Errorf("prescale lag %d s: allowed range is 0..3599", c.Lag)
	case c.Horizon <= 0:
		return fmt.Errorf("prescale horizon %s: must be > 0", c.Horizon)
	case c.History < 2:
		return fmt.Errorf("prescale history %d: must be >= 2 samples", c.History)
	case c.TargetUtilization <= 0 || c.TargetUtilization > 1:
		return fmt.Errorf("prescale target utilization %g: allowed range is (0, 1]", c.TargetUtilization)
	}
	if c.Forecaster == nil {
		return fmt.Errorf("prescale forecaster: none set")
	}
	if v, ok := c.Forecaster.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("prescale forecaster: %w", err)
		}
	}
	if err := c.Policy.Validate(); err != nil {
		return fmt.Errorf("prescale policy: %w", err)
	}
	return nil
}

// Prescale is prescale's policy, through pkg/decide.
type Prescale struct{ Config PrescaleConfig }

func (Prescale) Name() string { return "prescale" }

func (p Prescale) NewController(f sim.FunctionInfo) sim.Controller {
	set := decide.DefaultSettings()
	set.Enabled = true
	set.Min, set.Max = f.Min, f.Max
	set.Capacity.TargetConcurrency = p.Config.TargetUtilization * float64(f.Concurrency)
	if p.Config.Stabilization > 0 {
		set.Stabilization = p.Config.Stabilization
	}
	return &prescaleCtl{cfg: p.Config, f: f, set: set}
}

// epoch anchors simulated seconds to the time.Time pkg/decide works in.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type prescaleCtl struct {
	cfg   PrescaleConfig
	f     sim.FunctionInfo
	set   decide.Settings
	hist  []decide.Sample
	state decide.State
	last  decide.Decision
}

func (p *prescaleCtl) Period() int { return p.cfg.Period }
func (p *prescaleCtl) Lag() int    { return p.cfg.Lag }

func (p *prescaleCtl) Decide(v sim.View) int {
	now := simTime(v.Now())
	s := sampleOf(v, p.f.Name, p.cfg.Period, now)
	p.hist = append(p.hist, s)
	if len(p.hist) > p.cfg.History {
		p.hist = p.hist[len(p.hist)-p.cfg.History:]
	}
	pred, ok := p.step(now)
	if !ok {
		return sim.Keep
	}
	d, st := p.cfg.Policy.Decide(pred.PolicyInput(p.f.Name, v.Replicas(), p.set, false), p.state, now)
	p.state, p.last = st, d
	if d.Invalid || !d.Scale {
		return sim.Keep
	}
	return d.After
}

// step is the predictor's step on the history so far. A failed prediction
// is a non-2xx predictor answer, which the scaler ignores: no decision.
func (p *prescaleCtl) step(now time.Time) (decide.Prediction, bool) {
	pred, err := p.cfg.Predict(p.f.Name, p.hist, p.set, now)
	return pred, err == nil
}

// sampleOf is what load-probe's gateway-metrics source reports for the last
// period: completed requests per second, in-flight requests, the mean
// latency through the gateway, replicas.
func sampleOf(v sim.View, name string, period int, now time.Time) decide.Sample {
	w := min(period, int(v.Now()))
	s := decide.Sample{Function: name, At: now, Interval: float64(w),
		InFlight: float64(v.InFlight()), Replicas: v.Replicas(), AvailableReplicas: v.Ready()}
	if w > 0 {
		c := v.Completions(w)
		s.RPS = c / float64(w)
		s.Arrivals = v.Arrivals(w)
		s.Status200 = c
		if c > 0 {
			s.MeanLatency = v.LatencySum(w) / c
		}
	}
	return s
}
