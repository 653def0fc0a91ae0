package decide

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Forecast is a demand forecast for one function.
type Forecast struct {
	Model   string    `json:"model"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`      // when the forecast was made (the newest sample's time)
	Horizon float64   `json:"horizon"` // seconds ahead the forecast covers
	// RPS is the predicted peak request rate over the horizon.
	RPS float64 `json:"rps"`
	// Points are the per-step predictions (one per sample interval), if any.
	Points []float64 `json:"points,omitempty"`
	// Replicas is a replica count the model recommends directly (seed-style
	// models); 0 means the model forecasts rate only.
	Replicas int `json:"replicas,omitempty"`
	// Reasons explains the forecast.
	Reasons []string `json:"reasons,omitempty"`
}

// Forecaster predicts a function's demand over a horizon from its history
// (oldest first). Implementations must be pure: now is the time of the
// forecast, never a clock read.
type Forecaster interface {
	Name() string
	Version() string
	Forecast(history []Sample, horizon time.Duration, now time.Time) (Forecast, error)
}

// ReplicaModel recommends replicas from the original system's single feature
// vector (what the Flask /predict answered).
type ReplicaModel interface {
	Name() string
	Version() string
	PredictReplicas(f Features) (int, []string, error)
}

// ErrNoHistory means a forecaster got no sample to work from.
var ErrNoHistory = errors.New("no history to forecast from")

// HoltPeak is the built-in forecaster; it needs no training.
// The rate series is smoothed with Holt's linear method (level Alpha, trend
// Beta) and projected step by step over the horizon; the forecast is the
// highest of those projections and of the peak observed over the last
// horizon's worth of samples, times (1+Margin). Rising load is therefore
// anticipated by its trend, and falling load is let go of only after a
// horizon — the stabilization window then applies on top.
type HoltPeak struct {
	Alpha, Beta float64 // smoothing factors in (0,1]
	Margin      float64 // safety margin, e.g. 0.1 = +10%
}

// DefaultHoltPeak returns HoltPeak with its documented defaults:
// Alpha 0.5, Beta 0.3, Margin 0.1.
func DefaultHoltPeak() HoltPeak { return HoltPeak{Alpha: 0.5, Beta: 0.3, Margin: 0.1} }

// Name implements Forecaster.
func (HoltPeak) Name() string { return "holt-peak" }

// Version implements Forecaster.
func (HoltPeak) Version() string { return "1" }

// Validate checks the parameters.
func (h HoltPeak) Validate() error {
	if !(h.Alpha > 0 && h.Alpha <= 1) {
		return fmt.Errorf("holt-peak alpha %v: must be in (0,1]", h.Alpha)
	}
	if !(h.Beta > 0 && h.Beta <= 1) {
		return fmt.Errorf("holt-peak beta %v: must be in (0,1]", h.Beta)
	}
	if h.Margin < 0 || h.Margin > 10 {
		return fmt.Errorf("holt-peak margin %v: must be in [0,10]", h.Margin)
	}
	return nil
}

// Forecast implements Forecaster.
func (h HoltPeak) Forecast(history []Sample, horizon time.Duration, now time.Time) (Forecast, error) {
	if err := h.Validate(); err != nil {
		return Forecast{}, err
	}
	ys := make([]float64, 0, len(history))
	for _, s := range history {
		if s.Interval <= 0 { // a baseline-only sample carries no rate
			continue
		}
		ys = append(ys, math.Max(0, s.RPS))
	}
	if len(ys) == 0 {
		return Forecast{}, ErrNoHistory
	}
	step := medianInterval(history)
	steps := 1
	if horizon > 0 && step > 0 {
		steps = int(math.Ceil(horizon.Seconds() / step))
	}
	if steps < 1 {
		steps = 1
	}
	if steps > 10000 {
		steps = 10000
	}
	level, trend := ys[0], 0.0
	if len(ys) > 1 {
		trend = ys[1] - ys[0]
	}
	for _, y := range ys[1:] {
		prev := level
		level = h.Alpha*y + (1-h.Alpha)*(level+trend)
		trend = h.Beta*(level-prev) + (1-h.Beta)*trend
	}
	points := make([]float64, steps)
	proj := 0.0
	for i := range points {
		points[i] = math.Max(0, level+float64(i+1)*trend)
		proj = math.Max(proj, points[i])
	}
	recent := 0.0
	for i := len(ys) - 1; i >= 0 && i >= len(ys)-steps; i-- {
		recent = math.Max(recent, ys[i])
	}
	base := math.Max(proj, recent)
	f := Forecast{
		Model: h.Name(), Version: h.Version(), At: now, Horizon: horizon.Seconds(),
		RPS: base * (1 + h.Margin), Points: points,
	}
	if proj >= recent {
		f.Reasons = append(f.Reasons, fmt.Sprintf("trend projects %.2f rps within %s (level %.2f, trend %+.3f/step)", proj, horizon, level, trend))
	} else {
		f.Reasons = append(f.Reasons, fmt.Sprintf("recent peak %.2f rps held (trend projects %.2f)", recent, proj))
	}
	f.Reasons = append(f.Reasons, fmt.Sprintf("+%.0f%% margin → %.2f rps", h.Margin*100, f.RPS))
	return f, nil
}

func medianInterval(history []Sample) float64 {
	var iv []float64
	for _, s := range history {
		if s.Interval > 0 {
			iv = append(iv, s.Interval)
		}
	}
	if len(iv) == 0 {
		return 0
	}
	sort.Float64s(iv)
	return iv[len(iv)/2]
}

// CapacityRules is the built-in ReplicaModel for the seed's feature vector.
// With a rate and service time it applies the capacity model (Little's law);
// otherwise it starts from the vector's replicas (1 if absent) and scales by
// how far p90 exceeds the latency objective, adding one replica when the
// failure ratio or error rate shows errors.
type CapacityRules struct {
	Capacity   Capacity
	LatencySLO float64 // seconds, p90 objective
	MaxErrRate float64 // tolerated error rate
	Max        int     // cap on the recommendation
}

// DefaultCapacityRules returns CapacityRules with defaults: the default
// capacity, a p90 objective of 0.5 s, 1% errors tolerated, at most 20 replicas.
func DefaultCapacityRules() CapacityRules {
	return CapacityRules{Capacity: DefaultCapacity(), LatencySLO: 0.5, MaxErrRate: 0.01, Max: 20}
}

// Name implements ReplicaModel.
func (CapacityRules) Name() string { return "capacity-rules" }

// Version implements ReplicaModel.
func (CapacityRules) Version() string { return "1" }

// PredictReplicas implements ReplicaModel.
func (c CapacityRules) PredictReplicas(f Features) (int, []string, error) {
	if err := c.Capacity.Validate(); err != nil {
		return 0, nil, err
	}
	var reasons []string
	n := 0
	if f.RPS > 0 {
		st := f.ServiceTime
		if st <= 0 {
			st = f.P50
		}
		raw := c.Capacity.Raw(f.RPS, st)
		n = ceil(raw)
		reasons = append(reasons, fmt.Sprintf("capacity: %.2f rps × %.3fs / %.2g per replica → %.2f replicas", f.RPS, st, c.Capacity.TargetConcurrency, raw))
	}
	cur := f.Replicas
	if cur < 1 {
		cur = 1
	}
	if c.LatencySLO > 0 && f.P90 > c.LatencySLO {
		k := int(math.Ceil(float64(cur) * f.P90 / c.LatencySLO))
		reasons = append(reasons, fmt.Sprintf("p90 %.3fs over the %.3fs objective → %d replicas", f.P90, c.LatencySLO, k))
		n = max(n, k)
	}
	errRate := f.ErrorRate
	if errRate == 0 && f.Status200+f.Status500 > 0 {
		errRate = f.Status500 / (f.Status200 + f.Status500)
	}
	if errRate == 0 && f.Status200+f.Status500 == 0 && f.FailureRatio > 0 {
		errRate = 1 // only the engineered ratio was given: failures, share unknown
	}
	if errRate > c.MaxErrRate {
		reasons = append(reasons, fmt.Sprintf("errors (rate %.3f, failure ratio %.3f) → one more replica", errRate, f.FailureRatio))
		n = max(n, cur+1)
	}
	if n == 0 {
		n = cur
		reasons = append(reasons, fmt.Sprintf("latency and errors within objectives → keep %d", cur))
	}
	if c.Max > 0 && n > c.Max {
		reasons = append(reasons, fmt.Sprintf("capped at %d", c.Max))
		n = c.Max
	}
	return max(n, 1), reasons, nil
}
