package inference

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prescale/prescale/pkg/decide"
)

// Compile-time checks: the artefact-backed models plug into pkg/decide.
var (
	_ decide.ReplicaModel = (*ReplicaModel)(nil)
	_ decide.Forecaster   = (*Forecaster)(nil)
)

// PredictReplicas implements decide.ReplicaModel.
func (m *ReplicaModel) PredictReplicas(f decide.Features) (int, []string, error) {
	p, err := m.PredictNamed(f.Named())
	if err != nil {
		return 0, nil, err
	}
	return p.Replicas, []string{fmt.Sprintf("%s: forest of %d trees → %.2f → %d replicas", p.Version, len(m.art.Forest.Trees), p.Raw, p.Replicas)}, nil
}

// Forecaster is an artefact-backed demand forecaster (decide.Forecaster).
type Forecaster struct {
	art *Artefact
}

// NewForecaster wraps a parsed artefact of kind demand-forecaster.
func NewForecaster(a *Artefact) (*Forecaster, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: nil artefact", ErrInvalid)
	}
	if err := a.Expect(KindForecaster, nil); err != nil {
		return nil, err
	}
	if a.Forecaster == nil {
		return nil, fmt.Errorf("%w %s: no forecaster section", ErrInvalid, a.Name)
	}
	return &Forecaster{art: a}, nil
}

// LoadForecaster parses, validates and wraps artefact bytes.
func LoadForecaster(data []byte) (*Forecaster, error) {
	a, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return NewForecaster(a)
}

// Name implements decide.Forecaster.
func (f *Forecaster) Name() string { return f.art.Name }

// Version implements decide.Forecaster: the artefact's content-addressed version.
func (f *Forecaster) Version() string { return f.art.Version }

// Artefact returns the forecaster's artefact (do not modify it).
func (f *Forecaster) Artefact() *Artefact { return f.art }

// ForecastSeries forecasts the peak of the next horizonSteps steps of a
// series in the training unit (requests per minute, one value per step).
func (f *Forecaster) ForecastSeries(history []float64, horizonSteps int, minuteOfDay float64) (float64, error) {
	spec := *f.art.Forecaster
	if horizonSteps > 0 {
		spec.HorizonSteps = horizonSteps
	}
	return PeakForecast(&spec, f.art.Forest, history, minuteOfDay)
}

// Forecast implements decide.Forecaster. Each sample's rate becomes one
// step of the series (in requests per minute, the training unit). When the
// samples' interval differs from the step the model was trained on, the
// method's windows (counted in steps) are rescaled to cover the same time.
func (f *Forecaster) Forecast(history []decide.Sample, horizon time.Duration, now time.Time) (decide.Forecast, error) {
	var ys, iv []float64
	for _, s := range history {
		if s.Interval <= 0 {
			continue
		}
		if math.IsNaN(s.RPS) || math.IsInf(s.RPS, 0) {
			return decide.Forecast{}, fmt.Errorf("%s: sample at %s has a non-finite rate", f.art.Version, s.At.Format(time.RFC3339))
		}
		ys = append(ys, math.Max(0, s.RPS)*60)
		iv = append(iv, s.Interval)
	}
	if len(ys) == 0 {
		return decide.Forecast{}, decide.ErrNoHistory
	}
	sort.Float64s(iv)
	step := iv[len(iv)/2]
	spec := *f.art.Forecaster
	ratio := spec.StepSeconds / step
	if ratio != 1 {
		params := make(map[string]float64, len(spec.Params))
		for k, v := range spec.Params {
			switch k {
			case "window", "period", "fit_window", "mean_window", "trend_window", "sigma_window":
				v = math.Max(1, math.Round(v*ratio))
			}
			params[k] = v
		}
		spec.Params = params
	}
	spec.HorizonSteps = max(1, min(1440, int(math.Ceil(horizon.Seconds()/step))))
	u := now.UTC()
	mod := float64(u.Hour()*60 + u.Minute())
	peak, err := PeakForecast(&spec, f.art.Forest, ys, mod)
	if err != nil {
		return decide.Forecast{}, fmt.Errorf("%s: %w", f.art.Version, err)
	}
	out := decide.Forecast{Model: f.art.Name, Version: f.art.Version, At: now, Horizon: horizon.Seconds(), RPS: peak / 60}
	out.Reasons = append(out.Reasons, fmt.Sprintf("%s (%s) over %d steps of %.0fs from %d samples → peak %.2f rps",
		f.art.Version, spec.Method, spec.HorizonSteps, step, len(ys), out.RPS))
	if spec.Method == MethodPeak {
		c, sp := PeakCenter(tail(ys, HistorySteps(&spec)), spec.Params, spec.HorizonSteps)
		season := SeasonalComponent(tail(ys, HistorySteps(&spec)), spec.Params, spec.HorizonSteps)
		out.Reasons = append(out.Reasons, fmt.Sprintf("level+trend %.2f rps, margin %.2f×%.2f rps, seasonal peak %.2f rps",
			c/60, spec.Params["k"], sp/60, season/60))
	}
	return out, nil
}
