package function

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
)

func invoke(t *testing.T, body string) handler.Response {
	t.Helper()
	res, err := Handle(handler.Request{Body: []byte(body), Method: http.MethodPost})
	if err != nil {
		t.Fatal(err)
	}
	return res
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
