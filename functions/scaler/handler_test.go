package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/natstest"
	"github.com/prescale/prescale/pkg/state"
)

// testKeys is what gwtest.Gateway.Env provisions as prescale-chain-key.
var testKeys = chainauth.MustKeys(gwtest.TestChainKey)

// callIDs numbers the test predictions' ids.
var callIDs atomic.Int64

// predictionAt is an unsigned prediction for fn observed at at.
func predictionAt(fn string, at time.Time, rps, forecast float64) chain.Prediction {
	return chain.Prediction{Function: fn, At: at, ServiceTime: 0.1,
		Observed: decide.Sample{Function: fn, At: at, Interval: 5, RPS: rps, MeanLatency: 0.1},
		Forecast: &decide.Forecast{Model: "holt-peak", Version: "1", At: at, Horizon: 30, RPS: forecast}}
}

// sign is p signed by keys at signedAt with a fresh call id, as JSON.
func sign(t *testing.T, keys chainauth.Keys, p chain.Prediction, signedAt time.Time) string {
	t.Helper()
	if err := p.Sign(keys, signedAt, fmt.Sprintf("call-%d-%d", time.Now().UnixNano(), callIDs.Add(1))); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// prediction is a prediction for fn observed now, signed now with the
// test chain key, as the predictor answers load-probe's payload.
func prediction(fn string, rps, forecast float64) string {
	now := time.Now().UTC()
	p := predictionAt(fn, now, rps, forecast)
	if err := p.Sign(testKeys, now, fmt.Sprintf("call-%d-%d", now.UnixNano(), callIDs.Add(1))); err != nil {
		panic(err)
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func callback(t *testing.T, body string, hdr map[string]string) (handler.Response, map[string]any) {
	t.Helper()
	return callbackLogged(t, body, hdr, os.Stderr)
}

// callbackLogged is callback with the scaler's log lines written to logw.
func callbackLogged(t *testing.T, body string, hdr map[string]string, logw io.Writer) (handler.Response, map[string]any) {
	t.Helper()
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	res, err := handle(handler.Request{Body: []byte(body), Header: h, Method: http.MethodPost}, logw)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(res.Body, &m); err != nil {
		t.Fatalf("not JSON: %s", res.Body)
	}
	return res, m
}

func decisions(t *testing.T, url string) []decide.Decision {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var out []decide.Decision
	err = state.ReadDecisions(context.Background(), nc, state.DefaultConfig().DecisionStream, false, func(d decide.Decision) error {
		out = append(out, d)
		return nil
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatal(err)
	}
	return out
}

var optedIn = map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "8"}

func TestScaleUpThenStabilize(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello", 1, optedIn)

	// 10 rps now, 55 forecast: predicted 6 > reactive 1 → scale up to 6 at once.
	res, m := callback(t, prediction("hello", 10, 55), map[string]string{"X-Function-Status": "200"})
	if res.StatusCode != 200 || m["after"].(float64) != 6 || m["applied"] != true {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	if s := gw.Scales(); len(s) != 1 || s[0].Replicas != 6 || s[0].ServiceName != "hello" {
		t.Fatalf("scales %+v", s)
	}
	// Load drops: the window (300 s) holds 6, no scale call.
	res, m = callback(t, prediction("hello", 10, 10), nil)
	if res.StatusCode != 200 || m["after"].(float64) != 6 || !strings.Contains(m["reason"].(string), "held") {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	if len(gw.Scales()) != 1 || gw.Replicas("hello") != 6 {
		t.Fatalf("scaled down inside the stabilization window: %+v", gw.Scales())
	}
	ds := decisions(t, ns.ClientURL())
	if len(ds) != 2 || ds[0].Before != 1 || ds[0].After != 6 || ds[0].Model != "holt-peak" || ds[1].After != 6 || ds[1].Stabilized != 6 {
		t.Fatalf("decision log %+v", ds)
	}
}

func TestForecastOnlyAndReactiveMode(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello", 1, optedIn)
	t.Setenv("forecast_only", "true")
	res, m := callback(t, prediction("hello", 30, 70), nil)
	if res.StatusCode != 200 || m["after"].(float64) != 7 || m["scale"] != false || !strings.Contains(m["reason"].(string), "forecast-only: would scale up") {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	if len(gw.Scales()) != 0 || gw.Replicas("hello") != 1 {
		t.Fatal("forecast-only scaled")
	}
	t.Setenv("forecast_only", "false")
	// of-watchdog reads env mode (http on a cluster): the scaler ignores it.
	t.Setenv("mode", "http")
	t.Setenv("scaler_mode", "reactive")
	res, m = callback(t, prediction("hello", 30, 70), nil)
	if res.StatusCode != 200 || m["after"].(float64) != 3 || m["forecast_state"] != "missing" {
		t.Fatalf("reactive mode: %d %s", res.StatusCode, res.Body)
	}
	if len(decisions(t, ns.ClientURL())) != 2 {
		t.Fatal("decisions not logged")
	}
}

func TestNoScaleOnBadInput(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		hdr    map[string]string
		setup  func(*gwtest.Gateway)
		env    map[string]string
		status int
		want   string
	}{
		{name: "predictor failed", body: `predictor: boom`, hdr: map[string]string{"X-Function-Status": "500"}, status: 200, want: "ignored"},
		{name: "malformed JSON", body: `{"function":`, status: 400, want: "malformed prediction"},
		{name: "no function", body: `{}`, status: 400, want: "no function"},
		{name: "unknown function", body: prediction("ghost", 50, 50), status: 404, want: "ghost"},
		{name: "bad labels", body: prediction("hello", 50, 50), setup: func(g *gwtest.Gateway) {
			g.SetFunction("hello", 1, map[string]string{decide.LabelEnabled: "true", decide.LabelMin: "9", decide.LabelMax: "2"})
		}, status: 422, want: "min 9, max 2"},
		{name: "not opted in", body: prediction("hello", 50, 50), setup: func(g *gwtest.Gateway) { g.SetFunction("hello", 1, nil) }, status: 409, want: "not opted in"},
		{name: "gateway down", body: prediction("hello", 50, 50), env: map[string]string{"gateway_url": "http://127.0.0.1:1"}, status: 502, want: "gateway"},
		{name: "nats down", body: prediction("hello", 50, 50), env: map[string]string{"NATS_URL": "nats://127.0.0.1:1"}, status: 503, want: "no change"},
		{name: "bad env", body: prediction("hello", 50, 50), env: map[string]string{"stale_after": "yesterday"}, status: 500, want: "stale_after"},
		{name: "bad scaler_mode", body: prediction("hello", 50, 50), env: map[string]string{"scaler_mode": "psychic"}, status: 500, want: `scaler_mode=\"psychic\": must be predictive or reactive`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw := gwtest.New(t)
			ns := natstest.Start(t)
			gw.Env(t, ns.ClientURL())
			gw.SetFunction("hello", 1, optedIn)
			if tc.setup != nil {
				tc.setup(gw)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			res, _ := callback(t, tc.body, tc.hdr)
			if res.StatusCode != tc.status || !strings.Contains(string(res.Body), tc.want) {
				t.Fatalf("status %d body %s; want %d %q", res.StatusCode, res.Body, tc.status, tc.want)
			}
			if len(gw.Scales()) != 0 {
				t.Fatalf("scale call made: %+v", gw.Scales())
			}
		})
	}
}

func TestScaleCallFailureIsLogged(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello", 1, optedIn)
	gw.FailScale = true
	res, m := callback(t, prediction("hello", 50, 50), nil)
	if res.StatusCode != 502 || m["applied"] != false || !strings.Contains(m["error"].(string), "500") {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	ds := decisions(t, ns.ClientURL())
	if len(ds) != 1 || ds[0].Error == "" || ds[0].Applied {
		t.Fatalf("decision log %+v", ds)
	}
}
