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
