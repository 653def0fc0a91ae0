package decide

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParseFeatures: any body gives features whose every value is a finite
// number ≥ 0 (replicas within 0..MaxReplicasLimit) or an error; parsed
// features round-trip through their JSON encoding.
func FuzzParseFeatures(f *testing.F) {
	for _, s := range []string{
		`{"p50":0.02,"p90":0.05,"p99":0.1,"error_rate":0,"status_200":100,"status_500":0}`,
		`{"Status200":5,"(Status500/Status200)+Status500":1.5,"replicas":3,"requests_per_second":12.5}`,
		`{"replicas":1e300}`, `{"rps":-1}`, `{"p50":"x"}`, `{"unknown":1}`, `[]`, `null`, `{"rps":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ft, _, err := ParseFeatures(body)
		if err != nil {
			return
		}
		for name, v := range ft.Named() {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%s: feature %s = %v", body, name, v)
			}
		}
		if ft.Replicas < 0 || ft.Replicas > MaxReplicasLimit {
			t.Fatalf("%s: replicas %d outside 0..%d", body, ft.Replicas, MaxReplicasLimit)
		}
		enc, err := json.Marshal(ft)
		if err != nil {
			t.Fatalf("%+v: marshal: %v", ft, err)
		}
		back, _, err := ParseFeatures(enc)
		if err != nil || back != ft {
			t.Fatalf("%s → %+v → %s → %+v, %v: no round trip", body, ft, enc, back, err)
		}
	})
}

// labels builds a label map from "k=v" lines.
func labels(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// FuzzParseSettings: any labels give valid settings or an error naming a
// label; valid settings survive their own JSON encoding.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{
		"prescale.enabled=true\ncom.openfaas.scale.min=1\ncom.openfaas.scale.max=10",
		"prescale.stabilization-window=18446744074", "prescale.stabilization-window=1m30s", "prescale.tolerance=NaN",
		"prescale.target-concurrency=0", "prescale.target-rps=1e6", "com.openfaas.scale.min=7\ncom.openfaas.scale.max=3",
		"prescale.forecast-only=maybe", "com.openfaas.scale.max=99999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ls := labels(in)
		s, err := ParseSettings(ls, DefaultSettings())
		if err != nil {
			if !strings.Contains(err.Error(), "label ") && !strings.Contains(err.Error(), "replica bounds") &&
				!strings.Contains(err.Error(), "target") && !strings.Contains(err.Error(), "tolerance") {
				t.Fatalf("%q: error %q names no label", in, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("%q: parsed settings do not validate: %v", in, err)
		}
		if s.Stabilization < 0 || s.Stabilization > 24*time.Hour {
			t.Fatalf("%q: stabilization %s", in, s.Stabilization)
		}
		enc, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Settings
		if err := json.Unmarshal(enc, &back); err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("%+v → %s → %+v, %v", s, enc, back, err)
		}
	})
}

// FuzzParseZeroSettings: any labels give settings that validate, with
// every duration in its stated range, or an error wrapping ErrZeroSettings.
func FuzzParseZeroSettings(f *testing.F) {
	for _, s := range []string{
		"com.openfaas.scale.zero=true\ncom.openfaas.scale.zero-duration=15m",
		"prescale.cold-start-cost=1.5", "prescale.cold-start-cost=1e300", "prescale.prewarm-lead=-1",
		"prescale.arrival-resolution=2m", "com.openfaas.scale.zero-duration=18446744074", "prescale.zero-predict=nope",
		"prescale.cold-start-cost=9.3e9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseZeroSettings(labels(in), DefaultZeroSettings())
		if err != nil {
			if !errors.Is(err, ErrZeroSettings) {
				t.Fatalf("%q: error %v does not wrap ErrZeroSettings", in, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("%q: parsed settings do not validate: %v", in, err)
		}
		if s.KeepAlive < 0 || s.ColdStartCost < time.Second || s.PrewarmLead < 0 || s.Resolution < 0 {
			t.Fatalf("%q: %+v", in, s)
		}
	})
}

// FuzzArrival: any stored arrival model (as the KV store or a chain message
// holds it) fed any sequence of counts and invocation times stays bounded
// (at most IdleBins bins, StartsCap starts), its timer window is bounded
// when it passes Check, and DecideZero on it answers without a panic with
// a floor of -1, 0 or 1.
func FuzzArrival(f *testing.F) {
	f.Add([]byte(`{"v":1,"since":"2026-01-02T02:00:00Z","last":"2026-01-02T03:04:00Z","total":40,"gaps":9,"idle":[1,2,3,0,5],"starts":[1767318000000,1767318600000],"period":600}`), []byte{3, 10, 0, 200, 1, 7, 255, 4})
	f.Add([]byte(`{"last":"2026-01-02T03:04:00Z","res":1e-300,"idle":[1e308]}`), []byte{1, 1, 1, 1})
	f.Add([]byte(`{}`), []byte{0, 0, 9, 9, 250, 1})
	f.Fuzz(func(t *testing.T, state, ops []byte) {
		var st ArrivalState
		if json.Unmarshal(state, &st) != nil {
			return
		}
		now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
		for i := 0; i+1 < len(ops); i += 2 {
			// Steps back and forth around now, as overlapping or late
			// observations would come.
			dt := time.Duration(int(ops[i])-100) * 7 * time.Second
			switch ops[i+1] % 3 {
			case 0:
				st.Update(float64(ops[i+1]/3), now.Add(dt), now.Add(dt+5*time.Second))
			case 1:
				st.Observe(now.Add(dt), now.Add(dt/2))
			default:
				now = now.Add(dt)
			}
			if len(st.Idle) > IdleBins || len(st.Starts) > StartsCap {
				t.Fatalf("%d bins, %d starts", len(st.Idle), len(st.Starts))
			}
		}
		if st.Check() == nil {
			// A model DecideZero accepts has a timer window of at least a
			// second, bounded by its checked jitter and quantum.
			if tol, hi := st.Tolerance(), secs(1.5*MaxArrivalPeriod+1); tol < time.Second || tol > hi {
				t.Fatalf("tolerance %s outside 1s..%s: jitter %v quantum %v", tol, hi, st.Jitter, st.Quantum)
			}
		}
		set := DefaultZeroSettings()
		set.Enabled = true
		for _, replicas := range []int{0, 1} {
			z := DecideZero(st, now, set, ZeroObservation{Replicas: replicas})
			if z.Floor < -1 || z.Floor > 1 {
				t.Fatalf("floor %d: %+v", z.Floor, z)
			}
		}
	})
}
