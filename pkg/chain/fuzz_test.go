package chain

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
)

var fuzzNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const seedProbe = `{"function":"hello-python","at":"2026-01-02T03:04:00Z","source":"gateway","history":[` +
	`{"function":"hello-python","at":"2026-01-02T03:03:55Z","interval":5,"rps":10,"in_flight":2,"p50":0.01,"p90":0.02,"p99":0.05,"mean_latency":0.012,"status_200":50,"replicas":1},` +
	`{"function":"hello-python","at":"2026-01-02T03:04:00Z","interval":5,"rps":1000,"in_flight":50,"mean_latency":0.1,"status_200":5000,"replicas":1}],` +
	`"features":{"p50":0.01,"rps":1000,"replicas":1},"labels":{"prescale.enabled":"true","com.openfaas.scale.max":"10"},"replicas":1,"available_replicas":1,` +
	`"arrivals":{"v":1,"since":"2026-01-02T02:00:00Z","last":"2026-01-02T03:04:00Z","total":40,"gaps":9,"idle":[1,2,3,0,5],"starts":[1767318000,1767318600],"period":600,"res":60}}`

const seedPrediction = `{"function":"hello-python","at":"2026-01-02T03:04:00Z","observed":{"interval":5,"rps":1000,"in_flight":50,"mean_latency":0.1},` +
	`"service_time":0.1,"forecast":{"model":"holt-peak","version":"1","at":"2026-01-02T03:04:00Z","horizon":60,"rps":1200},"replicas":10,"predicted":10,"reactive":5,` +
	`"current_replicas":1,"labels":{"com.openfaas.scale.zero":"true"},` +
	`"arrivals":{"v":1,"since":"2026-01-02T02:00:00Z","last":"2026-01-02T03:04:00Z","total":40,"gaps":9,"idle":[1,2,3,0,5],"over":1,"epoch":"2026-01-02T02:00:00Z","period":600,"jitter":3,"period_score":0.9}}`

// roundTrip checks that a decoded message re-encodes stably: encode,
// decode, encode gives the same bytes.
func roundTrip[T any](t *testing.T, v T) {
	t.Helper()
	a, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %+v: %v", v, err)
	}
	var back T
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatalf("decode of own encoding %s: %v", a, err)
	}
	b, err := json.Marshal(back)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("round trip changed the message:\n%s\n%s", a, b)
	}
}

// FuzzPrediction: any body the scaler may be posted either fails to
// decode or goes through the scaler's pure steps (Step, PolicyInput,
// Policy.Decide, DecideZero, WithZero) without a panic, and a scale it
// asks for stays within the settings' bounds.
func FuzzPrediction(f *testing.F) {
	f.Add([]byte(seedPrediction))
	f.Add([]byte(`{"function":"x","forecast":{"horizon":1e300,"rps":1e308},"observed":{"interval":-1,"rps":-5}}`))
	f.Add([]byte(`{"function":"x","arrivals":{"idle":[1e308,1e308],"gaps":-4,"starts":[-9223372036854775808,9223372036854775807],"period":1e-300,"res":1e-300}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Prediction
		if json.Unmarshal(body, &p) != nil {
			return
		}
		roundTrip(t, p)
		set := decide.DefaultSettings()
		set.Enabled, set.Min, set.Max = true, 0, 10
		cur := min(max(p.CurrentReplicas, 0), decide.MaxReplicasLimit)
		for _, reactive := range []bool{false, true} {
			in := p.Step().PolicyInput(p.Function, cur, set, reactive)
			d, _ := decide.DefaultPolicy().Decide(in, decide.State{}, fuzzNow)
			if p.Arrivals != nil {
				zs := decide.DefaultZeroSettings()
				zs.Enabled = true
				z := decide.DecideZero(*p.Arrivals, fuzzNow, zs, decide.ZeroObservation{Replicas: in.Current, InFlight: in.Observed.InFlight})
				d = decide.WithZero(d, z)
			}
			if d.Scale && !d.Invalid && (d.After < 0 || d.After > set.Max) {
				t.Fatalf("scale to %d outside 0..%d: %+v", d.After, set.Max, d)
			}
		}
	})
}

// FuzzProbePayload: any body the predictor may be posted either fails to
// decode or goes through decide.Predict (the predictor's pure step) and
// NewPrediction without a panic, recommending replicas within the labels'
// bounds; the resulting Prediction re-encodes stably.
func FuzzProbePayload(f *testing.F) {
	f.Add([]byte(seedProbe))
	f.Add([]byte(`{"function":"x","history":[{"interval":1e-300,"rps":1e308,"in_flight":1e308,"mean_latency":1e308}],"labels":{"com.openfaas.scale.max":"1000"}}`))
	f.Add([]byte(`{"function":"x","history":[{"at":"0001-01-01T00:00:00Z","interval":5},{"at":"9999-12-31T23:59:59Z","interval":5}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p ProbePayload
		if json.Unmarshal(body, &p) != nil {
			return
		}
		roundTrip(t, p)
		set, err := decide.ParseSettings(p.Labels, decide.DefaultSettings())
		if err != nil {
			return
		}
		step, err := decide.Predict(decide.DefaultHoltPeak(), decide.PredictInput{
			Function: p.Function, History: p.History, At: p.At, Horizon: time.Minute, Settings: set,
		}, fuzzNow)
		if err != nil {
			return
		}
		if step.Recommended < set.Min || step.Recommended > set.Max {
			t.Fatalf("recommended %d outside %d..%d", step.Recommended, set.Min, set.Max)
		}
		pred := NewPrediction(p, step, nil)
		roundTrip(t, pred)
		_ = pred.Step()
	})
}

// FuzzBatches: any body load-probe or predictor may be posted as a batch
// either fails to decode or re-encodes stably, is sized by CheckSize
// without a panic, and, signed, verifies: the signature covers the
// canonical bytes, so a decoded batch's canonical form is deterministic;
// a probe batch's signature does not authenticate a prediction batch.
func FuzzBatches(f *testing.F) {
	f.Add([]byte(`{"at":"2026-01-02T03:04:00Z","source":"gateway","items":[` + seedProbe + `]}`))
	f.Add([]byte(`{"at":"2026-01-02T03:04:00Z","predictions":[` + seedPrediction + `],"errors":[{"index":1,"function":"x","error":"no history"}]}`))
	f.Add([]byte(`{"items":[],"predictions":[],"auth":{"id":"x","at":"0001-01-01T00:00:00Z","sig":"zz"}}`))
	keys := chainauth.MustKeys("fuzz-key-of-some-length-0123456789")
	f.Fuzz(func(t *testing.T, body []byte) {
		var pb ProbeBatch
		if json.Unmarshal(body, &pb) == nil {
			roundTrip(t, pb)
			_ = CheckSize(len(pb.Items))
			if err := pb.Sign(keys, fuzzNow, "id-1"); err != nil {
				t.Fatalf("sign a decoded probe batch: %v", err)
			}
			if err := pb.Verify(keys, fuzzNow, time.Minute); err != nil {
				t.Fatalf("a probe batch fails its own signature: %v", err)
			}
			pr := PredictionBatch{At: pb.At, Auth: pb.Auth}
			if pr.Verify(keys, fuzzNow, time.Minute) == nil {
				t.Fatalf("a probe batch's signature verified as a prediction batch")
			}
		}
		var rb PredictionBatch
		if json.Unmarshal(body, &rb) == nil {
			roundTrip(t, rb)
			_ = CheckSize(len(rb.Predictions))
			if err := rb.Sign(keys, fuzzNow, "id-2"); err != nil {
				t.Fatalf("sign a decoded prediction batch: %v", err)
			}
			if err := rb.Verify(keys, fuzzNow, time.Minute); err != nil {
				t.Fatalf("a prediction batch fails its own signature: %v", err)
			}
		}
	})
}
