package gwmetrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestGatewayMetricNamesAndLabels(t *testing.T) {
	tests := []struct {
		name, suffix, label string
	}{
		{"plain name", "", "hello-python"},
		{"namespace suffix", ".openfaas-fn", "hello-python.openfaas-fn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(tc.suffix, func() map[string]int { return map[string]int{"hello-python": 3} })
			reg := prometheus.NewRegistry()
			if err := m.Register(reg); err != nil {
				t.Fatal(err)
			}
			m.Started("hello-python")
			m.Started("hello-python")
			m.Completed("hello-python", 200, 30*time.Millisecond)
			m.Completed("hello-python", 502, 2*time.Second)

			want := `
# HELP gateway_function_invocation_started The total number of function HTTP requests started.
# TYPE gateway_function_invocation_started counter
gateway_function_invocation_started{function_name="LABEL"} 2
# HELP gateway_function_invocation_total Function metrics
# TYPE gateway_function_invocation_total counter
gateway_function_invocation_total{code="200",function_name="LABEL"} 1
gateway_function_invocation_total{code="502",function_name="LABEL"} 1
# HELP gateway_service_count Current count of replicas for function
# TYPE gateway_service_count gauge
gateway_service_count{function_name="LABEL"} 3
`
			want = strings.ReplaceAll(want, "LABEL", tc.label)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
				"gateway_function_invocation_started", "gateway_function_invocation_total", "gateway_service_count"); err != nil {
				t.Error(err)
			}
			if n := testutil.CollectAndCount(m.seconds, "gateway_functions_seconds"); n != 2 {
				t.Errorf("gateway_functions_seconds has %d series, want 2 (one per code)", n)
			}
			if got := m.InvocationCount("hello-python"); got != 2 {
				t.Errorf("InvocationCount = %v, want 2", got)
			}
			m.Forget("hello-python")
			if got := m.InvocationCount("hello-python"); got != 0 {
				t.Errorf("InvocationCount after Forget = %v, want 0", got)
			}
		})
	}
}

func TestInstrumentProvider(t *testing.T) {
	m := New("", nil)
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	h := m.InstrumentProvider(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		_, _ = w.Write([]byte("[]"))
	}), "/system/functions")
	for _, method := range []string{"GET", "GET", "POST"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/system/functions", nil))
	}
	want := `
# HELP provider_http_requests_total Total number of HTTP requests.
# TYPE provider_http_requests_total counter
provider_http_requests_total{code="200",method="GET",path="/system/functions"} 2
provider_http_requests_total{code="202",method="POST",path="/system/functions"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "provider_http_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.httpDuration, "provider_http_request_duration_seconds"); n != 2 {
		t.Errorf("provider_http_request_duration_seconds has %d series, want 2", n)
	}
}

func TestStatusWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int
	}{
		{"nothing written", func(http.ResponseWriter) {}, 200},
		{"body only", func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, 200},
		{"explicit", func(w http.ResponseWriter) { w.WriteHeader(504) }, 504},
		{"first header wins", func(w http.ResponseWriter) { w.WriteHeader(502); w.WriteHeader(200) }, 502},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			sw := NewStatusWriter(rec)
			tc.write(sw)
			sw.Flush()
			if sw.Status() != tc.want {
				t.Errorf("Status() = %d, want %d", sw.Status(), tc.want)
			}
			if !rec.Flushed {
				t.Error("Flush did not reach the underlying writer")
			}
			if http.NewResponseController(sw).Flush() != nil {
				t.Error("ResponseController cannot reach the underlying writer")
			}
		})
	}
}
