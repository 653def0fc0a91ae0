package decide

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// step is one control period of a synthetic timeline. The scale decision of
// each step is applied (current replicas follow After) unless the policy is
// forecast-only.
type step struct {
	at       time.Duration // since t0
	rps      float64       // observed
	inFlight float64
	fc       float64       // forecast rps; <0 = no forecast
	fcAge    time.Duration // how old the forecast is at decision time
	want     int           // After
	reason   string        // substring of Reason
}

func settings(min, max int) Settings {
	s := DefaultSettings()
	s.Min, s.Max = min, max
	// service time 0.1 s, target concurrency 1 → 10 rps per replica.
	return s
}

func runTimeline(t *testing.T, p Policy, set Settings, start int, steps []step) {
	t.Helper()
	cur := start
	var st State
	for i, s := range steps {
		now := t0.Add(s.at)
		in := Input{
			Function: "fn", Current: cur, Settings: set,
			Observed: Sample{Function: "fn", At: now, Interval: 5, RPS: s.rps, InFlight: s.inFlight, MeanLatency: 0.1},
		}
		if s.fc >= 0 {
			in.Forecast = &Forecast{Model: "m", Version: "v", At: now.Add(-s.fcAge), Horizon: 30, RPS: s.fc}
		}
		d, next := p.Decide(in, st, now)
		if d.After != s.want {
			t.Fatalf("step %d (t=%s rps=%v fc=%v cur=%d): after=%d want %d; reason %q; reasons %v", i, s.at, s.rps, s.fc, cur, d.After, s.want, d.Reason, d.Reasons)
		}
		if s.reason != "" && !strings.Contains(d.Reason, s.reason) {
			t.Fatalf("step %d: reason %q does not contain %q", i, d.Reason, s.reason)
		}
		if d.Scale != (d.After != cur && !p.ForecastOnly && !set.ForecastOnly) {
			t.Fatalf("step %d: Scale=%v with before %d after %d", i, d.Scale, cur, d.After)
		}
		if d.Before != cur || d.Min > d.Max || d.After < d.Min || d.After > d.Max {
			t.Fatalf("step %d: inconsistent decision %+v", i, d)
		}
		st = next
		if d.Scale {
			cur = d.After
		}
	}
}

func TestPolicyTimelines(t *testing.T) {
	p := DefaultPolicy()
	fo := p
	fo.ForecastOnly = true
	ce := p
	ce.CEClamp = true
	s := time.Second
	tests := []struct {
		name  string
		p     Policy
		set   Settings
		start int
		steps []step
	}{
		{"tolerance band keeps replicas", p, settings(1, 10), 4, []step{
			{at: 0, rps: 40, fc: -1, want: 4, reason: "within tolerance"},
			{at: 5 * s, rps: 43.9, fc: -1, want: 4, reason: "within tolerance"}, // 4.39 is +9.75%
			{at: 10 * s, rps: 36.5, fc: -1, want: 4, reason: "within tolerance"},
			{at: 15 * s, rps: 44.5, fc: -1, want: 5, reason: "scale up 4 → 5"}, // +11%
		}},
		{"scale up at once, down only after the window", p, settings(1, 10), 1, []step{
			{at: 0, rps: 5, fc: -1, want: 1},
			{at: 5 * s, rps: 60, fc: -1, want: 6, reason: "scale up 1 → 6"},
			{at: 10 * s, rps: 10, fc: -1, want: 6, reason: "held"},
			{at: 200 * s, rps: 10, fc: -1, want: 6, reason: "held"},
			{at: 304 * s, rps: 10, fc: -1, want: 6, reason: "held"}, // t=5s rec (6) still in window
			{at: 306 * s, rps: 10, fc: -1, want: 1, reason: "scale down 6 → 1"},
		}},
		{"stabilization takes the window's highest recommendation", p, settings(1, 10), 8, []step{
			{at: 0, rps: 80, fc: -1, want: 8},
			{at: 100 * s, rps: 50, fc: -1, want: 8, reason: "held"},
			{at: 200 * s, rps: 30, fc: -1, want: 8},
			{at: 301 * s, rps: 30, fc: -1, want: 5, reason: "scale down 8 → 5"},
			{at: 401 * s, rps: 30, fc: -1, want: 3},
		}},
		{"forecast scales ahead of load", p, settings(1, 10), 1, []step{
			{at: 0, rps: 5, fc: 5, want: 1},
			{at: 5 * s, rps: 8, fc: 45, want: 5, reason: "ahead of forecast demand"},
			{at: 10 * s, rps: 45, fc: 50, want: 5},
		}},
		{"bounds clamp up and down", p, settings(2, 4), 1, []step{
			{at: 0, rps: 0, fc: -1, want: 2, reason: "scale up 1 → 2"},
			{at: 5 * s, rps: 100, fc: -1, want: 4},
			{at: 10 * s, rps: 0, fc: -1, want: 4, reason: "held"},
			{at: 400 * s, rps: 0, fc: -1, want: 2},
		}},
		{"CE clamp narrows max to 5", ce, settings(1, 20), 1, []step{
			{at: 0, rps: 100, fc: -1, want: 5},
		}},
		{"stale forecast falls back to reactive", p, settings(1, 10), 1, []step{
			{at: 0, rps: 10, fc: 100, fcAge: 91 * s, want: 1},
			{at: 5 * s, rps: 10, fc: 100, fcAge: 89 * s, want: 10, reason: "scale up"},
		}},
		{"missing forecast is reactive only", p, settings(1, 10), 1, []step{
			{at: 0, rps: 30, fc: -1, want: 3},
		}},
		{"scale down never below what current load needs", p, Settings{Min: 1, Max: 10, Capacity: DefaultCapacity(), Tolerance: 0.1, Stabilization: 0}, 8, []step{
			{at: 0, rps: 50, fc: 0, want: 5, reason: "scale down 8 → 5"},
			{at: 10 * s, rps: 30, inFlight: 7, fc: 0, want: 7, reason: "scale up 5 → 7"}, // 7 in flight need 7
			{at: 15 * s, rps: 20, fc: 0, want: 2, reason: "scale down 7 → 2"},
		}},
		{"forecast-only changes nothing", fo, settings(1, 10), 1, []step{
			{at: 0, rps: 100, fc: 200, want: 10, reason: "forecast-only: would scale up"},
			{at: 5 * s, rps: 100, fc: 200, want: 10},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runTimeline(t, tc.p, tc.set, tc.start, tc.steps) })
	}
}

func TestTerseDecidesTheSame(t *testing.T) {
	terse := DefaultPolicy()
	terse.Terse = true
	for _, rps := range []float64{0, 5, 44, 100} {
		in := Input{Function: "fn", Current: 4, Settings: settings(1, 10), Observed: Sample{RPS: rps, MeanLatency: 0.1, Interval: 5},
			Forecast: &Forecast{At: t0, RPS: rps * 2}}
		st := State{Recommendations: []Recommendation{{At: t0.Add(-time.Minute), Replicas: 6}}}
		a, sa := DefaultPolicy().Decide(in, st, t0)
		b, sb := terse.Decide(in, st, t0)
		if a.After != b.After || a.Reason != b.Reason || len(sa.Recommendations) != len(sb.Recommendations) || len(b.Reasons) != 0 || len(a.Reasons) == 0 {
			t.Fatalf("rps %v: verbose %+v terse %+v", rps, a, b)
		}
	}
}

func TestScaleDownFloorWithWindowZero(t *testing.T) {
	set := settings(1, 10)
	set.Stabilization = 0
	// Forecast says 0 but 40 rps are being served: the floor holds 4.
	in := Input{Function: "fn", Current: 9, Settings: set,
		Observed: Sample{RPS: 40, MeanLatency: 0.1, Interval: 5},
		Forecast: &Forecast{At: t0, RPS: 0}}
	d, _ := DefaultPolicy().Decide(in, State{}, t0)
	if d.After != 4 || d.Reactive != 4 || !d.Scale {
		t.Fatalf("after=%d reactive=%d scale=%v, want 4/4/true: %+v", d.After, d.Reactive, d.Scale, d)
	}
}

func TestDecideInvalidInput(t *testing.T) {
	bad := settings(5, 2)
	tests := []struct {
		name string
		p    Policy
		in   Input
		want string
	}{
		{"min above max", DefaultPolicy(), Input{Function: "f", Current: 1, Settings: bad}, "min 5, max 2"},
		{"no name", DefaultPolicy(), Input{Current: 1, Settings: settings(1, 2)}, "no function name"},
		{"negative current", DefaultPolicy(), Input{Function: "f", Current: -1, Settings: settings(1, 2)}, "current replicas"},
		{"zero stale-after", Policy{}, Input{Function: "f", Current: 1, Settings: settings(1, 2)}, "stale-after"},
		{"CE min above 5", Policy{StaleAfter: time.Minute, CEClamp: true}, Input{Function: "f", Current: 1, Settings: settings(7, 9)}, "OpenFaaS CE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := State{Function: "f", Recommendations: []Recommendation{{At: t0, Replicas: 3}}}
			d, next := tc.p.Decide(tc.in, st, t0)
			if !d.Invalid || d.Scale || d.After != d.Before || !strings.Contains(d.Reason, tc.want) {
				t.Fatalf("decision %+v; want invalid with %q", d, tc.want)
			}
			if len(next.Recommendations) != 1 {
				t.Fatalf("state changed on invalid input: %+v", next)
			}
		})
	}
}

func TestDecisionCarriesEverything(t *testing.T) {
	in := Input{Function: "fn", Current: 2, Settings: settings(1, 5),
		Observed: Sample{RPS: 12, MeanLatency: 0.1, Interval: 5},
		Forecast: &Forecast{Model: "holt-peak", Version: "1", At: t0, Horizon: 30, RPS: 33}}
	d, st := DefaultPolicy().Decide(in, State{}, t0.Add(time.Second))
	if d.Model != "holt-peak" || d.ModelVersion != "1" || d.ForecastRPS != 33 || d.Predicted != 4 || d.Reactive != 2 ||
		d.Min != 1 || d.Max != 5 || d.Before != 2 || d.After != 4 || d.ForecastState != "used" || len(d.Reasons) < 2 {
		t.Fatalf("decision: %+v", d)
	}
	// State round-trips through JSON (the scaler stores it in NATS KV).
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil || len(back.Recommendations) != 1 || back.Recommendations[0].Replicas != 4 {
		t.Fatalf("state round trip: %v %+v", err, back)
	}
	// Decide must not modify the state it was given.
	st0 := State{Function: "fn", Recommendations: []Recommendation{{At: t0, Replicas: 9}}}
	_, _ = DefaultPolicy().Decide(in, st0, t0.Add(400*time.Second))
	if st0.Recommendations[0].Replicas != 9 || len(st0.Recommendations) != 1 {
		t.Fatalf("input state modified: %+v", st0)
	}
}
