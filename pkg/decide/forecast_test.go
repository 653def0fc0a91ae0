package decide

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func series(rps ...float64) []Sample {
	out := make([]Sample, len(rps))
	for i, r := range rps {
		out[i] = Sample{At: t0.Add(time.Duration(i*5) * time.Second), Interval: 5, RPS: r, MeanLatency: 0.05}
	}
	return out
}

func TestHoltPeak(t *testing.T) {
	h := DefaultHoltPeak()
	tests := []struct {
		name     string
		hist     []Sample
		horizon  time.Duration
		min, max float64
	}{
		{"flat", series(10, 10, 10, 10), 30 * time.Second, 11 - 1e-9, 11 + 1e-9},
		{"ramp is projected ahead", series(10, 20, 30, 40, 50), 30 * time.Second, 60 * 1.1, 200},
		{"falling holds the recent peak", series(50, 40, 30, 20, 10), 10 * time.Second, 20 * 1.1, 20*1.1 + 1e-9},
		{"single sample", series(7), time.Minute, 7.7 - 1e-9, 7.7 + 1e-9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := h.Forecast(tc.hist, tc.horizon, t0)
			if err != nil {
				t.Fatal(err)
			}
			if f.RPS < tc.min || f.RPS > tc.max || f.Model != "holt-peak" || f.Version == "" || !f.At.Equal(t0) || len(f.Reasons) == 0 {
				t.Fatalf("forecast %+v, want rps in [%v,%v]", f, tc.min, tc.max)
			}
			if want := int(math.Ceil(tc.horizon.Seconds() / 5)); len(f.Points) != want {
				t.Fatalf("%d points, want %d", len(f.Points), want)
			}
		})
	}
	if _, err := h.Forecast(nil, time.Minute, t0); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("empty history: %v", err)
	}
	if _, err := h.Forecast([]Sample{{RPS: 5}}, time.Minute, t0); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("baseline-only history: %v", err)
	}
	if _, err := (HoltPeak{Alpha: 2, Beta: 0.1}).Forecast(series(1), time.Minute, t0); err == nil || !strings.Contains(err.Error(), "alpha") {
		t.Fatalf("bad alpha: %v", err)
	}
}

func TestCapacity(t *testing.T) {
	tests := []struct {
		name      string
		c         Capacity
		rps, svc  float64
		want      int
		wantRawGE float64
	}{
		{"little's law", Capacity{TargetConcurrency: 1, DefaultServiceTime: 0.1}, 25, 0.2, 5, 5},
		{"target concurrency 4", Capacity{TargetConcurrency: 4}, 25, 0.2, 2, 1.25},
		{"rps target dominates", Capacity{TargetConcurrency: 10, TargetRPS: 5}, 25, 0.2, 5, 5},
		{"default service time", Capacity{TargetConcurrency: 1, DefaultServiceTime: 0.5}, 4, 0, 2, 2},
		{"no load", Capacity{TargetConcurrency: 1}, 0, 0.2, 0, 0},
		{"float noise", Capacity{TargetConcurrency: 1}, 30, 0.1, 3, 3 - 1e-9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Replicas(tc.rps, tc.svc); got != tc.want {
				t.Fatalf("Replicas(%v,%v)=%d want %d", tc.rps, tc.svc, got, tc.want)
			}
			if raw := tc.c.Raw(tc.rps, tc.svc); raw < tc.wantRawGE {
				t.Fatalf("raw %v < %v", raw, tc.wantRawGE)
			}
		})
	}
	for _, tc := range []struct{ target, inFlight, want float64 }{{1, 7, 7}, {4, 7, 1.75}, {0.2, 1, 1}, {0.2, 0, 0}} {
		if got := (Capacity{TargetConcurrency: tc.target}).ForInFlight(tc.inFlight); got != tc.want {
			t.Errorf("ForInFlight(%v) at target %v = %v, want %v", tc.inFlight, tc.target, got, tc.want)
		}
	}
	if err := (Capacity{TargetConcurrency: 0}).Validate(); err == nil || !strings.Contains(err.Error(), "(0,10000]") {
		t.Fatalf("validate: %v", err)
	}
}

func TestParseFeaturesAndRules(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantErr  string
		replicas int
		unknown  int
	}{
		{"seed vector healthy", `{"p50":0.02,"p90":0.05,"p99":0.1,"error_rate":0,"Status200":100,"Status500":0,"replicas":2}`, "", 2, 0},
		{"slow p90 doubles", `{"p50":0.5,"p90":1.0,"p99":2,"error_rate":0,"status_200":100,"status_500":0,"replicas":2}`, "", 4, 0},
		{"errors add one", `{"p50":0.1,"p90":0.2,"p99":0.3,"error_rate":0.2,"status_200":80,"status_500":20,"current_replicas":3,"extra":1}`, "", 4, 1},
		{"rate and service time", `{"rps":30,"service_time":0.1,"p90":0.1}`, "", 3, 0},
		{"seed ratio key", `{"(Status500/Status200)+Status500": 3.5, "p90": 0.1}`, "", 2, 0},
		{"not an object", `[1,2]`, "not a JSON object", 0, 0},
		{"not a number", `{"p50":"fast"}`, `"p50" must be a number`, 0, 0},
		{"negative", `{"p90":-1}`, "finite number >= 0", 0, 0},
		{"nothing known", `{"foo":1}`, "no known feature", 0, 1},
	}
	m := DefaultCapacityRules()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, unknown, err := ParseFeatures([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if (tc.wantErr == "no known feature") != errors.Is(err, ErrNoFeatures) {
					t.Fatalf("err %v: errors.Is(ErrNoFeatures) = %v", err, errors.Is(err, ErrNoFeatures))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(unknown) != tc.unknown {
				t.Fatalf("unknown %v", unknown)
			}
			n, reasons, err := m.PredictReplicas(f)
			if err != nil || n != tc.replicas || len(reasons) == 0 {
				t.Fatalf("PredictReplicas(%+v)=%d,%v,%v want %d", f, n, reasons, err, tc.replicas)
			}
		})
	}
	// The engineered feature is computed when absent.
	f, _, _ := ParseFeatures([]byte(`{"status_200":10,"status_500":5}`))
	if f.FailureRatio != 5.0/10+5 {
		t.Fatalf("failure ratio %v", f.FailureRatio)
	}
}

func TestParseSettings(t *testing.T) {
	tests := []struct {
		name    string
		labels  map[string]string
		wantErr []string
		check   func(Settings) bool
	}{
		{"defaults", nil, nil, func(s Settings) bool {
			return !s.Enabled && s.Min == 1 && s.Max == 5 && s.Tolerance == 0.1 && s.Stabilization == 300*time.Second && s.Capacity.TargetConcurrency == 1
		}},
		{"all labels", map[string]string{LabelEnabled: "TRUE", LabelMin: "2", LabelMax: "8", LabelTargetConcurrency: "4",
			LabelTargetRPS: "20", LabelTolerance: "0.2", LabelStabilization: "60", LabelForecastOnly: "true"}, nil, func(s Settings) bool {
			return s.Enabled && s.Min == 2 && s.Max == 8 && s.Capacity.TargetConcurrency == 4 && s.Capacity.TargetRPS == 20 &&
				s.Tolerance == 0.2 && s.Stabilization == time.Minute && s.ForecastOnly
		}},
		{"duration label", map[string]string{LabelStabilization: "2m30s"}, nil, func(s Settings) bool { return s.Stabilization == 150*time.Second }},
		{"bad labels all reported", map[string]string{LabelMin: "x", LabelTargetConcurrency: "0", LabelTolerance: "2", LabelStabilization: "soon", LabelForecastOnly: "maybe"},
			[]string{LabelMin, LabelTargetConcurrency, LabelTolerance, LabelStabilization, LabelForecastOnly, "0..1000", "(0,10000]"}, nil},
		{"min above max", map[string]string{LabelMin: "6", LabelMax: "3"}, []string{"min 6, max 3"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSettings(tc.labels, DefaultSettings())
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || !tc.check(s) {
				t.Fatalf("settings %+v err %v", s, err)
			}
		})
	}
}

func TestServiceTime(t *testing.T) {
	h := []Sample{{MeanLatency: 0.1}, {MeanLatency: 0.3}, {}, {MeanLatency: 0.12}, {MeanLatency: 5}, {MeanLatency: 4}}
	tests := []struct {
		name   string
		window int
		want   float64
	}{
		{"the least congested interval", 0, 0.1},
		{"window of the newest 3 with requests", 3, 0.12},
		{"window of 1", 1, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ServiceTime(h, tc.window, 9); got != tc.want {
				t.Fatalf("ServiceTime(window %d) = %v, want %v", tc.window, got, tc.want)
			}
		})
	}
	if got := ServiceTime(nil, 3, 9); got != 9 {
		t.Fatalf("fallback: %v", got)
	}
	// A function scaled to zero: the interval after a sample with no ready
	// replica is a cold start (2.6 s of waiting), not the work (0.05 s).
	z := []Sample{{AvailableReplicas: 1, MeanLatency: 0.05}, {AvailableReplicas: 0}, {AvailableReplicas: 1, MeanLatency: 2.6}, {AvailableReplicas: 1}}
	if got := ServiceTime(z, 0, 9); got != 0.05 {
		t.Fatalf("with a cold interval: %v, want the warm 0.05", got)
	}
	if got := ServiceTime(z[1:], 0, 9); got != 9 {
		t.Fatalf("only a cold interval: %v, want the fallback", got)
	}
}
