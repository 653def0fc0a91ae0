package function

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/natstest"
)

const otherKey = "an-attackers-key-0123456789abcdef"

// chainEnv is a fake gateway with hello opted in at 1 replica, NATS, and
// the chain key provisioned.
func chainEnv(t *testing.T) (*gwtest.Gateway, string) {
	t.Helper()
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello", 1, optedIn)
	return gw, ns.ClientURL()
}

// Forged scaler calls: each is answered 401, says why, and no scale call
// reaches the gateway (nor is a decision logged). The curl (an
// unsigned body asking for 10 replicas of hello) is the first.
func TestForgedCallsScaleNothing(t *testing.T) {
	now := time.Now().UTC()
	big := func(fn string) chain.Prediction { return predictionAt(fn, now, 1000, 1000) }
	tampered := func(t *testing.T) string {
		p := big("hello")
		if err := p.Sign(testKeys, now, "tampered-1"); err != nil {
			t.Fatal(err)
		}
		p.Observed.RPS = 5000 // changed after signing
		b, _ := jsonMarshal(p)
		return b
	}
	tests := []struct {
		name string
		body func(t *testing.T) string
		want string
	}{
		{"unsigned (the issue's curl)", func(*testing.T) string {
			return `{"function":"hello","observed":{"interval":5,"rps":1000,"in_flight":50,"mean_latency":0.1}}`
		}, "unsigned message"},
		{"unsigned prediction", func(*testing.T) string { b, _ := jsonMarshal(big("hello")); return b }, "unsigned message"},
		{"unsigned namespace-suffixed name", func(*testing.T) string { b, _ := jsonMarshal(big("hello.openfaas-fn")); return b }, "unsigned message"},
		{"wrong key", func(t *testing.T) string { return sign(t, chainauth.MustKeys(otherKey), big("hello"), now) }, "does not verify"},
		{"tampered after signing", tampered, "does not verify"},
		// Signed as sent: the scaler's clock is compared with the default window.
		{"stale timestamp", func(t *testing.T) string { return sign(t, testKeys, big("hello"), time.Now().Add(-91*time.Second)) }, "stale message"},
		{"timestamp from the future", func(t *testing.T) string { return sign(t, testKeys, big("hello"), time.Now().Add(10*time.Minute)) }, "stale message"},
		{"malformed signature", func(*testing.T) string {
			b, _ := jsonMarshal(big("hello"))
			return strings.TrimSuffix(b, "}") + `,"auth":{"ts":1,"id":"x","sig":"nothex"}}`
		}, "malformed signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw, url := chainEnv(t)
			res, _ := callback(t, tc.body(t), map[string]string{"X-Function-Status": "200"})
			if res.StatusCode != 401 || !strings.Contains(string(res.Body), tc.want) || !strings.Contains(string(res.Body), "no change") {
				t.Fatalf("status %d body %s; want 401 with %q", res.StatusCode, res.Body, tc.want)
			}
			if s := gw.Scales(); len(s) != 0 || gw.Replicas("hello") != 1 {
				t.Fatalf("a forged call scaled: %+v", s)
			}
			if ds := decisions(t, url); len(ds) != 0 {
				t.Fatalf("a forged call was logged as a decision: %+v", ds)
			}
		})
	}
}

// A validly signed prediction scales; the same body again (a replayed call
// id) is refused with 401 and scales nothing more.
func TestSignedScalesReplayRefused(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	body := prediction("hello", 10, 55)
	res, m := callback(t, body, map[string]string{"X-Function-Status": "200"})
	if res.StatusCode != 200 || m["after"].(float64) != 6 || m["applied"] != true {
		t.Fatalf("signed prediction: %d %s", res.StatusCode, res.Body)
	}
	res, _ = callback(t, body, map[string]string{"X-Function-Status": "200"})
	if res.StatusCode != 401 || !strings.Contains(string(res.Body), "replayed message") {
		t.Fatalf("replay: %d %s", res.StatusCode, res.Body)
	}
	if s := gw.Scales(); len(s) != 1 || s[0].Replicas != 6 {
		t.Fatalf("scales %+v", s)
	}
	if ds := decisions(t, url); len(ds) != 1 {
		t.Fatalf("decisions %+v", ds)
	}
}

// A prediction whose work failed before anything was changed (its function
// not found yet, the gateway unreachable) releases its id: the very same
// prediction sent again is applied, and only then refused as a replay.
func TestFailedReadCanBeRetried(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	body := prediction("late", 10, 55)
	if res, _ := callback(t, body, nil); res.StatusCode != 404 {
		t.Fatalf("an unknown function: %d %s", res.StatusCode, res.Body)
	}
	t.Setenv("gateway_url", "http://127.0.0.1:1")
	if res, _ := callback(t, body, nil); res.StatusCode != 502 {
		t.Fatalf("the gateway down: %d %s", res.StatusCode, res.Body)
	}
	t.Setenv("gateway_url", gw.URL)
	gw.SetFunction("late", 1, optedIn)
	res, m := callback(t, body, nil)
	if res.StatusCode != 200 || m["applied"] != true || gw.Replicas("late") != 6 {
		t.Fatalf("sent again once the function is there: %d %s", res.StatusCode, res.Body)
	}
	if res, _ := callback(t, body, nil); res.StatusCode != 401 || !strings.Contains(string(res.Body), "replayed") {
		t.Fatalf("the applied prediction again: %d %s", res.StatusCode, res.Body)
	}
	if ds := decisions(t, url); len(ds) != 1 || len(gw.Scales()) != 1 {
		t.Fatalf("decisions %+v, scales %+v: want one of each", ds, gw.Scales())
	}
}

// A signed "hello.openfaas-fn" is hello: the same policy state, so it
// cannot skip hello's stabilization window.
func TestNamespaceSuffixSharesState(t *testing.T) {
	gw, _ := chainEnv(t)
	if res, _ := callback(t, prediction("hello", 10, 55), nil); res.StatusCode != 200 || gw.Replicas("hello") != 6 {
		t.Fatalf("scale up: %d %s", res.StatusCode, res.Body)
	}
	for _, name := range []string{"hello.openfaas-fn", "hello"} {
		res, m := callback(t, prediction(name, 1, 1), nil)
		if res.StatusCode != 200 || m["after"].(float64) != 6 || m["function"] != "hello" {
			t.Fatalf("%s with low load: %d %s", name, res.StatusCode, res.Body)
		}
	}
	if s := gw.Scales(); len(s) != 1 {
		t.Fatalf("the namespace-suffixed name skipped stabilization: %+v", s)
	}
	// A suffix contradicting the namespace field is refused.
	p := predictionAt("hello.openfaas-fn", time.Now().UTC(), 1, 1)
	p.Namespace = "staging"
	if res, _ := callback(t, sign(t, testKeys, p, time.Now()), nil); res.StatusCode != 400 || len(gw.Scales()) != 1 {
		t.Fatalf("contradicting namespace: %d %s", res.StatusCode, res.Body)
	}
}

// A prediction older than the one the last decision was made on (a
// delayed callback, an overlapping chain run) is ignored: 200 with a
// non-scaling answer, nothing scaled, nothing logged.
func TestOlderPredictionIgnored(t *testing.T) {
	wideStaleWindow(t)
	gw, url := chainEnv(t)
	now := time.Now().UTC()
	newer := sign(t, testKeys, predictionAt("hello", now, 10, 10), now)
	older := sign(t, testKeys, predictionAt("hello", now.Add(-5*time.Second), 10, 55), now)
	if res, _ := callback(t, newer, nil); res.StatusCode != 200 {
		t.Fatalf("newer: %d %s", res.StatusCode, res.Body)
	}
	res, m := callback(t, older, nil)
	if res.StatusCode != 200 || m["result"] != "ignored" || !strings.Contains(m["reason"].(string), "not newer than the last decision") {
		t.Fatalf("older: %d %s", res.StatusCode, res.Body)
	}
	if s := gw.Scales(); len(s) != 0 {
		t.Fatalf("the older prediction scaled: %+v", s)
	}
	if ds := decisions(t, url); len(ds) != 1 {
		t.Fatalf("decisions %+v, want only the newer one's", ds)
	}
}

// Rotation: with "new\nold" in the secret, a prediction signed with the
// old key still scales; with only the new key it is refused.
func TestRotationAcceptsPreviousKey(t *testing.T) {
	gw, _ := chainEnv(t)
	dir := os.Getenv("secret_mount_path")
	write := func(content string) {
		if err := os.WriteFile(filepath.Join(dir, chainauth.SecretName), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const newKey = "the-new-chain-key-0123456789abcdef"
	write(newKey + "\n" + gwtest.TestChainKey + "\n")
	res, m := callback(t, prediction("hello", 10, 55), nil) // signed with the previous key
	if res.StatusCode != 200 || m["applied"] != true || gw.Replicas("hello") != 6 {
		t.Fatalf("previous key: %d %s", res.StatusCode, res.Body)
	}
	write(newKey + "\n")
	if res, _ := callback(t, prediction("hello", 10, 75), nil); res.StatusCode != 401 || len(gw.Scales()) != 1 {
		t.Fatalf("retired key: %d %s", res.StatusCode, res.Body)
	}
	p := predictionAt("hello", time.Now().UTC(), 10, 75)
	if res, _ := callback(t, sign(t, chainauth.MustKeys(newKey), p, time.Now()), nil); res.StatusCode != 200 || gw.Replicas("hello") != 8 {
		t.Fatalf("new key: %d %s", res.StatusCode, res.Body)
	}
}

// Without the secret the scaler authenticates nothing and scales nothing.
func TestNoChainKeyScalesNothing(t *testing.T) {
	gw := gwtest.New(t)
	gw.ChainKey = ""
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello", 1, optedIn)
	res, _ := callback(t, prediction("hello", 10, 55), nil)
	if res.StatusCode != 500 || !strings.Contains(string(res.Body), chainauth.SecretName) || len(gw.Scales()) != 0 {
		t.Fatalf("no key: %d %s", res.StatusCode, res.Body)
	}
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
