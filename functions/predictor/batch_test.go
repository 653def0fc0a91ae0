package function

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
)

// batchOf is a probe batch of ps, signed by keys now when keys has a key.
func batchOf(t *testing.T, keys chainauth.Keys, ps ...chain.ProbePayload) string {
	t.Helper()
	b := chain.ProbeBatch{At: time.Now().UTC(), Source: "gateway", Items: ps}
	if keys.Len() > 0 {
		if err := b.Sign(keys, time.Now(), "nonce-"+strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
			t.Fatal(err)
		}
	}
	body, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func batchAnswer(t *testing.T, body, callID string) chain.PredictionBatch {
	t.Helper()
	res := invokeCall(t, body, callID)
	var out chain.PredictionBatch
	if err := json.Unmarshal(res.Body, &out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s (%v)", res.StatusCode, res.Body, err)
	}
	return out
}

// A signed batch with one bad item (no history) among good ones: every
// good item is answered as its single payload would be, the bad one gets
// an error entry naming it, and the answer is signed once with the call id.
func TestBatchWithABadItem(t *testing.T) {
	t.Setenv("model", "holt-peak")
	keys := withChainKey(t, testKey)
	bad := chain.ProbePayload{Function: "broken", At: time.Now().UTC()}
	badLabels := rampPayloadFor("bad-labels")
	badLabels.Labels[decide.LabelMax] = "lots"
	out := batchAnswer(t, batchOf(t, keys, rampPayloadFor("a"), bad, rampPayloadFor("b"), badLabels), "call-7")
	if out.Auth == nil || out.Auth.ID != "call-7" {
		t.Fatalf("answer not signed with the call id: %+v", out.Auth)
	}
	if err := out.Verify(keys, time.Now(), time.Minute); err != nil {
		t.Fatalf("answer's signature: %v", err)
	}
	if len(out.Predictions) != 2 || out.Predictions[0].Function != "a" || out.Predictions[1].Function != "b" {
		t.Fatalf("predictions %+v", out.Predictions)
	}
	if len(out.Errors) != 2 || out.Errors[0].Index != 1 || out.Errors[0].Function != "broken" || !strings.Contains(out.Errors[0].Error, "empty history") ||
		out.Errors[1].Index != 3 || !strings.Contains(out.Errors[1].Error, decide.LabelMax) {
		t.Fatalf("errors %+v", out.Errors)
	}
	// Each item's answer is what its payload alone gets.
	single := invokeCall(t, string(mustJSON(t, rampPayloadFor("a"))), "")
	var one chain.Prediction
	if err := json.Unmarshal(single.Body, &one); err != nil {
		t.Fatal(err)
	}
	got := out.Predictions[0]
	if got.Auth != nil || got.Replicas != one.Replicas || got.Predicted != one.Predicted || got.Reactive != one.Reactive || got.Forecast.RPS != one.Forecast.RPS {
		t.Fatalf("batched %+v, alone %+v", got, one)
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

// Forged, tampered and stale batches are answered, unsigned, with why.
func TestBatchSignedOnlyWhenValid(t *testing.T) {
	t.Setenv("model", "holt-peak")
	keys := withChainKey(t, testKey)
	var tampered chain.ProbeBatch
	if err := json.Unmarshal([]byte(batchOf(t, keys, rampPayloadFor("a"), rampPayloadFor("b"))), &tampered); err != nil {
		t.Fatal(err)
	}
	tampered.Items[1].Labels[decide.LabelMax] = "9"
	stale := chain.ProbeBatch{At: time.Now().UTC(), Items: []chain.ProbePayload{rampPayloadFor("a")}}
	if err := stale.Sign(keys, time.Now().Add(-10*time.Minute), "old"); err != nil {
		t.Fatal(err)
	}
	// One item's own single-payload signature does not sign a batch.
	var asItem chain.ProbeBatch
	p := rampPayloadFor("a")
	if err := p.Sign(keys, time.Now(), "item-sig"); err != nil {
		t.Fatal(err)
	}
	asItem = chain.ProbeBatch{At: time.Now().UTC(), Items: []chain.ProbePayload{p}, Auth: p.Auth}
	for name, tc := range map[string]struct {
		body, why string
	}{
		"unsigned":       {batchOf(t, chainauth.Keys{}, rampPayloadFor("a")), "unsigned message"},
		"wrong key":      {batchOf(t, chainauth.MustKeys(otherKey), rampPayloadFor("a")), "does not verify"},
		"tampered":       {string(mustJSON(t, tampered)), "does not verify"},
		"stale":          {string(mustJSON(t, stale)), "stale"},
		"item signature": {string(mustJSON(t, asItem)), "does not verify"},
	} {
		t.Run(name, func(t *testing.T) {
			out := batchAnswer(t, tc.body, "call-1")
			if out.Auth != nil || len(out.Predictions) == 0 {
				t.Fatalf("answer %+v", out)
			}
			if r := strings.Join(out.Reasons, "; "); !strings.Contains(r, "unsigned answer") || !strings.Contains(r, tc.why) {
				t.Fatalf("reasons %q, want %q", r, tc.why)
			}
		})
	}
}

// A batch over chain.MaxBatch items, or with none, is refused whole.
func TestBatchLimits(t *testing.T) {
	t.Setenv("model", "holt-peak")
	keys := withChainKey(t, testKey)
	small := chain.ProbePayload{Function: "f", History: []decide.Sample{{Interval: 5, RPS: 1}}}
	items := make([]chain.ProbePayload, chain.MaxBatch+1)
	for i := range items {
		items[i] = small
	}
	t.Setenv("max_body", strconv.Itoa(64<<20))
	res := invokeCall(t, batchOf(t, keys, items...), "call-1")
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(res.Body), "batch over 500 items") {
		t.Fatalf("oversized batch: %d %s", res.StatusCode, res.Body)
	}
	res = invokeCall(t, `{"at":"2026-01-01T00:00:00Z","items":[]}`, "call-1")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(res.Body), "no items") {
		t.Fatalf("empty batch: %d %s", res.StatusCode, res.Body)
	}
	res = invokeCall(t, batchOf(t, keys, items[:chain.MaxBatch]...), "call-1")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("batch at the limit: %d %.300s", res.StatusCode, res.Body)
	}
}
