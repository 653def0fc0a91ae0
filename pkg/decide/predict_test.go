package decide

import (
	"errors"
	"testing"
	"time"
)

// Hand-computed: one 5 s sample of 12 rps at 0.2 s, 2 in flight. HoltPeak on
// one sample: level 12, no trend → 12 × 1.1 = 13.2 rps over the horizon,
// stretched from 5 s to two intervals (10 s). Target concurrency 1:
// Ahead(13.2, 2, 0.2, 10) ≈ 13.2 × 0.2 = 2.64 → 3 predicted; reactive
// max(12 × 0.2, 2 / 1) = 2.4 → 3; clamp(3, 1, 10) = 3.
func TestPredictHandComputed(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC)
	set := DefaultSettings()
	set.Min, set.Max = 1, 10
	in := PredictInput{Function: "f", Horizon: 5 * time.Second, Settings: set,
		History: []Sample{{At: at, Interval: 5, RPS: 12, InFlight: 2, MeanLatency: 0.2}}}
	p, err := Predict(DefaultHoltPeak(), in, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Horizon != 10*time.Second || p.At != at || p.ServiceTime != 0.2 || p.Forecast == nil ||
		p.Predicted != 3 || p.Reactive != 3 || p.Recommended != 3 {
		t.Fatalf("prediction %+v forecast %+v", p, p.Forecast)
	}
	if len(p.Reasons) < 3 {
		t.Fatalf("reasons %q", p.Reasons)
	}
	// The policy input carries the forecast, or none when reactive.
	if pi := p.PolicyInput("f", 2, set, false); pi.Forecast != p.Forecast || pi.Current != 2 || pi.ServiceTime != 0.2 {
		t.Fatalf("policy input %+v", pi)
	}
	if pi := p.PolicyInput("f", 2, set, true); pi.Forecast != nil {
		t.Fatalf("reactive policy input has a forecast")
	}
	// Max bounds the recommendation; an idle history recommends Min.
	set.Max = 2
	in.Settings = set
	if p, _ := Predict(DefaultHoltPeak(), in, time.Time{}); p.Recommended != 2 {
		t.Fatalf("max 2: recommended %d", p.Recommended)
	}
	in.History[0].RPS, in.History[0].InFlight = 0, 0
	if p, _ := Predict(DefaultHoltPeak(), in, time.Time{}); p.Recommended != 1 || p.Predicted != 0 {
		t.Fatalf("idle: %+v", p)
	}
}

func TestPredictErrors(t *testing.T) {
	set := DefaultSettings()
	if _, err := Predict(DefaultHoltPeak(), PredictInput{Function: "f", Settings: set}, time.Now()); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("empty history: %v", err)
	}
	if _, err := Predict(DefaultHoltPeak(), PredictInput{History: []Sample{{RPS: 1}}, Settings: set}, time.Now()); !errors.Is(err, ErrNoFunction) {
		t.Fatalf("no function: %v", err)
	}
	if _, err := Predict(nil, PredictInput{Function: "f", History: []Sample{{RPS: 1}}, Settings: set}, time.Now()); err == nil {
		t.Fatal("nil forecaster accepted")
	}
}

func TestEffectiveHorizon(t *testing.T) {
	for _, tc := range []struct {
		cfg      time.Duration
		interval float64
		want     time.Duration
	}{{30 * time.Second, 5, 30 * time.Second}, {30 * time.Second, 30, 60 * time.Second}, {30 * time.Second, 0, 30 * time.Second}} {
		if got := EffectiveHorizon(tc.cfg, tc.interval); got != tc.want {
			t.Errorf("EffectiveHorizon(%s, %g) = %s, want %s", tc.cfg, tc.interval, got, tc.want)
		}
	}
}
