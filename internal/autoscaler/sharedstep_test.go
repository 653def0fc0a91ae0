package autoscaler

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"

	predictor "github.com/prescale/prescale/functions/predictor"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/inference"
	"github.com/prescale/prescale/plugin/stack"
)

// The simulator's prescale row and the predictor function make the same
// prediction for the same history: the function (through its public
// Handle, with its default environment) and the simulator's controller
// are given 40 random histories with the labels the simulator derives from
// a function's bounds and concurrency.
func TestPredictorAndSimulatorShareTheStep(t *testing.T) {
	for _, k := range []string{"model", "forecaster", "horizon"} {
		t.Setenv(k, "") // the predictor's defaults
	}
	cfg := DefaultPrescale()
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 40 {
		fi := sim.FunctionInfo{Name: fmt.Sprintf("fn-%d", i), Concurrency: 1 + r.IntN(8), MeanService: 0.2, Min: r.IntN(2), Max: 5 + r.IntN(50), ColdStartMax: 10}
		ctl := Prescale{Config: cfg}.NewController(fi).(*prescaleCtl)
		n := 1 + r.IntN(60)
		rate := r.Float64() * 50
		for j := range n {
			rate = max(0, rate+r.NormFloat64()*5)
			lat := 0.0
			if rate > 0 {
				lat = 0.05 + r.Float64()
			}
			ctl.hist = append(ctl.hist, decide.Sample{Function: fi.Name, At: base.Add(time.Duration(5*j) * time.Second),
				Interval: 5, RPS: rate, Status200: rate * 5, InFlight: float64(r.IntN(20)), MeanLatency: lat, Replicas: 1 + r.IntN(4)})
		}
		now := ctl.hist[n-1].At
		simPred, ok := ctl.step(now)
		if !ok {
			t.Fatalf("%s: the simulator made no prediction", fi.Name)
		}

		body, err := json.Marshal(chain.ProbePayload{Function: fi.Name, At: now, History: ctl.hist, Labels: map[string]string{
			decide.LabelEnabled: "true", decide.LabelMin: strconv.Itoa(fi.Min), decide.LabelMax: strconv.Itoa(fi.Max),
			decide.LabelTargetConcurrency: strconv.FormatFloat(ctl.set.Capacity.TargetConcurrency, 'g', -1, 64),
		}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := predictor.Handle(handler.Request{Body: body})
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: predictor answered %d %s (%v)", fi.Name, res.StatusCode, res.Body, err)
		}
		var fn chain.Prediction
		if err := json.Unmarshal(res.Body, &fn); err != nil {
			t.Fatal(err)
		}
		if fn.Replicas != simPred.Recommended || fn.Predicted != simPred.Predicted || fn.Reactive != simPred.Reactive ||
			fn.ServiceTime != simPred.ServiceTime || fn.Forecast == nil || fn.Forecast.RPS != simPred.Forecast.RPS ||
			fn.Model != simPred.Forecast.Model || fn.Forecast.Horizon != simPred.Forecast.Horizon {
			t.Fatalf("%s (%d samples): predictor %d (predicted %d, reactive %d, svc %g, forecast %+v), simulator %d (predicted %d, reactive %d, svc %g, forecast %+v)",
				fi.Name, n, fn.Replicas, fn.Predicted, fn.Reactive, fn.ServiceTime, fn.Forecast,
				simPred.Recommended, simPred.Predicted, simPred.Reactive, simPred.ServiceTime, simPred.Forecast)
		}
	}
}

// stack.yml's predictor serves the forecaster the benchmark's prescale row
// measures (with no PRESCALE_* variable set).
func TestStackForecasterIsTheBenchmarks(t *testing.T) {
	st, err := stack.Load(filepath.Join(testenv.Root(t), "stack.yml"), stack.Options{Lookup: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := st.Functions["predictor"]
	if !ok {
		t.Fatal("stack.yml has no predictor")
	}
	env := fn.Environment
	choice, err := inference.ParseChoice(env["model"], inference.DefaultReplicaChoice)
	if err != nil {
		t.Fatal(err)
	}
	if env["model"] == "" {
		choice = inference.DefaultForecasterChoice
	}
	if choice, err = inference.ParseChoice(env["forecaster"], choice); err != nil {
		t.Fatal(err)
	}
	f, _, err := NewForecaster(choice)
	if err != nil {
		t.Fatal(err)
	}
	if bench := DefaultPrescale().Forecaster; f.Name() != bench.Name() || f.Version() != bench.Version() {
		t.Fatalf("stack.yml's predictor serves %s %s (model=%q forecaster=%q), the benchmark measures %s %s",
			f.Name(), f.Version(), env["model"], env["forecaster"], bench.Name(), bench.Version())
	}
}
