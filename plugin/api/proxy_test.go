package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

func TestInvokeDispatchAndMetrics(t *testing.T) {
	h := newHarness(t)
	h.deploy(t, "hello-python", `,"labels":{"com.openfaas.scale.min":"3"}`)

	calls := []struct {
		method, path, status string
		code                 int
		want                 string
	}{
		{"POST", "/function/hello-python", "", 200, "hello-python / POST body"},
		{"GET", "/function/hello-python/", "", 200, "hello-python / GET"},
		{"PUT", "/function/hello-python/a/b?q=1", "", 200, "hello-python /a/b PUT body"},
		{"POST", "/function/hello-python.openfaas-fn", "500", 500, "hello-python / POST body"},
		{"DELETE", "/function/hello-python", "", 200, "hello-python / DELETE"},
	}
	for _, c := range calls {
		var body io.Reader
		if c.method == "POST" || c.method == "PUT" {
			body = strings.NewReader("body")
		}
		req, _ := http.NewRequest(c.method, h.srv.URL+c.path, body)
		if c.status != "" {
			req.Header.Set("X-Want-Status", c.status)
		}
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.code || !strings.HasPrefix(string(b), c.want) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, res.StatusCode, b, c.code, c.want)
		}
	}
	// Not counted: unknown functions and refused bodies.
	if code, out := h.do(t, "POST", "/function/nope", "x"); code != 404 || !strings.Contains(out, "function nope not found") {
		t.Errorf("unknown function: %d %q", code, out)
	}
	if code, out := h.do(t, "POST", "/function/hello-python", strings.Repeat("x", 2000)); code != 413 || !strings.Contains(out, "limit of 1024 bytes") {
		t.Errorf("large body: %d %q", code, out)
	}
	// Chunked body (unknown length) over the limit.
	req, _ := http.NewRequest("POST", h.srv.URL+"/function/hello-python", io.NopCloser(strings.NewReader(strings.Repeat("y", 2000))))
	req.ContentLength = -1
	res, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("chunked large body: %d, want 413", res.StatusCode)
	}
	// (counted: it streamed to the function until it went over the limit)
	// Chunked body under the limit is forwarded whole.
	req, _ = http.NewRequest("POST", h.srv.URL+"/function/hello-python", io.NopCloser(strings.NewReader("small")))
	req.ContentLength = -1
	res, err = h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "hello-python / POST small" {
		t.Errorf("chunked small body: %d %q", res.StatusCode, b)
	}

	fams := scrape(t, h)
	type series struct {
		metric string
		labels map[string]string
		value  float64
	}
	want := []series{
		{"gateway_function_invocation_total", map[string]string{"function_name": "hello-python", "code": "200"}, 5},
		{"gateway_function_invocation_total", map[string]string{"function_name": "hello-python", "code": "500"}, 1},
		{"gateway_functions_seconds", map[string]string{"function_name": "hello-python", "code": "200"}, 5},
		{"gateway_function_invocation_total", map[string]string{"function_name": "hello-python", "code": "413"}, 1},
		{"gateway_function_invocation_started", map[string]string{"function_name": "hello-python"}, 7},
		{"gateway_service_count", map[string]string{"function_name": "hello-python"}, 3},
		{"provider_http_requests_total", map[string]string{"code": "202", "method": "POST", "path": "/system/functions"}, 1},
	}
	for _, w := range want {
		got, ok := find(fams, w.metric, w.labels)
		if !ok {
			t.Errorf("%s%v missing from /metrics", w.metric, w.labels)
			continue
		}
		if got != w.value {
			t.Errorf("%s%v = %v, want %v", w.metric, w.labels, got, w.value)
		}
	}
	if mf := fams["gateway_functions_seconds"]; mf == nil || mf.GetType() != dto.MetricType_HISTOGRAM ||
		len(mf.GetMetric()[0].GetHistogram().GetBucket()) != 12 {
		t.Errorf("gateway_functions_seconds is not a histogram with the 11 default buckets (+Inf): %v", mf)
	}
	for _, name := range []string{"gateway_function_invocation_total", "gateway_function_invocation_started"} {
		for _, m := range fams[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "function_name" && l.GetValue() != "hello-python" {
					t.Errorf("%s counted %q", name, l.GetValue())
				}
			}
		}
	}
}

func scrape(t *testing.T, h *harness) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := h.srv.Client().Get(h.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// find returns a series' value (a histogram's sample count).
func find(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	mf := fams[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(labels) {
			continue
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}
