package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkInvokeOverhead measures what the API layer adds to a /function/
// call (routing, name resolution, body limit, gateway metrics) in front of
// a runtime that answers at once; no network.
func BenchmarkInvokeOverhead(b *testing.B) {
	h := newHarness(b)
	h.deploy(b, "hello-python", ``)
	handler := h.srv.Config.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/function/hello-python/x?q=1", strings.NewReader("body"))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
