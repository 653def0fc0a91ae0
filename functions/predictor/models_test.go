package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/pkg/inference"
	"github.com/prescale/prescale/pkg/natstest"
)

func defaults(t *testing.T) inference.Set {
	t.Helper()
	set, err := inference.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func rampPayload(t *testing.T) []byte {
	t.Helper()
	t0 := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	var hist []decide.Sample
	for i, r := range []float64{2, 4, 6, 8, 10, 12} {
		hist = append(hist, decide.Sample{Function: "hello", At: t0.Add(time.Duration(i*5) * time.Second), Interval: 5, RPS: r, MeanLatency: 0.2})
	}
	b, err := json.Marshal(chain.ProbePayload{Function: "hello", At: hist[5].At, History: hist, Replicas: 2,
		Labels: map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "10"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodePrediction(t *testing.T, res handler.Response) chain.Prediction {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	var pr chain.Prediction
	if err := json.Unmarshal(res.Body, &pr); err != nil {
		t.Fatal(err)
	}
	return pr
}

func decodeSeed(t *testing.T, res handler.Response) chain.SeedAnswer {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	var a chain.SeedAnswer
	if err := json.Unmarshal(res.Body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func asRes(t *testing.T, body []byte) handler.Response {
	t.Helper()
	return invoke(t, string(body))
}

// By default the predictor serves the embedded trained artefacts and names them.
func TestDefaultModelsAreTheTrainedArtefacts(t *testing.T) {
	set := defaults(t)
	t.Run("probe payload → holt-peak, the default forecaster", func(t *testing.T) {
		pr := decodePrediction(t, asRes(t, rampPayload(t)))
		if pr.Model != "holt-peak" || inference.DefaultForecasterChoice != inference.ChoiceBuiltin {
			t.Fatalf("default forecaster %s (%s), want holt-peak", pr.Model, inference.DefaultForecasterChoice)
		}
	})
	t.Run("probe payload, env forecaster=trained → prescale-peak", func(t *testing.T) {
		t.Setenv("forecaster", inference.ChoiceTrained)
		pr := decodePrediction(t, asRes(t, rampPayload(t)))
		if pr.Model != "prescale-peak" || pr.Model != set.Forecaster.Name() || pr.Version != set.Forecaster.Version() ||
			pr.Forecast == nil || pr.Forecast.Version != pr.Version {
			t.Fatalf("model %s %s, want %s %s (forecast %+v)", pr.Model, pr.Version, set.Forecaster.Name(), set.Forecaster.Version(), pr.Forecast)
		}
		// Reactive need is 12 rps × 0.2 s → 3; the recommendation is never below it.
		// (prescale-peak is a level+margin model trained per minute: on this
		// 30 s ramp its forecast sits between the ramp's mean and its top.)
		if pr.Reactive != 3 || pr.Replicas < 3 || pr.Forecast.RPS < 7 || !strings.Contains(strings.Join(pr.Reasons, "\n"), set.Forecaster.Version()) {
			t.Fatalf("prediction %+v forecast %+v", pr, pr.Forecast)
		}
	})
	t.Run("seed vector → seed forest", func(t *testing.T) {
		a := decodeSeed(t, asRes(t, []byte(`{"p50":0.4,"p90":1.2,"p99":2.0,"error_rate":0.0,"Status200":100,"Status500":0,"replicas":2}`)))
		if a.Model != "seed-forest" || a.Version != set.Replica.Version() || a.Replicas < 1 || len(a.Reasons) == 0 {
			t.Fatalf("answer %+v", a)
		}
		// The forest saw the features it was trained on, derived and said so.
		if a.Features.Replicas != 2 || a.Features.RPS != 100.0/30 || !strings.Contains(strings.Join(a.Reasons, "\n"), "rps not given") {
			t.Fatalf("features %+v reasons %q", a.Features, a.Reasons)
		}
		want, err := set.Replica.PredictNamed(a.Features.Named())
		if err != nil || want.Replicas != a.Replicas {
			t.Fatalf("answer %d replicas, the forest on the same features %d (%v)", a.Replicas, want.Replicas, err)
		}
	})
	t.Run("forecaster override", func(t *testing.T) {
		t.Setenv("model", inference.ChoiceTrained)
		t.Setenv("forecaster", "holt-peak")
		pr := decodePrediction(t, asRes(t, rampPayload(t)))
		a := decodeSeed(t, asRes(t, []byte(`{"p50":0.4,"p90":1.2,"p99":2.0,"Status200":100,"replicas":2}`)))
		if pr.Model != "holt-peak" || pr.Version != "1" || a.Model != "seed-forest" || a.Version != set.Replica.Version() {
			t.Fatalf("probe answered by %s %s, seed vector by %s %s", pr.Model, pr.Version, a.Model, a.Version)
		}
		t.Setenv("forecaster", "tea-leaves")
		if res := invoke(t, `{"p50":1}`); res.StatusCode != 500 || !strings.Contains(string(res.Body), `forecaster: model \"tea-leaves\"`) {
			t.Fatalf("%d %s", res.StatusCode, res.Body)
		}
	})
	t.Run("unknown model", func(t *testing.T) {
		t.Setenv("model", "crystal-ball")
		res := invoke(t, `{"p50":1}`)
		if res.StatusCode != 500 || !strings.Contains(string(res.Body), "known models are trained") {
			t.Fatalf("%d %s", res.StatusCode, res.Body)
		}
	})
}

// The seed forest reads status counts per 30-second window: counts over
// another interval are scaled, so the same traffic gives the same answer.
func TestSeedVectorUnits(t *testing.T) {
	set := defaults(t)
	base := `"p50":0.3,"p90":0.9,"p99":1.6,"error_rate":0.05,"rps":40,"in_flight":12,"replicas":3`
	per30 := decodeSeed(t, asRes(t, []byte(`{`+base+`,"Status200":1140,"Status500":60}`)))
	per15 := decodeSeed(t, asRes(t, []byte(`{`+base+`,"Status200":570,"Status500":30,"interval":15}`)))
	per60 := decodeSeed(t, asRes(t, []byte(`{`+base+`,"Status200":2280,"Status500":120,"interval":60}`)))
	for _, a := range []chain.SeedAnswer{per15, per60} {
		if a.Features.Status200 != 1140 || a.Features.Status500 != 60 || a.Features.FailureRatio != per30.Features.FailureRatio {
			t.Fatalf("converted features %+v, want those of the 30 s vector %+v", a.Features, per30.Features)
		}
		if a.Replicas != per30.Replicas || a.Version != set.Replica.Version() {
			t.Fatalf("answer %+v, 30 s answer %+v", a, per30)
		}
		if !strings.Contains(strings.Join(a.Reasons, "\n"), "scaled") || len(a.Ignored) != 0 {
			t.Fatalf("reasons %q ignored %v", a.Reasons, a.Ignored)
		}
	}
	res := invoke(t, `{"p50":0.3,"interval":0.5}`)
	if res.StatusCode != 400 || !strings.Contains(string(res.Body), "1..3600") {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
}

// A source whose artefacts failed to load answers with the built-in models and says why.
func TestFallbackWhenArtefactsFail(t *testing.T) {
	t.Setenv("model", inference.ChoiceTrained)
	src := &modelSource{watcher: inference.NewWatcher(inference.Set{}, nil), loadErr: inference.ErrInvalid}
	c, err := readConfig(func(string, string) *modelSource { return src })
	if err != nil {
		t.Fatal(err)
	}
	res, _ := c.handle(rampPayload(t), "", time.Now())
	pr := decodePrediction(t, res)
	if pr.Model != "holt-peak" || !strings.Contains(strings.Join(pr.Reasons, "\n"), "fallback: trained forecaster unavailable") {
		t.Fatalf("model %s reasons %q", pr.Model, pr.Reasons)
	}
	res, _ = c.handle([]byte(`{"p50":0.4,"p90":1.2,"p99":2.0,"Status200":100,"replicas":2}`), "", time.Now())
	a := decodeSeed(t, res)
	if a.Model != "capacity-rules" || !strings.Contains(strings.Join(a.Reasons, "\n"), "fallback: trained replica model unavailable") {
		t.Fatalf("answer %+v", a)
	}
}

// A model published to the NATS object store (as `prescale train --publish`
// does) is served without a restart; a corrupt one is refused and the
// previous one keeps answering.
func TestPublishedModelIsServed(t *testing.T) {
	srv := natstest.Start(t)
	t.Setenv("NATS_URL", srv.ClientURL())
	t.Setenv("model", inference.ChoiceTrained)
	set := defaults(t)
	src := newModelSource(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	cfgSrc := func(url, bucket string) *modelSource { return src }
	c, err := readConfig(cfgSrc)
	if err != nil {
		t.Fatal(err)
	}
	if c.natsURL != srv.ClientURL() || c.bucket != inference.DefaultBucket {
		t.Fatalf("config nats %q bucket %q", c.natsURL, c.bucket)
	}
	go func() { src.follow(ctx, c.natsURL, c.bucket); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// The predictor creates the bucket when it is missing.
	var store jetstream.ObjectStore
	eventually.True(t, "the bucket created by the predictor", 20*time.Millisecond, func() bool {
		store, err = js.ObjectStore(ctx, inference.DefaultBucket)
		return err == nil
	})

	predict := func(body []byte) (chain.Prediction, chain.SeedAnswer) {
		c, err := readConfig(cfgSrc)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := c.handle(body, "", time.Now())
		if bytes.Contains(body, []byte(`"history"`)) {
			return decodePrediction(t, res), chain.SeedAnswer{}
		}
		return chain.Prediction{}, decodeSeed(t, res)
	}
	seed := []byte(`{"p50":0.4,"p90":1.2,"p99":2.0,"Status200":100,"replicas":2}`)
	if pr, _ := predict(rampPayload(t)); pr.Version != set.Forecaster.Version() {
		t.Fatalf("before publishing: %s", pr.Version)
	}

	// A retrained forecaster (a wider margin) and seed forest (other seed metadata).
	nextF := *set.Forecaster.Artefact()
	spec := *nextF.Forecaster
	spec.Params = map[string]float64{}
	for k, v := range set.Forecaster.Artefact().Forecaster.Params {
		spec.Params[k] = v
	}
	spec.Params["k"] += 0.5
	nextF.Forecaster = &spec
	nextR := *set.Replica.Artefact()
	nextR.Metrics = map[string]float64{"test_exact_accuracy": 0.5}
	for _, a := range []*inference.Artefact{&nextF, &nextR} {
		if err := a.Seal(); err != nil {
			t.Fatal(err)
		}
		if _, err := inference.Publish(ctx, store, a); err != nil {
			t.Fatal(err)
		}
	}
	if nextF.Version == set.Forecaster.Version() || nextR.Version == set.Replica.Version() {
		t.Fatal("retrained artefacts kept their versions")
	}
	eventually.True(t, "the published forecaster", 20*time.Millisecond, func() bool { pr, _ := predict(rampPayload(t)); return pr.Version == nextF.Version })
	eventually.True(t, "the published seed forest", 20*time.Millisecond, func() bool { _, a := predict(seed); return a.Version == nextR.Version })
	if pr, _ := predict(rampPayload(t)); pr.Model != "prescale-peak" || pr.Forecast.Version != nextF.Version {
		t.Fatalf("prediction names %s %s", pr.Model, pr.Forecast.Version)
	}

	// A corrupt artefact is refused; the published one keeps serving.
	applied := src.watcher.Applied()
	b, err := nextF.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutBytes(ctx, inference.ObjectName(inference.KindForecaster), bytes.Replace(b, []byte(`"k":`), []byte(`"k":7`), 1)); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the corrupt artefact refused", 20*time.Millisecond, func() bool { return src.watcher.LastError() != nil })
	if err := src.watcher.LastError(); !errors.Is(err, inference.ErrInvalid) || !strings.Contains(err.Error(), "checksum") || src.watcher.Applied() != applied {
		t.Fatalf("last error %v, applied %d → %d", err, applied, src.watcher.Applied())
	}
	if pr, _ := predict(rampPayload(t)); pr.Version != nextF.Version {
		t.Fatalf("after a corrupt artefact the predictor serves %s, want %s", pr.Version, nextF.Version)
	}
}
