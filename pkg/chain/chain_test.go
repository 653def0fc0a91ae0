package chain

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
)

var testKeys = chainauth.MustKeys("0123456789abcdef0123456789abcdef")

// A message with every kind of field (a location other than UTC, floats,
// maps, an arrival model) survives the wire: the receiver's canonical bytes
// are the sender's, and any change breaks the signature.
func TestSignedMessagesSurviveTheWire(t *testing.T) {
	now := time.Date(2026, 12, 2, 1, 2, 3, 456789123, time.FixedZone("x", 3600))
	var arr decide.ArrivalState
	zs := decide.DefaultZeroSettings()
	zs.Enabled = true
	arr.Configure(zs)
	arr.Update(3, now.Add(-5*time.Second), now)
	arr.Update(0, now, now.Add(5*time.Second))
	hist := []decide.Sample{{Function: "f", At: now, Interval: 5, RPS: 1.0 / 3, MeanLatency: 0.123456789, P99: 1e-9, InFlight: 2}}
	p := ProbePayload{Function: "f", Namespace: "openfaas-fn", At: now, Source: "gateway", History: hist,
		Features: decide.FeaturesOf(hist[0]), Labels: map[string]string{"b": "2", "a": "<&>"}, Replicas: 1, Arrivals: &arr}
	if err := p.Sign(testKeys, now, "nonce-1"); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	var got ProbePayload
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(testKeys, now.Add(time.Second), time.Minute); err != nil {
		t.Fatalf("probe payload after the wire: %v\n%s", err, b)
	}
	got.Replicas = 2
	if err := got.Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrBadSig) {
		t.Fatalf("changed payload verified: %v", err)
	}
	if err := (ProbePayload{Function: "f"}).Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}

	step := decide.Prediction{At: now, Observed: hist[0], ServiceTime: 0.2, Recommended: 3, Predicted: 3, Reactive: 1,
		Forecast: &decide.Forecast{Model: "holt-peak", Version: "1", At: now, Horizon: 30, RPS: 12.5}, Reasons: []string{"r"}}
	pred := NewPrediction(got, step, []string{"note"})
	if pred.Auth != nil {
		t.Fatal("the prediction inherited the payload's signature")
	}
	if err := pred.Sign(testKeys, now, "call-1"); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(pred)
	var back Prediction
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(testKeys, now, time.Minute); err != nil {
		t.Fatalf("prediction after the wire: %v\n%s", err, b)
	}
	back.Function = "g"
	if err := back.Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrBadSig) {
		t.Fatalf("renamed prediction verified: %v", err)
	}
	// A probe payload's signature is not a prediction's.
	var asPred Prediction
	_ = json.Unmarshal(b, &asPred)
	asPred.Auth = p.Auth
	if err := asPred.Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrBadSig) {
		t.Fatalf("a probe signature verified a prediction: %v", err)
	}
}

// An idle function's payload (120 samples of history, no calls) stays
// small, since a batch's byte bound, not its size, sets how many functions
// share a predictor call; and it round-trips unchanged.
func TestIdlePayloadIsSmall(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	p := ProbePayload{Function: "fn-123", At: at, Source: "gateway"}
	for i := range 120 {
		p.History = append(p.History, decide.Sample{Function: "fn-123", At: at.Add(time.Duration(i-119) * 5 * time.Second), Interval: 5})
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("idle payload: %d bytes", len(b))
	if len(b) > 12000 {
		t.Fatalf("idle payload of 120 samples is %d bytes, want at most 12000", len(b))
	}
	var back ProbePayload
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	c, _ := back.Canonical()
	d, _ := p.Canonical()
	if string(c) != string(d) {
		t.Fatalf("round trip changed the canonical bytes:\n%s\n%s", c, d)
	}
}
