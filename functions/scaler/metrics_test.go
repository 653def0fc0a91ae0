package function

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	handler "github.com/openfaas/templates-sdk/go-http"
	"github.com/prometheus/common/expfmt"

	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/natstest"
)

// scrape GETs path from Handle and parses the Prometheus text format.
func scrape(t *testing.T, method, path string) (handler.Response, map[string]float64) {
	t.Helper()
	res, err := Handle(handler.Request{Method: method, Header: http.Header{fnutil.HeaderPath: {path}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		return res, nil
	}
	var p expfmt.TextParser
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(res.Body)))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, res.Body)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.Metric {
			key := name
			for _, l := range m.Label {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			}
		}
	}
	return res, out
}

// metricRuns numbers the runs of the metrics tests in this process.
var metricRuns atomic.Int64

func TestMetricsEndpoint(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	t.Setenv("metrics_label_suffix", ".openfaas-fn")
	// The registry lives with the process: a fresh function name per run
	// keeps -count=N runs apart.
	name := fmt.Sprintf("metered-%d", metricRuns.Add(1))
	gw.SetFunction(name, 1, optedIn)

	callback(t, prediction(name, 10, 55), nil) // scale up 1 → 6
	callback(t, prediction(name, 10, 10), nil) // held at 6
	t.Setenv("forecast_only", "true")
	callback(t, prediction(name, 10, 75), nil) // would scale to 8
	callback(t, `{"function":`, nil)           // malformed: not a decision

	fn := "function_name=" + name + ".openfaas-fn"
	tests := []struct {
		path, metric string
		want         float64
	}{
		{"/metrics", "prescale_scaler_decisions_total,action=scale_up," + fn, 1},
		{"/function/scaler/metrics", "prescale_scaler_decisions_total,action=hold," + fn, 1},
		{"/function/scaler/metrics/", "prescale_scaler_decisions_total,action=forecast_only," + fn, 1},
		{"/metrics", "prescale_scaler_desired_replicas," + fn, 8},
	}
	for _, tc := range tests {
		t.Run(tc.path+" "+tc.metric, func(t *testing.T) {
			_, got := scrape(t, http.MethodGet, tc.path)
			if v, ok := got[tc.metric]; !ok || v != tc.want {
				t.Fatalf("%s = %v (present %v), want %v; all: %v", tc.metric, v, ok, tc.want, got)
			}
			if _, ok := got["prescale_scaler_decisions_total,action=scale_down,"+fn]; ok {
				t.Fatal("a scale_down was counted")
			}
		})
	}
	// Not a scrape: POST to /metrics, GET elsewhere.
	for _, c := range []struct{ method, path string }{{http.MethodPost, "/metrics"}, {http.MethodGet, "/"}, {http.MethodGet, "/metricsx"}} {
		res, got := scrape(t, c.method, c.path)
		if got != nil || res.StatusCode == http.StatusOK {
			t.Errorf("%s %s answered as a scrape: %d %s", c.method, c.path, res.StatusCode, res.Body)
		}
	}
}
