package function

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/testlog"
)

// batchBody is preds as a batch signed by keys at signedAt with id (no
// signature when keys has none), as JSON.
func batchBody(t *testing.T, keys chainauth.Keys, signedAt time.Time, id string, preds ...chain.Prediction) string {
	t.Helper()
	b := chain.PredictionBatch{At: signedAt, Predictions: preds}
	if keys.Len() > 0 {
		if err := b.Sign(keys, signedAt, id); err != nil {
			t.Fatal(err)
		}
	}
	body, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// wideStaleWindow sets stale_after to an hour for a test that sends a body
// signed earlier (the same body again, or one of several signed up front,
// their forecasts made at the same time): against the default 90 s a slow
// machine could find it stale and answer for that instead. The default
// window is tested with bodies signed as they are sent
// (TestForgedCallsScaleNothing).
func wideStaleWindow(t *testing.T) { t.Setenv(envStaleAfter, "1h") }

func batchResult(t *testing.T, body string) BatchResult {
	t.Helper()
	res, _ := callback(t, body, map[string]string{"X-Function-Status": "200"})
	var out BatchResult
	if err := json.Unmarshal(res.Body, &out); err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %s (%v)", res.StatusCode, res.Body, err)
	}
	return out
}

// A batch applies every prediction on its own: each function gets its own
// decision (logged), an unknown function is an error entry that sinks
// nothing else, and a small batch reads its own functions, not the
// namespace's list (here 100 functions).
func TestBatchAppliesEveryItem(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	for i := range 100 {
		gw.SetFunction(fmt.Sprintf("fn-%d", i), 1, optedIn)
	}
	now := time.Now().UTC()
	var preds []chain.Prediction
	for i := range 5 {
		preds = append(preds, predictionAt(fmt.Sprintf("fn-%d", i), now, 10, 55)) // → 6 replicas each
	}
	preds = append(preds[:2], append([]chain.Prediction{predictionAt("ghost", now, 10, 55)}, preds[2:]...)...)
	reads, entries := gw.StatusReads(), gw.StatusEntries()
	out := batchResult(t, batchBody(t, testKeys, now, "batch-1", preds...))
	if n, e := gw.StatusReads()-reads, gw.StatusEntries()-entries; n != 6 || e != 5 {
		t.Fatalf("%d gateway status reads returning %d functions for a batch of 5 and a ghost, want 6 returning 5", n, e)
	}
	if len(out.Decisions) != 5 || len(out.Errors) != 1 || out.Errors[0].Function != "ghost" || out.Errors[0].Index != 2 || out.Errors[0].Status != 404 {
		t.Fatalf("result %+v", out)
	}
	for i, d := range out.Decisions {
		if want := fmt.Sprintf("fn-%d", i); d.Function != want || d.After != 6 || !d.Applied {
			t.Fatalf("decision %d %+v, want %s applied at 6", i, d, want)
		}
	}
	if s := gw.Scales(); len(s) != 5 {
		t.Fatalf("scale calls %+v", s)
	}
	if ds := decisions(t, url); len(ds) != 5 {
		t.Fatalf("%d decisions logged, want 5", len(ds))
	}
}

// listedPredictions opts in listMin functions fn-0, fn-1, … at 1 replica
// and predicts each at now (10 rps, 55 forecast: 6 replicas), a batch that
// lists the namespace.
func listedPredictions(gw *gwtest.Gateway, now time.Time) []chain.Prediction {
	var preds []chain.Prediction
	for i := range listMin {
		name := fmt.Sprintf("fn-%d", i)
		gw.SetFunction(name, 1, optedIn)
		preds = append(preds, predictionAt(name, now, 10, 55))
	}
	return preds
}

// A batch naming listMin functions or more of a namespace lists it once,
// and a function missing from the list is a 404 entry, as alone.
func TestLargeBatchListsOnce(t *testing.T) {
	wideStaleWindow(t)
	gw, _ := chainEnv(t)
	now := time.Now().UTC()
	preds := append(listedPredictions(gw, now), predictionAt("ghost", now, 10, 55))
	reads := gw.StatusReads()
	out := batchResult(t, batchBody(t, testKeys, now, "batch-1", preds...))
	if n := gw.StatusReads() - reads; n != 1 {
		t.Fatalf("%d gateway status reads for a batch of %d, want 1 (the list)", n, len(preds))
	}
	if len(out.Decisions) != listMin || len(out.Errors) != 1 || out.Errors[0].Function != "ghost" || out.Errors[0].Status != 404 {
		t.Fatalf("result: %d decisions, errors %+v", len(out.Decisions), out.Errors)
	}
	for _, d := range out.Decisions {
		if d.After != 6 || !d.Applied {
			t.Fatalf("decision %+v, want applied at 6", d)
		}
	}
}

// The "not newer" rule holds per item: in a later batch, a function whose
// prediction is older than its last decision's is ignored while the
// others are decided.
func TestBatchOrderingPerItem(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	gw.SetFunction("other", 1, optedIn)
	t0 := time.Now().UTC().Add(-10 * time.Second)
	batchResult(t, batchBody(t, testKeys, t0, "b-1", predictionAt("hello", t0.Add(5*time.Second), 10, 10), predictionAt("other", t0, 10, 10)))
	out := batchResult(t, batchBody(t, testKeys, t0, "b-2",
		predictionAt("hello", t0, 10, 10),                    // older than hello's last: ignored
		predictionAt("other", t0.Add(5*time.Second), 10, 10), // newer: decided
		predictionAt("other", t0.Add(5*time.Second), 10, 10), // the same again in one batch: not newer
	))
	if len(out.Decisions) != 1 || out.Decisions[0].Function != "other" || len(out.Ignored) != 2 || len(out.Errors) != 0 {
		t.Fatalf("result %+v", out)
	}
	for _, ig := range out.Ignored {
		if !strings.Contains(ig.Error, "not newer") {
			t.Fatalf("ignored %+v", ig)
		}
	}
	if out.Ignored[0].Function != "hello" || out.Ignored[0].Index != 0 {
		t.Fatalf("ignored %+v", out.Ignored)
	}
	if ds := decisions(t, url); len(ds) != 3 {
		t.Fatalf("%d decisions logged, want 3 (2 + 1)", len(ds))
	}
}

// Forged, tampered, stale, replayed and oversized batches are refused
// whole: nothing is scaled or logged.
func TestBatchForgedReplayedOrOversized(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	now := time.Now().UTC()
	big := predictionAt("hello", now, 1000, 1000)
	good := batchBody(t, testKeys, now, "replay-1", big)
	var tampered chain.PredictionBatch
	if err := json.Unmarshal([]byte(batchBody(t, testKeys, now, "t-1", predictionAt("hello", now, 1, 1))), &tampered); err != nil {
		t.Fatal(err)
	}
	tampered.Predictions[0].Replicas = 8
	tampered.Predictions[0].Forecast.RPS = 1000
	// A single prediction's signature does not sign a batch.
	single := predictionAt("hello", now, 1000, 1000)
	if err := single.Sign(testKeys, now, "single-1"); err != nil {
		t.Fatal(err)
	}
	asBatch := chain.PredictionBatch{At: now, Predictions: []chain.Prediction{single}, Auth: single.Auth}
	over := make([]chain.Prediction, chain.MaxBatch+1)
	for i := range over {
		over[i] = predictionAt(fmt.Sprintf("f-%d", i), now, 1, 1)
	}
	if out := batchResult(t, good); len(out.Decisions) != 1 || !out.Decisions[0].Applied {
		t.Fatalf("the genuine batch: %+v", out)
	}
	scales := len(gw.Scales())
	for name, tc := range map[string]struct {
		body   string
		status int
		want   string
	}{
		"unsigned":         {batchBody(t, chainauth.Keys{}, now, "", big), 401, "unsigned"},
		"wrong key":        {batchBody(t, chainauth.MustKeys(otherKey), now, "forged-1", big), 401, "does not verify"},
		"tampered":         {string(mustJSON(t, tampered)), 401, "does not verify"},
		"single signature": {string(mustJSON(t, asBatch)), 401, "does not verify"},
		"stale":            {batchBody(t, testKeys, now.Add(-2*time.Hour), "old-1", big), 401, "stale"},
		"replayed":         {good, 401, "replayed"},
		"over the limit":   {batchBody(t, testKeys, now, "over-1", over...), 413, "batch over 500"},
	} {
		t.Run(name, func(t *testing.T) {
			res, _ := callback(t, tc.body, nil)
			if res.StatusCode != tc.status || !strings.Contains(string(res.Body), tc.want) {
				t.Fatalf("%d %s, want %d %q", res.StatusCode, res.Body, tc.status, tc.want)
			}
		})
	}
	if len(gw.Scales()) != scales || len(decisions(t, url)) != 1 {
		t.Fatalf("a refused batch scaled or logged: %+v", gw.Scales())
	}
}

// errorsOnly is a batch of nothing but the predictor's errors, signed now
// with id (unsigned when id is "").
func errorsOnly(t *testing.T, id string, errs ...chain.ItemError) string {
	t.Helper()
	now := time.Now().UTC()
	b := chain.PredictionBatch{At: now, Predictions: []chain.Prediction{}, Errors: errs}
	if id != "" {
		if err := b.Sign(testKeys, now, id); err != nil {
			t.Fatal(err)
		}
	}
	return string(mustJSON(t, b))
}

// A batch of only the predictor's errors is authenticated like any other:
// unsigned it is refused (401) and nothing of it is logged; signed, its
// errors are logged (quoted: a message cannot forge a log line) and
// nothing changes; the same batch again is a replay.
func TestBatchOfPredictorErrorsOnly(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	forged := "empty history\nscaler: 00:00:00 hello replicas 1 → 10 forged"
	var logs testlog.Buffer
	res, _ := callbackLogged(t, errorsOnly(t, "", chain.ItemError{Function: "hello", Error: forged}), nil, &logs)
	if res.StatusCode != 401 || !strings.Contains(string(res.Body), "unsigned") || strings.Contains(logs.String(), "empty history") {
		t.Fatalf("unsigned: %d %s; logged %q", res.StatusCode, res.Body, logs.String())
	}
	body := errorsOnly(t, "errs-1", chain.ItemError{Function: "hello", Error: forged})
	res, _ = callbackLogged(t, body, nil, &logs)
	var out BatchResult
	if err := json.Unmarshal(res.Body, &out); err != nil || res.StatusCode != 200 || len(out.Decisions) != 0 {
		t.Fatalf("signed: %d %s (%v)", res.StatusCode, res.Body, err)
	}
	if got := logs.String(); !strings.Contains(got, `predictor could not answer "hello" (item 0), no change: "empty history\nscaler:`) ||
		strings.Contains(got, "\nscaler: 00:00:00") {
		t.Fatalf("the error is not logged quoted on one line: %q", got)
	}
	if res, _ := callback(t, body, nil); res.StatusCode != 401 || !strings.Contains(string(res.Body), "replayed") {
		t.Fatalf("the same errors-only batch again: %d %s", res.StatusCode, res.Body)
	}
	if len(gw.Scales()) != 0 || len(decisions(t, url)) != 0 {
		t.Fatalf("an errors-only batch changed something: %+v", gw.Scales())
	}
}

// The predictor's errors are logged at most maxLoggedErrors of them, each
// message clipped to maxLogged bytes, then how many more there were.
func TestBatchPredictorErrorsLoggedBounded(t *testing.T) {
	chainEnv(t)
	long := strings.Repeat("x", 5*maxLogged)
	errs := make([]chain.ItemError, maxLoggedErrors+5)
	for i := range errs {
		errs[i] = chain.ItemError{Index: i, Function: fmt.Sprintf("f-%d", i), Error: long}
	}
	var logs testlog.Buffer
	if res, _ := callbackLogged(t, errorsOnly(t, "errs-many", errs...), nil, &logs); res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	got := logs.String()
	if n := strings.Count(got, "predictor could not answer \""); n != maxLoggedErrors {
		t.Fatalf("%d errors logged, want %d:\n%s", n, maxLoggedErrors, got)
	}
	if !strings.Contains(got, "predictor could not answer 5 more items") {
		t.Fatalf("the rest is not counted:\n%s", got)
	}
	if strings.Contains(got, long[:maxLogged+1]) || !strings.Contains(got, long[:maxLogged]+"…") {
		t.Fatal("a long error message is not clipped")
	}
}

// A decision whose scale call fails is in the result's decisions (it was
// made and logged) and in its errors, with 502 and the call's error.
func TestBatchScaleFailureIsAnError(t *testing.T) {
	gw, url := chainEnv(t)
	gw.SetFunction("other", 1, optedIn)
	gw.FailScale = true
	now := time.Now().UTC()
	out := batchResult(t, batchBody(t, testKeys, now, "fail-1", predictionAt("other", now, 10, 10), predictionAt("hello", now, 10, 55)))
	if len(out.Decisions) != 2 || out.Decisions[1].Function != "hello" || out.Decisions[1].Applied || out.Decisions[1].Error == "" {
		t.Fatalf("decisions %+v", out.Decisions)
	}
	if len(out.Errors) != 1 {
		t.Fatalf("errors %+v, want hello's failed scale call alone", out.Errors)
	}
	if e := out.Errors[0]; e.Index != 1 || e.Function != "hello" || e.Status != 502 || e.Error != out.Decisions[1].Error || !strings.Contains(e.Error, "500") {
		t.Fatalf("error %+v, want item 1 (hello) 502 with the scale call's error", e)
	}
	if ds, s := decisions(t, url), gw.Scales(); len(ds) != 2 || len(s) != 0 {
		t.Fatalf("%d decisions logged, scales %+v; want 2 and none", len(ds), s)
	}
}

// A batch whose gateway list fails changed nothing: it is answered 502 and
// its id released, so the very same signed batch sent again is applied
// (not refused as a replay), once.
func TestBatchGatewayListFailureCanBeRetried(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	now := time.Now().UTC()
	body := batchBody(t, testKeys, now, "retry-1", listedPredictions(gw, now)...)
	gw.FailLists(1)
	res, _ := callback(t, body, nil)
	if res.StatusCode != 502 || !strings.Contains(string(res.Body), "list functions") {
		t.Fatalf("a failed list: %d %s, want 502", res.StatusCode, res.Body)
	}
	if len(gw.Scales()) != 0 || len(decisions(t, url)) != 0 {
		t.Fatalf("a batch answered 502 changed something: %+v", gw.Scales())
	}
	out := batchResult(t, body)
	if len(out.Decisions) != listMin || len(out.Errors) != 0 || len(gw.Scales()) != listMin {
		t.Fatalf("the batch sent again: %d decisions, errors %+v, %d scale calls", len(out.Decisions), out.Errors, len(gw.Scales()))
	}
	if res, _ := callback(t, body, nil); res.StatusCode != 401 || !strings.Contains(string(res.Body), "replayed") {
		t.Fatalf("the applied batch a third time: %d %s", res.StatusCode, res.Body)
	}
	if ds := decisions(t, url); len(ds) != listMin {
		t.Fatalf("%d decisions logged, want %d", len(ds), listMin)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
