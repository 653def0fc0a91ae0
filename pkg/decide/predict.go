package decide

import (
	"errors"
	"fmt"
	"time"
)

// ServiceTimeWindow is how many recent serving samples the predictor's
// service-time estimate reads (ServiceTime's window).
const ServiceTimeWindow = 30

// ErrNoFunction means a prediction was asked for without a function name.
var ErrNoFunction = errors.New("no function name")

// PredictInput is what one prediction step needs: a function's history as
// load-probe keeps it, the time of the prediction and the function's
// settings (its labels, parsed).
type PredictInput struct {
	Function string
	// History is oldest first; its last sample is the newest observation.
	History []Sample
	// At is the forecast's origin; zero means the newest sample's time, and
	// now when that is zero too.
	At time.Time
	// Horizon is the configured forecast horizon; see EffectiveHorizon.
	Horizon  time.Duration
	Settings Settings
}

// Prediction is the predictor's step: the forecast and the replicas it
// recommends, before the policy's tolerance and stabilization.
type Prediction struct {
	At          time.Time
	Observed    Sample // the newest sample
	Horizon     time.Duration
	ServiceTime float64   // seconds: ServiceTime over ServiceTimeWindow samples
	Forecast    *Forecast // nil: none (a prediction read back without one)
	// Predicted is what the forecast needs, Reactive what the observed load
	// needs, Recommended clamp(max(Predicted, Reactive), Min, Max).
	Predicted, Reactive, Recommended int
	Reasons                          []string
}

// EffectiveHorizon is the horizon a forecast covers for samples taken every
// interval seconds: the configured horizon, at least two intervals (a
// forecast over less than one sampling period cannot act before the next
// sample would).
func EffectiveHorizon(configured time.Duration, interval float64) time.Duration {
	if interval > 0 {
		if two := Seconds(2 * interval); two > configured {
			return two
		}
	}
	return configured
}

// Predict is the one prediction step: the predictor function and the
// simulator both call it, so what the simulator measures is what ships.
// It forecasts the function's demand over the effective horizon and turns
// forecast and current load into replicas through the settings' capacity
// model. now is used only when neither in.At nor the newest sample has a
// time. Pure: no clock, I/O or globals.
func Predict(f Forecaster, in PredictInput, now time.Time) (Prediction, error) {
	if in.Function == "" {
		return Prediction{}, fmt.Errorf("predict: %w", ErrNoFunction)
	}
	if len(in.History) == 0 {
		return Prediction{}, fmt.Errorf("predict %s: %w", in.Function, ErrNoHistory)
	}
	if f == nil {
		return Prediction{}, fmt.Errorf("predict %s: no forecaster", in.Function)
	}
	obs := in.History[len(in.History)-1]
	at := in.At
	if at.IsZero() {
		at = obs.At
	}
	if at.IsZero() {
		at = now
	}
	horizon := EffectiveHorizon(in.Horizon, obs.Interval)
	fc, err := f.Forecast(in.History, horizon, at)
	if err != nil {
		return Prediction{}, fmt.Errorf("forecast %s with %s: %w", in.Function, f.Name(), err)
	}
	set := in.Settings
	capm := set.Capacity
	svc := ServiceTime(in.History, ServiceTimeWindow, capm.DefaultServiceTime)
	predicted := Ceil(capm.ForForecast(fc, obs.InFlight, svc))
	reactive := Ceil(capm.Reactive(obs, svc))
	rec := min(max(predicted, reactive, set.Min), set.Max)
	reasons := append([]string(nil), fc.Reasons...)
	reasons = append(reasons,
		fmt.Sprintf("capacity: %.2f rps × %.3fs / %g per replica over %.0fs → %d predicted", fc.RPS, svc, capm.TargetConcurrency, fc.Horizon, predicted),
		fmt.Sprintf("current load %.2f rps, %.1f in flight → %d reactive", obs.RPS, obs.InFlight, reactive),
		fmt.Sprintf("recommend clamp(max(%d, %d), %d, %d) = %d", predicted, reactive, set.Min, set.Max, rec))
	return Prediction{At: at, Observed: obs, Horizon: horizon, ServiceTime: svc, Forecast: &fc,
		Predicted: predicted, Reactive: reactive, Recommended: rec, Reasons: reasons}, nil
}

// PolicyInput is the input the scaler gives Policy.Decide for a prediction
// of a function that has current replicas now: the newest observation, the
// service time and the forecast (left out when reactive is set: forecasts
// are ignored).
func (p Prediction) PolicyInput(function string, current int, set Settings, reactive bool) Input {
	in := Input{Function: function, Current: current, Observed: p.Observed, ServiceTime: p.ServiceTime, Settings: set}
	if !reactive {
		in.Forecast = p.Forecast
	}
	return in
}
