package function

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
)

const (
	testKey  = "predictor-test-key-0123456789abcdef"
	otherKey = "not-the-chain-key-0123456789abcdef"
)

func invoke(t *testing.T, body string) handler.Response {
	t.Helper()
	return invokeCall(t, body, "")
}

// invokeCall is invoke as the queue worker calls: with X-Call-Id.
func invokeCall(t *testing.T, body, callID string) handler.Response {
	t.Helper()
	h := http.Header{}
	if callID != "" {
		h.Set("X-Call-Id", callID)
	}
	res, err := Handle(handler.Request{Body: []byte(body), Method: http.MethodPost, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// withChainKey provisions the secret prescale-chain-key (secret) for the
// test and returns it parsed.
func withChainKey(t *testing.T, secret string) chainauth.Keys {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, chainauth.SecretName), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("secret_mount_path", dir)
	return chainauth.MustKeys(secret)
}

// signed is p signed as load-probe signs it, now, as JSON.
func signed(t *testing.T, keys chainauth.Keys, p chain.ProbePayload) string {
	t.Helper()
	if err := p.Sign(keys, time.Now(), "nonce-"+strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSeedVectorBuiltin(t *testing.T) {
	t.Setenv("model", "capacity-rules")
	res := invoke(t, `{"p50":0.4,"p90":1.2,"p99":2.0,"error_rate":0.0,"Status200":100,"Status500":0,"replicas":2}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	var a chain.SeedAnswer
	if err := json.Unmarshal(res.Body, &a); err != nil {
		t.Fatal(err)
	}
	// p90 1.2 s against the 0.5 s objective at 2 replicas → ceil(2×2.4) = 5.
	if a.Replicas != 5 || a.Model != "capacity-rules" || a.Version == "" || len(a.Reasons) == 0 {
		t.Fatalf("answer %+v", a)
	}
}

func TestProbePayloadRampBuiltin(t *testing.T) {
	t.Setenv("model", "holt-peak")
	t0 := time.Now().UTC().Add(-time.Minute)
	var hist []decide.Sample
	for i, r := range []float64{2, 4, 6, 8, 10, 12} {
		hist = append(hist, decide.Sample{Function: "hello", At: t0.Add(time.Duration(i*5) * time.Second), Interval: 5, RPS: r, MeanLatency: 0.2})
	}
	p := chain.ProbePayload{Function: "hello", At: hist[5].At, History: hist, Replicas: 2,
		Labels: map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "10"}}
	b, _ := json.Marshal(p)
	res := invoke(t, string(b))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	var pr chain.Prediction
	if err := json.Unmarshal(res.Body, &pr); err != nil {
		t.Fatal(err)
	}
	// Reactive: 12 rps × 0.2 s = 2.4 → 3. The ramp (+2 rps per 5 s) over 30 s
	// projects ≥ 20 rps → ≥ 4 replicas, ahead of the current load.
	if pr.Reactive != 3 || pr.Predicted < 5 || pr.Replicas != pr.Predicted || pr.Forecast == nil || pr.Forecast.RPS < 20 ||
		pr.Model != "holt-peak" || pr.Version != "1" || !pr.At.Equal(hist[5].At) || len(pr.Reasons) < 3 {
		t.Fatalf("prediction %+v forecast %+v", pr, pr.Forecast)
	}
}

func rampPayloadFor(fn string) chain.ProbePayload {
	t0 := time.Now().UTC().Add(-time.Minute)
	var hist []decide.Sample
	for i, r := range []float64{2, 4, 6, 8, 10, 12} {
		hist = append(hist, decide.Sample{Function: fn, At: t0.Add(time.Duration(i*5) * time.Second), Interval: 5, RPS: r, MeanLatency: 0.2})
	}
	return chain.ProbePayload{Function: fn, At: hist[5].At, History: hist, Replicas: 2,
		Labels: map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "10"}}
}

// The predictor signs its answer only when its input was validly signed:
// a hand-written payload (faas-cli invoke predictor) is answered, but
// unsigned, so it can scale nothing.
func TestPredictorSignsOnlySignedInput(t *testing.T) {
	t.Setenv("model", "holt-peak")
	keys := withChainKey(t, testKey)
	answer := func(t *testing.T, body, callID string) chain.Prediction {
		t.Helper()
		res := invokeCall(t, body, callID)
		var pr chain.Prediction
		if err := json.Unmarshal(res.Body, &pr); err != nil || res.StatusCode != http.StatusOK || pr.Replicas < 1 {
			t.Fatalf("status %d: %s", res.StatusCode, res.Body)
		}
		return pr
	}
	t.Run("signed", func(t *testing.T) {
		pr := answer(t, signed(t, keys, rampPayloadFor("hello")), "call-42")
		if pr.Auth == nil || pr.Auth.ID != "call-42" {
			t.Fatalf("signed input, answer auth %+v", pr.Auth)
		}
		if err := pr.Verify(keys, time.Now(), time.Minute); err != nil {
			t.Fatalf("the answer does not verify: %v", err)
		}
	})
	t.Run("signed, no call id", func(t *testing.T) {
		pr := answer(t, signed(t, keys, rampPayloadFor("hello")), "")
		if pr.Auth == nil || !chainauth.ValidID(pr.Auth.ID) || pr.Verify(keys, time.Now(), time.Minute) != nil {
			t.Fatalf("answer auth %+v", pr.Auth)
		}
	})
	b, _ := json.Marshal(rampPayloadFor("hello"))
	stale := rampPayloadFor("hello")
	if err := stale.Sign(keys, time.Now().Add(-10*time.Minute), "old"); err != nil {
		t.Fatal(err)
	}
	staleBody, _ := json.Marshal(stale)
	tampered := rampPayloadFor("hello")
	if err := tampered.Sign(keys, time.Now(), "n"); err != nil {
		t.Fatal(err)
	}
	tampered.Labels[decide.LabelMax] = "9"
	tamperedBody, _ := json.Marshal(tampered)
	for name, tc := range map[string]struct{ body, why string }{
		"hand-written":   {string(b), "unsigned message"},
		"wrong key":      {signed(t, chainauth.MustKeys(otherKey), rampPayloadFor("hello")), "does not verify"},
		"tampered":       {string(tamperedBody), "does not verify"},
		"stale":          {string(staleBody), "stale"},
		"hand-made auth": {strings.Replace(string(b), `"replicas":2`, `"replicas":2,"auth":{"ts":1,"id":"x","sig":"00"}`, 1), "malformed"},
	} {
		t.Run(name, func(t *testing.T) {
			pr := answer(t, tc.body, "call-1")
			if pr.Auth != nil {
				t.Fatalf("answer to a %s payload is signed: %+v", name, pr.Auth)
			}
			if !strings.Contains(strings.Join(pr.Reasons, "; "), "unsigned answer, the scaler will not act on it: ") ||
				!strings.Contains(strings.Join(pr.Reasons, "; "), tc.why) {
				t.Fatalf("reasons %q, want the unsigned note with %q", pr.Reasons, tc.why)
			}
		})
	}
	t.Run("no key configured", func(t *testing.T) {
		t.Setenv("secret_mount_path", t.TempDir())
		if pr := answer(t, signed(t, keys, rampPayloadFor("hello")), "call-1"); pr.Auth != nil {
			t.Fatalf("signed without a key: %+v", pr.Auth)
		}
	})
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"empty", "", 400, "empty body"},
		{"malformed", `{"p50":`, 400, "malformed JSON"},
		{"array", `[1,2]`, 400, "malformed JSON"},
		{"unknown features", `{"colour":"blue"}`, 400, "no known feature"},
		{"string feature", `{"p90":"slow"}`, 400, "must be a number"},
		{"payload without history", `{"function":"f","history":[]}`, 400, "empty history"},
		{"payload with bad labels", `{"function":"f","history":[{"rps":1,"interval":5}],"labels":{"com.openfaas.scale.max":"lots"}}`, 400, "com.openfaas.scale.max"},
		{"payload bad types", `{"function":7}`, 400, "malformed probe payload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := invoke(t, tc.body)
			if res.StatusCode != tc.status || !strings.Contains(string(res.Body), tc.want) {
				t.Fatalf("status %d body %s; want %d %q", res.StatusCode, res.Body, tc.status, tc.want)
			}
		})
	}
	t.Run("unknown model", func(t *testing.T) {
		t.Setenv("model", "crystal-ball")
		res := invoke(t, `{"p50":1}`)
		if res.StatusCode != 500 || !strings.Contains(string(res.Body), "known models") {
			t.Fatalf("%d %s", res.StatusCode, res.Body)
		}
	})
}
