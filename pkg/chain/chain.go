package chain

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/prescale/prescale/pkg/chainauth"
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
	// Auth is load-probe's signature (chainauth.LegProbe) over the
	// payload's canonical bytes (Canonical); absent on a hand-written body.
	Auth *chainauth.Auth `json:"auth,omitempty"`
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
	// Auth is predictor's signature (chainauth.LegPrediction) over the
	// prediction's canonical bytes, present only when the payload it
	// answers was validly signed: the scaler acts on nothing else.
	Auth *chainauth.Auth `json:"auth,omitempty"`
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
		s.Horizon = decide.Seconds(p.Forecast.Horizon) // saturating: a forged huge or NaN horizon stays defined
	}
	return s
}

// Canonical is what load-probe's signature covers: the payload's JSON
// without its auth field. A receiver computes it from the payload it
// decoded, so what is verified is exactly what it acts on; a field it does
// not know is dropped and makes the signature fail (closed).
func (p ProbePayload) Canonical() ([]byte, error) {
	p.Auth = nil
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("canonical probe payload: %w", err)
	}
	return b, nil
}

// Sign sets p.Auth: the signature with keys' current key at now with id.
func (p *ProbePayload) Sign(keys chainauth.Keys, now time.Time, id string) error {
	b, err := p.Canonical()
	if err != nil {
		return err
	}
	a, err := keys.Sign(chainauth.LegProbe, b, now, id)
	if err != nil {
		return fmt.Errorf("sign probe payload for %s: %w", p.Function, err)
	}
	p.Auth = &a
	return nil
}

// Verify checks p.Auth (chainauth.Keys.Verify) at now.
func (p ProbePayload) Verify(keys chainauth.Keys, now time.Time, maxAge time.Duration) error {
	if p.Auth == nil {
		return chainauth.ErrUnsigned
	}
	b, err := p.Canonical()
	if err != nil {
		return fmt.Errorf("%w: %v", chainauth.ErrMalformed, err)
	}
	return keys.Verify(chainauth.LegProbe, b, p.Auth, now, maxAge)
}

// Canonical is what predictor's signature covers: the prediction's JSON
// without its auth field (see ProbePayload.Canonical).
func (p Prediction) Canonical() ([]byte, error) {
	p.Auth = nil
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("canonical prediction: %w", err)
	}
	return b, nil
}

// Sign sets p.Auth: the signature with keys' current key at now with id
// (the async call id the predictor was invoked with, or a nonce).
func (p *Prediction) Sign(keys chainauth.Keys, now time.Time, id string) error {
	b, err := p.Canonical()
	if err != nil {
		return err
	}
	a, err := keys.Sign(chainauth.LegPrediction, b, now, id)
	if err != nil {
		return fmt.Errorf("sign prediction for %s: %w", p.Function, err)
	}
	p.Auth = &a
	return nil
}

// Verify checks p.Auth (chainauth.Keys.Verify) at now.
func (p Prediction) Verify(keys chainauth.Keys, now time.Time, maxAge time.Duration) error {
	if p.Auth == nil {
		return chainauth.ErrUnsigned
	}
	b, err := p.Canonical()
	if err != nil {
		return fmt.Errorf("%w: %v", chainauth.ErrMalformed, err)
	}
	return keys.Verify(chainauth.LegPrediction, b, p.Auth, now, maxAge)
}
