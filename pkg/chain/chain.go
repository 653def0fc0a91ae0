package chain

import (
	"time"

	"github.com/prescale/prescale/pkg/decide"
)

// ProbePayload is what load-probe sends predictor for one function.
type ProbePayload struct {
	Function          string            `json:"function"`
	Namespace         string            `json:"namespace,omitempty"`
	At                time.Time         `json:"at"`
	Source            string            `json:"source"`
	History           []decide.Sample   `json:"history"` // oldest first; the newest is the current observation
	Features          decide.Features   `json:"features"`
	Labels            map[string]string `json:"labels,omitempty"`
	Replicas          int               `json:"replicas"`
	AvailableReplicas int               `json:"available_replicas"`
	// Arrivals is the function's arrival model after this observation,
	// for functions with scale to zero on (com.openfaas.scale.zero: "true").
	Arrivals *decide.ArrivalState `json:"arrivals,omitempty"`
}

// Prediction is predictor's answer to a ProbePayload; the queue worker
// posts it to scaler.
type Prediction struct {
	Function  string    `json:"function"`
	Namespace string    `json:"namespace,omitempty"`
	At        time.Time `json:"at"` // time of the newest observation

	Observed    decide.Sample    `json:"observed"`
	ServiceTime float64          `json:"service_time"`
	Forecast    *decide.Forecast `json:"forecast,omitempty"`

	// Replicas is predictor's recommendation clamp(max(Predicted, Reactive), min, max),
	// before the scaler's tolerance and stabilization.
	Replicas        int               `json:"replicas"`
	Predicted       int               `json:"predicted"`
	Reactive        int               `json:"reactive"`
	CurrentReplicas int               `json:"current_replicas"`
	Model           string            `json:"model"`
	Version         string            `json:"version"`
	Reasons         []string          `json:"reasons,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	// Arrivals is the probe's arrival model, passed through for the
	// scaler's scale-to-zero decision (decide.DecideZero at its own now).
	Arrivals *decide.ArrivalState `json:"arrivals,omitempty"`
}

// SeedAnswer is predictor's answer to a single seed-style feature vector,
// like the original Flask /predict ({"replicas": N, …}).
type SeedAnswer struct {
	Replicas int             `json:"replicas"`
	Model    string          `json:"model"`
	Version  string          `json:"version"`
	Features decide.Features `json:"features"`
	Reasons  []string        `json:"reasons,omitempty"`
	Ignored  []string        `json:"ignored_keys,omitempty"`
}

// NewPrediction is the predictor's answer to a probe payload: the step
// decide.Predict made, with notes (fallbacks the predictor took) before the
// step's reasons.
func NewPrediction(p ProbePayload, step decide.Prediction, notes []string) Prediction {
	pred := Prediction{
		Function: p.Function, Namespace: p.Namespace, At: step.At,
		Observed: step.Observed, ServiceTime: step.ServiceTime, Forecast: step.Forecast,
		Replicas: step.Recommended, Predicted: step.Predicted, Reactive: step.Reactive, CurrentReplicas: p.Replicas,
		Reasons: append(append([]string(nil), notes...), step.Reasons...), Labels: p.Labels,
		Arrivals: p.Arrivals,
	}
	if step.Forecast != nil {
		pred.Model, pred.Version = step.Forecast.Model, step.Forecast.Version
	}
	return pred
}

// Step is the decide.Prediction a Prediction carries (what the scaler hands
// to the policy); a missing forecast stays missing.
func (p Prediction) Step() decide.Prediction {
	s := decide.Prediction{At: p.At, Observed: p.Observed, ServiceTime: p.ServiceTime,
		Forecast: p.Forecast, Predicted: p.Predicted, Reactive: p.Reactive, Recommended: p.Replicas, Reasons: p.Reasons}
	if p.Forecast != nil {
		s.Horizon = time.Duration(p.Forecast.Horizon * float64(time.Second))
	}
	return s
}
