package function

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"
	"github.com/prometheus/common/expfmt"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
)

func scrapeMetrics(t *testing.T, path string) map[string]float64 {
	t.Helper()
	res, err := Handle(handler.Request{Method: http.MethodGet, Header: http.Header{fnutil.HeaderPath: {path}}})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %d %s", path, err, res.StatusCode, res.Body)
	}
	var p expfmt.TextParser
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(res.Body)))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, res.Body)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "function_name" {
					out[name+"/"+l.GetValue()] = m.Gauge.GetValue()
				}
			}
		}
	}
	return out
}

// metricRuns numbers the runs of the metrics tests in this process.
var metricRuns atomic.Int64

// TestMetricsForecastAgainstActual: two probe payloads one horizon apart;
// the second scores the first forecast against the rate then observed.
func TestMetricsForecastAgainstActual(t *testing.T) {
	t.Setenv("model", "holt-peak")
	t.Setenv("horizon", "10s")
	t.Setenv("metrics_label_suffix", ".openfaas-fn")
	keys := withChainKey(t, testKey)
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	// The registry lives with the process: a fresh function name per run
	// keeps -count=N runs apart.
	name := fmt.Sprintf("gauged-%d", metricRuns.Add(1))
	var hist []decide.Sample
	send := func(rps float64) chain.Prediction {
		t.Helper()
		hist = append(hist, decide.Sample{Function: name, At: t0.Add(time.Duration(len(hist)*5) * time.Second), Interval: 5, RPS: rps, MeanLatency: 0.1})
		res := invoke(t, signed(t, keys, chain.ProbePayload{Function: name, At: hist[len(hist)-1].At, History: hist,
			Labels: map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "20"}}))
		var p chain.Prediction
		if err := json.Unmarshal(res.Body, &p); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, res.Body)
		}
		return p
	}
	label := name + ".openfaas-fn"
	first := send(4)
	send(6) // 5 s later: the first forecast (due at +10 s) is not scored yet
	got := scrapeMetrics(t, "/metrics")
	if _, ok := got["prescale_forecast_abs_error_ratio/"+label]; ok {
		t.Fatal("forecast error reported before any horizon passed")
	}
	third := send(8) // +10 s: scores the first forecast against 8 rps
	got = scrapeMetrics(t, "/function/predictor/metrics")
	wantErr := math.Abs(first.Forecast.RPS-8) / 8
	for name, want := range map[string]float64{
		"prescale_forecast_rps":             third.Forecast.RPS,
		"prescale_recommended_replicas":     float64(third.Replicas),
		"prescale_forecast_abs_error_ratio": wantErr,
	} {
		if v, ok := got[name+"/"+label]; !ok || math.Abs(v-want) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if third.Replicas < 1 || first.Forecast.RPS <= 0 {
		t.Fatalf("degenerate predictions %+v %+v", first, third)
	}
}

// Only validly signed payloads get metric series: a hand-written body, a
// forged one or one signed with another key adds no function_name label.
func TestMetricsOnlyForSignedPayloads(t *testing.T) {
	t.Setenv("model", "holt-peak")
	withChainKey(t, testKey)
	now := time.Now().UTC()
	n := metricRuns.Add(1)
	unsigned := fmt.Sprintf("unsigned-%d", n)
	forged := fmt.Sprintf("forged-%d", n)
	payload := func(fn string) chain.ProbePayload {
		return chain.ProbePayload{Function: fn, At: now, History: []decide.Sample{{Function: fn, At: now, Interval: 5, RPS: 3, MeanLatency: 0.1}},
			Labels: map[string]string{decide.LabelEnabled: "true"}}
	}
	b, _ := json.Marshal(payload(unsigned))
	if res := invoke(t, string(b)); res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	if res := invoke(t, signed(t, chainauth.MustKeys(otherKey), payload(forged))); res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	for name := range scrapeMetrics(t, "/metrics") {
		if strings.HasSuffix(name, "/"+unsigned) || strings.HasSuffix(name, "/"+forged) {
			t.Fatalf("series %s recorded for a payload that was not validly signed", name)
		}
	}
}

// Past maxSeries function names, new ones share one "_other" series.
func TestMetricsSeriesCapped(t *testing.T) {
	m := newMetrics()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxSeries + 50 {
		m.observe(fmt.Sprintf("fn-%d", i), decide.Sample{At: at, RPS: 1}, at, time.Minute, 1, 1)
	}
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		labels := map[string]bool{}
		for _, mm := range mf.Metric {
			for _, l := range mm.Label {
				labels[l.GetValue()] = true
			}
		}
		if len(labels) != maxSeries+1 || !labels[otherLabel] || !labels["fn-0"] || labels[fmt.Sprintf("fn-%d", maxSeries)] {
			t.Fatalf("%s: %d label values (other %v), want %d", mf.GetName(), len(labels), labels[otherLabel], maxSeries+1)
		}
	}
}

func TestErrorRatio(t *testing.T) {
	tests := []struct {
		name             string
		forecast, actual float64
		want             float64
		ok               bool
	}{
		{"over", 12, 10, 0.2, true},
		{"under", 5, 10, 0.5, true},
		{"idle and forecast idle", 0, 0, 0, true},
		{"idle but forecast load", 3, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := errorRatio(tc.forecast, tc.actual)
			if ok != tc.ok || math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("errorRatio(%v, %v) = %v, %v; want %v, %v", tc.forecast, tc.actual, got, ok, tc.want, tc.ok)
			}
		})
	}
}
