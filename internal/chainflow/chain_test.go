package chainflow_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	handler "github.com/openfaas/templates-sdk/go-http"

	probe "github.com/prescale/prescale/functions/load-probe"
	predictor "github.com/prescale/prescale/functions/predictor"
	scaler "github.com/prescale/prescale/functions/scaler"
	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/natstest"
)

func call(t *testing.T, h func(handler.Request) (handler.Response, error), body []byte, hdr map[string]string) handler.Response {
	t.Helper()
	req := handler.Request{Method: http.MethodPost, Body: body, Header: http.Header{}}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := h(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSignedChainScales(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	t.Setenv("model", "holt-peak")
	gw.SetFunction("hello", 1, map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "8"})
	gw.SetFunction("idle", 1, map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "8"})
	gw.SetMetrics(gwtest.Metrics("hello", 100, 0, 100, 1, 10, map[string]float64{"0.1": 100}))
	if res := call(t, probe.Handle, nil, nil); res.StatusCode != 200 {
		t.Fatalf("baseline run: %d %s", res.StatusCode, res.Body)
	}
	// 60 s of a heavy load, 0.1 s per request: far beyond one replica.
	gw.SetMetrics(gwtest.Metrics("hello", 100+3000, 0, 100+3000+20, 1, 10+300, map[string]float64{"0.1": 3100}))
	if res := call(t, probe.Handle, nil, nil); res.StatusCode != 200 {
		t.Fatalf("run: %d %s", res.StatusCode, res.Body)
	}
	as := gw.Asyncs()
	if len(as) != 1 {
		t.Fatalf("async invocations %+v", as)
	}
	// The queue worker: predictor with the call id, then its body to the callback.
	// One batch for the run: hello and idle, one signature.
	res := call(t, predictor.Handle, as[0].Body, map[string]string{"X-Call-Id": as[0].CallID})
	var p chain.PredictionBatch
	if err := json.Unmarshal(res.Body, &p); err != nil || res.StatusCode != 200 || p.Auth == nil || p.Auth.ID != as[0].CallID ||
		len(p.Predictions) != 2 || len(p.Errors) != 0 {
		t.Fatalf("predictor: %d %s", res.StatusCode, res.Body)
	}
	cb := map[string]string{"X-Function-Status": "200", "X-Function-Name": "predictor", "X-Call-Id": as[0].CallID}
	answer := res.Body
	res = call(t, scaler.Handle, answer, cb)
	var out scaler.BatchResult
	if err := json.Unmarshal(res.Body, &out); err != nil || res.StatusCode != 200 || len(out.Decisions) != 2 || len(out.Errors) != 0 {
		t.Fatalf("scaler: %d %s", res.StatusCode, res.Body)
	}
	d := out.Decisions[0]
	if d.Function != "hello" || !d.Applied || d.After <= 1 || out.Decisions[1].Function != "idle" || out.Decisions[1].Scale {
		t.Fatalf("decisions %+v", out.Decisions)
	}
	if s := gw.Scales(); len(s) != 1 || int(s[0].Replicas) != d.After {
		t.Fatalf("scale calls %+v, want one to %d", s, d.After)
	}
	// The same callback again (a redelivery, a replay) changes nothing.
	if res = call(t, scaler.Handle, answer, cb); res.StatusCode != 401 || !strings.Contains(string(res.Body), "replayed") || len(gw.Scales()) != 1 {
		t.Fatalf("replayed callback: %d %s", res.StatusCode, res.Body)
	}

	// The same payload invoked by hand (faas-cli invoke predictor, the
	// auth field stripped) is answered, unsigned, and scales nothing.
	var payload map[string]any
	if err := json.Unmarshal(as[0].Body, &payload); err != nil {
		t.Fatal(err)
	}
	delete(payload, "auth")
	hand, _ := json.Marshal(payload)
	res = call(t, predictor.Handle, hand, nil)
	if res.StatusCode != 200 || strings.Contains(string(res.Body), `"auth"`) {
		t.Fatalf("hand-written invoke: %d %s", res.StatusCode, res.Body)
	}
	if res = call(t, scaler.Handle, res.Body, cb); res.StatusCode != 401 || len(gw.Scales()) != 1 {
		t.Fatalf("unsigned answer at the scaler: %d %s", res.StatusCode, res.Body)
	}
}
