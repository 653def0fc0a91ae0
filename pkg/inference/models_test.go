package inference

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/model/artefacts"
	"github.com/prescale/prescale/pkg/decide"
)

func TestEmbeddedArtefactsLoadPredictRoundTrip(t *testing.T) {
	names := artefacts.Names()
	if len(names) < 2 {
		t.Fatalf("embedded artefacts %v, want at least seed-forest.json and forecaster.json", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b, err := artefacts.Read(name)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Parse(b)
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			out, err := a.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("%s does not round-trip byte for byte", name)
			}
			if !strings.HasPrefix(a.Version, a.Name+"-") || len(a.Training.Inputs) == 0 || len(a.Training.DataSHA256) != 64 {
				t.Fatalf("%s: version %q, inputs %d, data hash %q", name, a.Version, len(a.Training.Inputs), a.Training.DataSHA256)
			}
			switch a.Kind {
			case KindReplicaForest:
				m, err := NewReplicaModel(a)
				if err != nil {
					t.Fatal(err)
				}
				light, _, err := m.PredictReplicas(decide.Features{P50: 0.08, P90: 0.12, P99: 0.2, Status200: 60, RPS: 2, InFlight: 0.2, Replicas: 1})
				if err != nil {
					t.Fatal(err)
				}
				heavy, _, err := m.PredictReplicas(decide.Features{P50: 4, P90: 5, P99: 5, ErrorRate: 0.4, Status200: 300, Status500: 200,
					FailureRatio: 200.0/300 + 200, RPS: 16, InFlight: 60, Replicas: 1})
				if err != nil {
					t.Fatal(err)
				}
				if light < 1 || heavy <= light {
					t.Fatalf("light load → %d replicas, overload → %d; want 1 ≤ light < heavy", light, heavy)
				}
				p, err := m.PredictNamed(map[string]float64{"p50": 1})
				if err == nil || !strings.Contains(err.Error(), "missing") {
					t.Fatalf("prediction with missing features: %+v, %v; want an error naming them", p, err)
				}
			case KindForecaster:
				f, err := NewForecaster(a)
				if err != nil {
					t.Fatal(err)
				}
				now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
				var hist []decide.Sample
				for i := 0; i < 90; i++ {
					hist = append(hist, decide.Sample{At: now.Add(time.Duration(i-89) * time.Minute), Interval: 60, RPS: 10})
				}
				fc, err := f.Forecast(hist, 5*time.Minute, now)
				if err != nil {
					t.Fatal(err)
				}
				if fc.Version != a.Version || fc.Model != a.Name || fc.RPS < 10 || fc.RPS > 20 || len(fc.Reasons) == 0 {
					t.Fatalf("forecast of a steady 10 rps: %+v", fc)
				}
			default:
				t.Fatalf("unknown kind %q", a.Kind)
			}
		})
	}
}

// sealed returns a small valid replica-forest artefact.
func sealed(t *testing.T) *Artefact {
	t.Helper()
	a := &Artefact{Kind: KindReplicaForest, Name: "tiny", Features: []string{"rps", "p99"},
		Scaler:  &Scaler{Mean: []float64{10, 0.1}, Std: []float64{5, 0.05}},
		Metrics: map[string]float64{"test_exact_accuracy": 0.5},
		Forest: &Forest{Task: TaskRegression, Trees: []Tree{{
			Inputs: []int{0, 1}, Feature: []int{0, 1}, Threshold: []float64{0, 0.5},
			Left: []int{-1, -1}, Right: []int{1, -1}, LeftValue: []float64{1, 2}, RightValue: []float64{0, 4},
		}}}}
	if err := a.Seal(); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRefusesCorruptOrMismatchedArtefacts(t *testing.T) {
	good := sealed(t)
	data, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data); err != nil {
		t.Fatalf("a good artefact is refused: %v", err)
	}
	reseal := func(mut func(a *Artefact)) []byte {
		a := sealed(t)
		mut(a)
		if err := a.Seal(); err != nil {
			t.Fatal(err)
		}
		// Marshal validates; write the raw JSON to bypass that.
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"edited threshold", bytes.Replace(data, []byte(`"threshold":[0,0.5]`), []byte(`"threshold":[0,0.6]`), 1), "checksum mismatch"},
		{"truncated", data[:len(data)/2], "decode"},
		{"unknown field", bytes.Replace(data, []byte(`"schema"`), []byte(`"extra":1,"schema"`), 1), "unknown field"},
		{"future schema", reseal(func(a *Artefact) {}), ""}, // replaced below
		{"child cycle", reseal(func(a *Artefact) { a.Forest.Trees[0].Right[0] = 0 }), "child 0"},
		{"feature out of range", reseal(func(a *Artefact) { a.Forest.Trees[0].Inputs = []int{0, 7} }), "outside the 2 features"},
		{"zero std", reseal(func(a *Artefact) { a.Scaler.Std[1] = 0 }), "std > 0"},
		{"no forest", reseal(func(a *Artefact) { a.Forest = nil }), "has no forest"},
		{"unknown kind", reseal(func(a *Artefact) { a.Kind = "oracle" }), "unknown kind"},
		{"version edited", bytes.Replace(data, []byte(good.Version), []byte("tiny-000000000000"), 1), "checksum mismatch"},
	}
	future := sealed(t)
	future.Schema = 2
	fb, _ := json.Marshal(future)
	cases[3] = struct {
		name string
		data []byte
		want string
	}{"future schema", fb, "schema version 2"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.data)
			if err == nil {
				t.Fatalf("accepted: %+v", a)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q; want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("mismatched features", func(t *testing.T) {
		if err := good.Expect(KindReplicaForest, []string{"p99", "rps"}); err == nil || !errors.Is(err, ErrInvalid) {
			t.Fatalf("Expect with other features: %v", err)
		}
		if _, err := NewForecaster(good); err == nil {
			t.Fatal("a replica forest was accepted as a forecaster")
		}
	})
}

func TestForestEvaluation(t *testing.T) {
	a := sealed(t)
	m, err := NewReplicaModel(a)
	if err != nil {
		t.Fatal(err)
	}
	// Standardised: rps (x-10)/5, p99 (x-0.1)/0.05. Root: rps' < 0 → 1;
	// else node 1: p99' < 0.5 → 2, else 4.
	cases := []struct {
		rps, p99 float64
		want     float64
	}{{5, 1, 1}, {10, 0.1, 2}, {20, 0.124, 2}, {20, 0.2, 4}}
	for _, tc := range cases {
		p, err := m.PredictVector([]float64{tc.rps, tc.p99})
		if err != nil {
			t.Fatal(err)
		}
		if p.Raw != tc.want || p.Version != a.Version {
			t.Errorf("rps %v p99 %v → %+v, want raw %v", tc.rps, tc.p99, p, tc.want)
		}
	}
	if _, err := m.PredictVector([]float64{math.NaN(), 1}); err == nil {
		t.Error("NaN input accepted")
	}
	if _, err := m.PredictVector([]float64{1}); err == nil {
		t.Error("short input accepted")
	}
	leaf := func(v float64) Tree {
		return Tree{Inputs: []int{0}, Feature: []int{0}, Threshold: []float64{0}, Left: []int{-1}, Right: []int{-1}, LeftValue: []float64{v}, RightValue: []float64{v}}
	}
	cls := &Forest{Task: TaskClassification, Classes: []float64{1, 2, 3}, Trees: []Tree{leaf(3), leaf(2), leaf(3), leaf(2), leaf(1)}}
	if got := cls.Predict([]float64{0}); got != 2 {
		t.Errorf("vote 3,2,3,2,1 → %v, want 2 (tie goes to the smaller class)", got)
	}
	reg := &Forest{Task: TaskRegression, Trees: []Tree{leaf(1), leaf(2), leaf(6)}}
	if got := reg.Predict([]float64{0}); got != 3 {
		t.Errorf("mean of 1,2,6 = %v, want 3", got)
	}
}

func TestPeakForecastMethods(t *testing.T) {
	ramp := []float64{}
	for i := 0; i < 130; i++ {
		ramp = append(ramp, float64(i%60))
	}
	steady := make([]float64, 100)
	for i := range steady {
		steady[i] = 16
	}
	cases := []struct {
		name   string
		spec   ForecasterSpec
		hist   []float64
		want   float64
		within float64
	}{
		{"last value", ForecasterSpec{Method: MethodLastValue, HorizonSteps: 5, StepSeconds: 60}, []float64{1, 5, 3}, 3, 0},
		{"moving average", ForecasterSpec{Method: MethodMovingAverage, HorizonSteps: 5, StepSeconds: 60, Params: map[string]float64{"window": 2}}, []float64{1, 5, 3}, 4, 0},
		// Newest index 129 (value 9); one period back the next 5 steps are indices 70..74 = 10..14.
		{"seasonal naive", ForecasterSpec{Method: MethodSeasonalNaive, HorizonSteps: 5, StepSeconds: 60, Params: map[string]float64{"period": 60}}, ramp, 14, 0},
		{"holt-winters steady", ForecasterSpec{Method: MethodHoltWinters, HorizonSteps: 5, StepSeconds: 60,
			Params: map[string]float64{"alpha": 0.5, "beta": 0.1, "gamma": 0.1, "period": 10, "fit_window": 60}}, steady, 16, 1e-9},
		// Steady 16: level 16, no trend, spread = max(std 0, sqrt 16 = 4): 16 + 0.5*4.
		{"prescale-peak steady", ForecasterSpec{Method: MethodPeak, HorizonSteps: 5, StepSeconds: 60,
			Params: map[string]float64{"alpha": 0.5, "mean_window": 5, "trend_window": 10, "sigma_window": 30, "period": 60, "k": 0.5}}, steady, 18, 1e-9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.spec.Params == nil {
				tc.spec.Params = map[string]float64{}
			}
			if err := tc.spec.validate(); err != nil {
				t.Fatal(err)
			}
			got, err := PeakForecast(&tc.spec, nil, tc.hist, 0)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > tc.within {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	bad := ForecasterSpec{Method: MethodMovingAverage, HorizonSteps: 5, StepSeconds: 60, Params: map[string]float64{}}
	if err := bad.validate(); err == nil || !strings.Contains(err.Error(), "window") {
		t.Fatalf("missing window: %v", err)
	}
	if _, err := PeakForecast(&cases[0].spec, nil, []float64{1, -1}, 0); err == nil {
		t.Fatal("negative history accepted")
	}
}

func TestForecasterRescalesSampleInterval(t *testing.T) {
	b, err := artefacts.Read(artefacts.Forecaster)
	if err != nil {
		t.Fatal(err)
	}
	f, err := LoadForecaster(b)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var minutes []decide.Sample
	var series []float64
	for i := 0; i < 120; i++ {
		r := 5 + float64(i%7)
		minutes = append(minutes, decide.Sample{Interval: 60, RPS: r})
		series = append(series, r*60)
	}
	fc, err := f.Forecast(minutes, 5*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.ForecastSeries(series, 5, 720)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(fc.RPS-want/60) > 1e-9 {
		t.Fatalf("minute samples: %v rps, the series forecast %v/60", fc.RPS, want)
	}
	if _, err := f.Forecast(nil, time.Minute, now); !errors.Is(err, decide.ErrNoHistory) {
		t.Fatalf("empty history: %v", err)
	}
	var fast []decide.Sample
	for i := 0; i < 60; i++ {
		fast = append(fast, decide.Sample{Interval: 5, RPS: 2})
	}
	fc, err = f.Forecast(fast, 30*time.Second, now)
	if err != nil || fc.RPS < 2 || fc.Version != f.Version() {
		t.Fatalf("5 s samples at 2 rps: %+v, %v", fc, err)
	}
}
