package decide

import (
	"math"
	"testing"
	"time"
)

// Ahead is Little's law in steady state and the in-flight count for
// requests much longer than the look-ahead; in between it is the M/G/∞
// transient. Hand-computed with target concurrency 7.
func TestCapacityAhead(t *testing.T) {
	c := Capacity{TargetConcurrency: 7, DefaultServiceTime: 0.1}
	for _, tc := range []struct {
		name                  string
		rps, inflight, svc, h float64
		want                  float64
	}{
		// 70 rps × 0.5 s / 7 = 5; exp(-60) is nothing: Raw.
		{"short requests: Raw", 70, 35, 0.5, 30, 5},
		// unknown look-ahead: Raw.
		{"no horizon: Raw", 70, 35, 0.5, 0, 5},
		// one completion in 5 s of 300 s requests: Raw would be 0.2×300/7 = 8.57;
		// 14 in flight relax towards it: 8.57 + (2 − 8.57)·e^(−5/300) = 2.109.
		{"long requests: in flight", 0.2, 14, 300, 5, 60/7.0 + (2-60/7.0)*math.Exp(-5.0/300)},
		// equal look-ahead and service time: weight e^-1.
		{"transient", 1, 0, 10, 10, 10 / 7.0 * (1 - math.Exp(-1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Ahead(tc.rps, tc.inflight, tc.svc, tc.h); math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("Ahead = %v, want %v", got, tc.want)
			}
		})
	}
}

// A 300 s function sampled every 5 s: a single completion in the interval
// must not ask for 9 replicas when 14 requests are in flight (2 replicas at
// 7 each), nor a forecast of twice that rate for 18 (Raw: 0.4×300/7 = 17.1).
// Reactive: 8.57 + (2 − 8.57)·e^(−5/300) = 2.11 → 3.
// Predicted over 30 s: 17.14 + (2 − 17.14)·e^(−30/300) = 3.44 → 4.
func TestDecideLongRequestsFollowInFlight(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := DefaultSettings()
	set.Max, set.Capacity.TargetConcurrency = 100, 7
	in := Input{
		Function: "slow", Current: 2, ServiceTime: 300, Settings: set,
		Observed: Sample{Function: "slow", At: now, Interval: 5, RPS: 0.2, InFlight: 14, MeanLatency: 300, Replicas: 2},
		Forecast: &Forecast{Model: "m", Version: "1", At: now, Horizon: 30, RPS: 0.4},
	}
	d, _ := DefaultPolicy().Decide(in, State{}, now)
	if d.Reactive != 3 || d.Predicted != 4 || d.After != 4 {
		t.Fatalf("reactive %d (%.2f) predicted %d (%.2f) after %d", d.Reactive, d.ReactiveRaw, d.Predicted, d.PredictedRaw, d.After)
	}
}

// ForForecast is what both the predictor and Policy.Decide read a forecast
// as: the same 300 s function over a 30 s horizon needs 3.44 replicas (see
// above), and a short-request function is plain Little's law.
func TestForForecast(t *testing.T) {
	c := Capacity{TargetConcurrency: 7, DefaultServiceTime: 0.1}
	slow := Forecast{RPS: 0.4, Horizon: 30}
	want := 0.4*300/7 + (2-0.4*300/7)*math.Exp(-30.0/300)
	if got := c.ForForecast(slow, 14, 300); math.Abs(got-want) > 1e-9 {
		t.Fatalf("slow: ForForecast = %v, want %v", got, want)
	}
	fast := Forecast{RPS: 70, Horizon: 30}
	if got := c.ForForecast(fast, 0, 0.1); math.Abs(got-1) > 1e-9 {
		t.Fatalf("fast: ForForecast = %v, want 1 (70 rps × 0.1 s / 7)", got)
	}
}
