package decide

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prescale/prescale/pkg/faas"
)

// Labels prescale reads from a function's deployment (stack.yml `labels:`).
// Every one is optional; its default is in DefaultSettings.
const (
	// LabelEnabled opts a function in to prescale: "true" (exactly, any case).
	LabelEnabled = "prescale.enabled"
	// LabelMin and LabelMax are OpenFaaS's own replica bounds (defaults 1 and 5).
	LabelMin = "com.openfaas.scale.min"
	LabelMax = "com.openfaas.scale.max"
	// LabelTargetConcurrency is the in-flight requests one replica should
	// hold (Little's law target, as Knative's target concurrency). Default 1.
	LabelTargetConcurrency = "prescale.target-concurrency"
	// LabelTargetRPS is a per-replica request-rate target; 0 = off (default).
	LabelTargetRPS = "prescale.target-rps"
	// LabelTolerance is the no-change band on the load ratio (default 0.1).
	LabelTolerance = "prescale.tolerance"
	// LabelStabilization is the scale-down stabilization window, a Go
	// duration or integer seconds (default 300s, as HPA).
	LabelStabilization = "prescale.stabilization-window"
	// LabelForecastOnly makes the scaler log decisions for this function
	// without calling the scale API ("true"/"false", default false).
	LabelForecastOnly = "prescale.forecast-only"
)

// Settings are one function's autoscaling settings.
type Settings struct {
	Enabled       bool          `json:"enabled"`
	Min           int           `json:"min"`
	Max           int           `json:"max"`
	Capacity      Capacity      `json:"capacity"`
	Tolerance     float64       `json:"tolerance"`
	Stabilization time.Duration `json:"stabilization"`
	ForecastOnly  bool          `json:"forecast_only"`
}

// DefaultSettings: not enabled, min 1, max 5 (OpenFaaS CE's defaults),
// DefaultCapacity, tolerance 0.1, stabilization 300 s, not forecast-only.
func DefaultSettings() Settings {
	return Settings{
		Min: 1, Max: 5, Capacity: DefaultCapacity(),
		Tolerance: 0.1, Stabilization: 300 * time.Second,
	}
}

// MaxReplicasLimit is the largest replica bound accepted in a label.
const MaxReplicasLimit = 1000

// ParseSettings reads labels over the defaults. Every bad label is reported
// (errors joined), each naming the label, the value and the allowed range;
// on error the returned Settings must not be used to scale.
func ParseSettings(labels map[string]string, def Settings) (Settings, error) {
	s := def
	var errs []error
	get := func(k string) (string, bool) {
		v, ok := labels[k]
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	if v, ok := get(LabelEnabled); ok {
		s.Enabled = strings.EqualFold(v, "true")
	}
	intLabel := func(k string, dst *int) {
		if v, ok := get(k); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > MaxReplicasLimit {
				errs = append(errs, fmt.Errorf("label %s=%q: must be an integer in 0..%d", k, v, MaxReplicasLimit))
				return
			}
			*dst = n
		}
	}
	floatLabel := func(k string, dst *float64, lo, hi float64, loOpen bool) {
		if v, ok := get(k); ok {
			f, err := strconv.ParseFloat(v, 64)
			bad := err != nil || math.IsNaN(f) || f > hi || f < lo || (loOpen && f == lo)
			if bad {
				lb := "["
				if loOpen {
					lb = "("
				}
				errs = append(errs, fmt.Errorf("label %s=%q: must be a number in %s%g,%g]", k, v, lb, lo, hi))
				return
			}
			*dst = f
		}
	}
	intLabel(LabelMin, &s.Min)
	intLabel(LabelMax, &s.Max)
	floatLabel(LabelTargetConcurrency, &s.Capacity.TargetConcurrency, 0, 10000, true)
	floatLabel(LabelTargetRPS, &s.Capacity.TargetRPS, 0, 1e6, false)
	floatLabel(LabelTolerance, &s.Tolerance, 0, 0.9, false)
	if v, ok := get(LabelStabilization); ok {
		d, err := parseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("label %s=%q: must be a duration (e.g. 300s) or integer seconds in 0..86400: %w", LabelStabilization, v, err))
		case d > 24*time.Hour:
			errs = append(errs, fmt.Errorf("label %s=%q: must be a duration (e.g. 300s) or integer seconds in 0..86400", LabelStabilization, v))
		default:
			s.Stabilization = d
		}
	}
	if v, ok := get(LabelForecastOnly); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("label %s=%q: must be true or false", LabelForecastOnly, v))
		} else {
			s.ForecastOnly = b
		}
	}
	if len(errs) == 0 {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errors.Join(errs...)
}

// Validate checks the settings' consistency.
func (s Settings) Validate() error {
	if s.Min < 0 || s.Max < 1 || s.Min > s.Max || s.Max > MaxReplicasLimit {
		return fmt.Errorf("replica bounds min %d, max %d: need 0 <= min <= max, 1 <= max <= %d (%s, %s)", s.Min, s.Max, MaxReplicasLimit, LabelMin, LabelMax)
	}
	if s.Tolerance < 0 || s.Tolerance > 0.9 {
		return fmt.Errorf("tolerance %v: must be in [0,0.9]", s.Tolerance)
	}
	if s.Stabilization < 0 {
		return fmt.Errorf("stabilization window %s: must be >= 0", s.Stabilization)
	}
	return s.Capacity.Validate()
}

// parseDuration reads a label's duration, integer seconds or a Go duration
// (faas.ParseDuration: overflow, NaN/Inf and negative values are errors);
// the caller's message names the label and its range.
func parseDuration(v string) (time.Duration, error) { return faas.ParseDuration("value", v) }
