package fnutil_test

import (
	"net/http"
	"strings"
	"testing"

	handler "github.com/openfaas/templates-sdk/go-http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/prescale/prescale/pkg/fnutil"
)

func TestIsMetricsRequest(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{http.MethodGet, "/metrics", true},
		{http.MethodGet, "/metrics/", true},
		{http.MethodGet, "/function/predictor/metrics", true},
		{http.MethodPost, "/metrics", false},
		{http.MethodGet, "/", false},
		{http.MethodGet, "", false},
		{http.MethodGet, "/metricsx", false},
		{http.MethodGet, "/my-metrics", false},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := handler.Request{Method: tc.method, Header: http.Header{}}
			if tc.path != "" {
				req.Header.Set(fnutil.HeaderPath, tc.path)
			}
			if got := fnutil.IsMetricsRequest(req); got != tc.want {
				t.Fatalf("IsMetricsRequest = %v, want %v", got, tc.want)
			}
		})
	}
	if fnutil.IsMetricsRequest(handler.Request{Method: http.MethodGet}) {
		t.Fatal("a request without headers is not a scrape")
	}
}

func TestMetricsResponse(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prescale_test_gauge", Help: "test"}, []string{"function_name"})
	reg.MustRegister(g)
	g.WithLabelValues("hello.openfaas-fn").Set(2.5)
	res, err := fnutil.Metrics(reg)
	if err != nil || res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%v %d %v", err, res.StatusCode, res.Header)
	}
	var p expfmt.TextParser
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(res.Body)))
	if err != nil {
		t.Fatal(err)
	}
	m := mfs["prescale_test_gauge"].GetMetric()
	if len(m) != 1 || m[0].GetGauge().GetValue() != 2.5 || m[0].GetLabel()[0].GetValue() != "hello.openfaas-fn" {
		t.Fatalf("parsed %v", mfs)
	}
}
