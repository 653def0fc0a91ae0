package decide

import (
	"fmt"
	"math"
	"time"
)

// CEMaxReplicas is the OpenFaaS CE gateway's clamp on /system/scale-function
// (it forwards replicas clamped to 1..5).
const CEMaxReplicas = 5

// Policy is the scaling policy. It is plain configuration: Decide is a pure
// function of its arguments.
type Policy struct {
	// StaleAfter: a forecast older than this (relative to now) is ignored and
	// the decision is reactive only. Default 90 s (three 30 s periods).
	StaleAfter time.Duration `json:"stale_after"`
	// ForecastOnly: decide and log, never ask for a scale call.
	ForecastOnly bool `json:"forecast_only"`
	// CEClamp: the gateway is OpenFaaS CE, which clamps scale requests to
	// 1..5; bounds are narrowed to that range so decisions say what happens.
	CEClamp bool `json:"ce_clamp"`
	// MaxRecommendations caps the stabilization history kept in State.
	MaxRecommendations int `json:"max_recommendations"`
	// Terse skips the Reasons list (Reason is still set): for the
	// simulator's millions of decisions.
	Terse bool `json:"terse,omitempty"`
}

// DefaultPolicy returns the defaults: StaleAfter 90 s, no forecast-only,
// no CE clamp, 1000 recommendations kept at most.
func DefaultPolicy() Policy {
	return Policy{StaleAfter: 90 * time.Second, MaxRecommendations: 1000}
}

// Validate checks the policy.
func (p Policy) Validate() error {
	if p.StaleAfter <= 0 {
		return fmt.Errorf("stale-after %s: must be > 0", p.StaleAfter)
	}
	if p.MaxRecommendations < 0 {
		return fmt.Errorf("max recommendations %d: must be >= 0 (0 = 1000)", p.MaxRecommendations)
	}
	return nil
}

// Input is what one decision needs.
type Input struct {
	Function string `json:"function"`
	// Current is the function's replica count now (the desired count the
	// gateway reports).
	Current int `json:"current"`
	// Observed is the newest sample of the function's load.
	Observed Sample `json:"observed"`
	// ServiceTime (seconds) for the capacity model; 0 means
	// Observed.MeanLatency, then Settings.Capacity.DefaultServiceTime.
	ServiceTime float64 `json:"service_time"`
	// Forecast is the predictor's forecast; nil means none.
	Forecast *Forecast `json:"forecast,omitempty"`
	// Settings are the function's labels, parsed.
	Settings Settings `json:"settings"`
}

// Recommendation is one past desired replica count.
type Recommendation struct {
	At       time.Time `json:"at"`
	Replicas int       `json:"replicas"`
}

// State is a function's policy state between decisions: plain data,
// serialisable to JSON (the scaler keeps it in NATS KV).
type State struct {
	Function        string           `json:"function"`
	Recommendations []Recommendation `json:"recommendations,omitempty"`
	// LastAt is the observation time of the prediction the latest decision
	// was made on (set by the scaler, kept by Decide): a prediction not
	// newer than it arrived late or twice and is ignored.
	LastAt time.Time `json:"last_at,omitzero"`
}

// Decision is one policy decision with everything that led to it.
type Decision struct {
	Function string    `json:"function"`
	At       time.Time `json:"at"`

	Observed    Sample  `json:"observed"`
	ServiceTime float64 `json:"service_time"`

	Forecast      *Forecast `json:"forecast,omitempty"`
	ForecastRPS   float64   `json:"forecast_rps"`
	ForecastState string    `json:"forecast_state"` // used | missing | stale
	Model         string    `json:"model,omitempty"`
	ModelVersion  string    `json:"model_version,omitempty"`

	PredictedRaw float64 `json:"predicted_raw"`
	Predicted    int     `json:"predicted"` // 0 when the forecast is not used
	ReactiveRaw  float64 `json:"reactive_raw"`
	Reactive     int     `json:"reactive"`
	Desired      int     `json:"desired"`    // clamp(max(predicted, reactive)), before stabilization
	Stabilized   int     `json:"stabilized"` // highest recommendation in the window
	Min          int     `json:"min"`
	Max          int     `json:"max"`

	Before int `json:"before"`
	After  int `json:"after"`
	// Scale: a scale call to After is wanted (After != Before, not forecast-only).
	Scale        bool `json:"scale"`
	ForecastOnly bool `json:"forecast_only"`
	// Invalid: the input was rejected; nothing may be scaled.
	Invalid bool     `json:"invalid,omitempty"`
	Reason  string   `json:"reason"`
	Reasons []string `json:"reasons,omitempty"`

	// Zero is the scale-to-zero decision WithZero applied, if any.
	Zero *ZeroDecision `json:"zero,omitempty"`

	// Error is filled by the caller when applying the decision failed.
	Error string `json:"error,omitempty"`
	// Applied is filled by the caller when the scale call succeeded.
	Applied bool `json:"applied"`
}

// Decide applies the policy at time now. It is pure: the returned State
// replaces st (st itself is not modified).
func (p Policy) Decide(in Input, st State, now time.Time) (Decision, State) {
	if p.MaxRecommendations == 0 {
		p.MaxRecommendations = 1000
	}
	d := Decision{
		Function: in.Function, At: now, Observed: in.Observed,
		Forecast: in.Forecast, Before: in.Current, After: in.Current,
		ForecastOnly: p.ForecastOnly || in.Settings.ForecastOnly,
	}
	next := State{Function: in.Function, Recommendations: append([]Recommendation(nil), st.Recommendations...), LastAt: st.LastAt}
	if st.Function != "" && st.Function != in.Function {
		next.Recommendations, next.LastAt = nil, time.Time{} // state of another function: start afresh
	}
	say := func(format string, args ...any) {
		if !p.Terse {
			d.Reasons = append(d.Reasons, fmt.Sprintf(format, args...))
		}
	}
	invalid := func(msg string) (Decision, State) {
		d.Invalid, d.Reason = true, msg
		d.Reasons = append(d.Reasons, msg)
		return d, st
	}
	if err := p.Validate(); err != nil {
		return invalid("invalid policy: " + err.Error())
	}
	if in.Function == "" {
		return invalid("invalid input: no function name")
	}
	if in.Current < 0 {
		return invalid(fmt.Sprintf("invalid input: current replicas %d < 0", in.Current))
	}
	set := in.Settings
	if err := set.Validate(); err != nil {
		return invalid("invalid settings: " + err.Error())
	}
	lo, hi := set.Min, set.Max
	if p.CEClamp {
		lo, hi = max(lo, 1), min(hi, CEMaxReplicas)
		if lo > hi {
			return invalid(fmt.Sprintf("invalid settings: min %d is above the OpenFaaS CE limit of %d replicas", set.Min, CEMaxReplicas))
		}
		if hi != set.Max || lo != set.Min {
			say("bounds %d..%d narrowed to %d..%d (OpenFaaS CE clamps to 1..%d)", set.Min, set.Max, lo, hi, CEMaxReplicas)
		}
	}
	d.Min, d.Max = lo, hi
	capm := set.Capacity

	svc := in.ServiceTime
	if svc <= 0 {
		svc = in.Observed.MeanLatency
	}
	if svc <= 0 {
		svc = capm.DefaultServiceTime
	}
	d.ServiceTime = svc

	// Reactive: what the current load needs.
	d.ReactiveRaw = capm.Reactive(in.Observed, svc)
	d.Reactive = ceil(d.ReactiveRaw)
	say("reactive: %.2f rps, %.1f in flight, service %.3fs → %.2f replicas", in.Observed.RPS, in.Observed.InFlight, svc, d.ReactiveRaw)

	// Predicted: what the forecast needs, if it is fresh.
	switch f := in.Forecast; {
	case f == nil || f.At.IsZero():
		d.ForecastState = "missing"
		say("no forecast → reactive only")
	case now.Sub(f.At) > p.StaleAfter:
		d.ForecastState = "stale"
		d.Model, d.ModelVersion, d.ForecastRPS = f.Model, f.Version, f.RPS
		say("forecast from %s is %s old (> %s) → reactive only", f.At.Format(time.RFC3339), now.Sub(f.At).Round(time.Second), p.StaleAfter)
	default:
		d.ForecastState = "used"
		d.Model, d.ModelVersion, d.ForecastRPS = f.Model, f.Version, f.RPS
		d.PredictedRaw = capm.ForForecast(*f, in.Observed.InFlight, svc)
		if f.Replicas > 0 && float64(f.Replicas) > d.PredictedRaw {
			d.PredictedRaw = float64(f.Replicas)
		}
		d.Predicted = ceil(d.PredictedRaw)
		say("predicted: %.2f rps over %.0fs (%s v%s) → %.2f replicas", f.RPS, f.Horizon, f.Model, f.Version, d.PredictedRaw)
	}

	raw := math.Max(d.PredictedRaw, d.ReactiveRaw)
	cur := in.Current
	within := false
	if cur > 0 && cur >= lo && cur <= hi && math.Abs(raw/float64(cur)-1) <= set.Tolerance {
		within = true
		d.Desired = cur
		say("need %.2f replicas is within ±%.0f%% of %d → no change", raw, set.Tolerance*100, cur)
	} else {
		d.Desired = clamp(ceil(raw), lo, hi)
		if ceil(raw) != d.Desired {
			say("need %d replicas, clamped to %d..%d → %d", ceil(raw), lo, hi, d.Desired)
		}
	}

	// Stabilization: keep the window's recommendations, newest last.
	win := set.Stabilization
	kept := next.Recommendations[:0]
	for _, r := range next.Recommendations {
		if now.Sub(r.At) < win && !r.At.After(now) {
			kept = append(kept, r)
		}
	}
	kept = append(kept, Recommendation{At: now, Replicas: d.Desired})
	if len(kept) > p.MaxRecommendations {
		kept = kept[len(kept)-p.MaxRecommendations:]
	}
	next.Recommendations = kept
	d.Stabilized = d.Desired
	for _, r := range kept {
		d.Stabilized = max(d.Stabilized, clamp(r.Replicas, lo, hi))
	}

	floor := clamp(d.Reactive, lo, hi)
	switch {
	case d.Desired > cur:
		d.After = d.Desired
		d.Reason = fmt.Sprintf("scale up %d → %d", cur, d.After)
		if d.ForecastState == "used" && d.Predicted > d.Reactive {
			d.Reason += " ahead of forecast demand"
		}
	case d.Desired == cur:
		d.After = cur
		if within {
			d.Reason = "within tolerance"
		} else {
			d.Reason = "no change"
		}
	default: // scale-down candidate
		target := min(max(d.Stabilized, floor), hi)
		switch {
		case cur > hi:
			d.After = max(min(target, hi), lo)
			d.Reason = fmt.Sprintf("above max %d: scale down %d → %d", hi, cur, d.After)
		case target >= cur:
			d.After = cur
			d.Reason = fmt.Sprintf("scale down to %d held: highest recommendation in the %s window is %d", d.Desired, win, d.Stabilized)
		default:
			d.After = target
			d.Reason = fmt.Sprintf("scale down %d → %d (stabilized over %s)", cur, d.After, win)
		}
	}
	if d.After < floor && d.After < cur {
		d.After = min(floor, cur) // never below what current load needs
	}
	d.Scale = d.After != d.Before && !d.ForecastOnly
	if d.ForecastOnly && d.After != d.Before {
		d.Reason = "forecast-only: would " + d.Reason
	}
	return d, next
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Summary is a one-line human summary of a decision.
func (d Decision) Summary() string {
	arrow := fmt.Sprintf("%d → %d", d.Before, d.After)
	if d.After == d.Before {
		arrow = fmt.Sprintf("%d (=)", d.Before)
	}
	fc := "-"
	if d.ForecastState == "used" {
		fc = fmt.Sprintf("%.1f", d.ForecastRPS)
	}
	return fmt.Sprintf("%s %-16s rps %6.1f forecast %6s replicas %-8s %s", d.At.UTC().Format("15:04:05"), d.Function, d.Observed.RPS, fc, arrow, d.Reason)
}
