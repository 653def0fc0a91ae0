package fnutil

import (
	"bytes"
	"net/http"
	"strings"

	handler "github.com/openfaas/templates-sdk/go-http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// HeaderPath carries the request's URL path to Handle: the golang-http
// template's handler.Request has no path, so template/golang-http/main.go
// sets this header from r.URL.Path (overwriting any the client sent).
const HeaderPath = "X-Prescale-Path"

// EnvLabelSuffix is appended to a function's name in the function_name label
// of prescale's metrics, to match the gateway's: "" on the plugin and faasd,
// ".openfaas-fn" on Kubernetes (the chart's prescale-settings key).
const EnvLabelSuffix = "metrics_label_suffix"

// IsMetricsRequest reports a Prometheus scrape: GET on a path ending in
// /metrics (/metrics on the pod, /function/<name>/metrics through a gateway).
func IsMetricsRequest(req handler.Request) bool {
	if req.Method != http.MethodGet || req.Header == nil {
		return false
	}
	p := strings.TrimSuffix(req.Header.Get(HeaderPath), "/")
	return p == "/metrics" || strings.HasSuffix(p, "/metrics")
}

// Metrics answers a scrape with g's metrics in the Prometheus text format.
func Metrics(g prometheus.Gatherer) (handler.Response, error) {
	mfs, err := g.Gather()
	if err != nil {
		return Error(http.StatusInternalServerError, "gather metrics: %v", err)
	}
	var buf bytes.Buffer
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	enc := expfmt.NewEncoder(&buf, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return Error(http.StatusInternalServerError, "encode metrics: %v", err)
		}
	}
	return handler.Response{StatusCode: http.StatusOK, Body: buf.Bytes(),
		Header: http.Header{"Content-Type": []string{string(format)}}}, nil
}
