package source_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/prescale/prescale/pkg/natstest"
	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/pkg/state"
)

// gatewayMetrics registers the gateway's metric names with client_golang,
// as the gateway (and the plugin) expose them.
type gatewayMetrics struct {
	inv      *prometheus.CounterVec
	secs     *prometheus.HistogramVec
	started  *prometheus.CounterVec
	replicas *prometheus.GaugeVec
	handler  http.Handler
}

func newGatewayMetrics() *gatewayMetrics {
	r := prometheus.NewRegistry()
	g := &gatewayMetrics{
		inv:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: source.MetricInvocations}, []string{"function_name", "code"}),
		secs:     prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: source.MetricSeconds}, []string{"function_name", "code"}),
		started:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: source.MetricStarted}, []string{"function_name"}),
		replicas: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: source.MetricReplicas}, []string{"function_name"}),
	}
	r.MustRegister(g.inv, g.secs, g.started, g.replicas)
	g.handler = promhttp.HandlerFor(r, promhttp.HandlerOpts{})
	return g
}

func (g *gatewayMetrics) call(fn, code string, secs float64, n int) {
	for i := 0; i < n; i++ {
		g.started.WithLabelValues(fn).Inc()
		g.inv.WithLabelValues(fn, code).Inc()
		g.secs.WithLabelValues(fn, code).Observe(secs)
	}
}

func TestGatewaySourceDeltas(t *testing.T) {
	g := newGatewayMetrics()
	srv := httptest.NewServer(g.handler)
	defer srv.Close()
	ns := natstest.Start(t)
	ctx := context.Background()
	st, nc, err := state.Connect(ctx, ns.ClientURL(), state.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	src := source.Gateway{MetricsURL: srv.URL + "/metrics", Store: st}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	g.replicas.WithLabelValues("hello.openfaas-fn").Set(2)
	g.call("hello.openfaas-fn", "200", 0.03, 100) // before the baseline
	s, err := src.Observe(ctx, "hello", t0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Interval != 0 || s.RPS != 0 || s.Replicas != 2 {
		t.Fatalf("baseline sample %+v", s)
	}

	// Interval: 90 fast OK, 8 slow OK, 2 errors; 3 started but unfinished.
	g.call("hello.openfaas-fn", "200", 0.03, 90)
	g.call("hello.openfaas-fn", "200", 0.8, 8)
	g.call("hello.openfaas-fn", "500", 0.01, 2)
	g.started.WithLabelValues("hello.openfaas-fn").Add(3)
	g.replicas.WithLabelValues("hello.openfaas-fn").Set(3)
	g.call("other", "200", 1, 5)
	s, err = src.Observe(ctx, "hello", t0.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"interval", s.Interval, 10, 0},
		{"rps", s.RPS, 10, 1e-9},
		{"status200", s.Status200, 98, 0},
		{"status500", s.Status500, 2, 0},
		{"error rate", s.ErrorRate, 0.02, 1e-9},
		{"in flight", s.InFlight, 3, 0},
		{"arrivals (started)", s.Arrivals, 103, 0},
		{"replicas", float64(s.Replicas), 3, 0},
		{"mean latency", s.MeanLatency, (90*0.03 + 8*0.8 + 2*0.01) / 100, 1e-9},
		// default buckets …0.025,0.05,…,0.5,1: p50 lies in (0.025,0.05], p99 in (0.5,1].
		{"p50 in bucket", s.P50, 0.0375, 0.0125},
		{"p99 in bucket", s.P99, 0.75, 0.25},
		{"failure ratio", s.FailureRatio(), 2.0/98 + 2, 1e-9},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s = %v, want %v ± %v", c.name, c.got, c.want, c.tol)
		}
	}
	if s.P90 < s.P50 || s.P99 < s.P90 {
		t.Errorf("percentiles not ordered: %v %v %v", s.P50, s.P90, s.P99)
	}

	// A function the gateway never saw has zero load, not an error.
	z, err := src.Observe(ctx, "never-called", t0.Add(20*time.Second))
	if err != nil || z.RPS != 0 {
		t.Fatalf("unexposed function: %+v %v", z, err)
	}
	// Gateway down: a clear error.
	down := source.Gateway{MetricsURL: "http://127.0.0.1:1/metrics", Store: st}
	if _, err := down.Observe(ctx, "hello", t0); err == nil || !strings.Contains(err.Error(), "scrape") {
		t.Fatalf("gateway down: %v", err)
	}
}

// Arrivals are the started counter's delta: two requests held while a
// replica starts have arrived but not completed. A gateway without the
// started counter leaves the completions.
func TestDeltaArrivals(t *testing.T) {
	t0 := time.Unix(0, 0)
	prev := source.Snapshot{At: t0, Codes: map[string]float64{"200": 10}, Started: 10, Count: 10}
	cur := source.Snapshot{At: t0.Add(2 * time.Second), Codes: map[string]float64{"200": 10}, Started: 12, Count: 10}
	if s := source.Delta("f", prev, cur); s.Arrivals != 2 || s.RPS != 0 || s.InFlight != 2 {
		t.Fatalf("held requests: %+v", s)
	}
	prev.Started, cur.Started, cur.Codes = 0, 0, map[string]float64{"200": 13}
	if s := source.Delta("f", prev, cur); s.Arrivals != 3 {
		t.Fatalf("no started counter: arrivals %v, want the 3 completions", s.Arrivals)
	}
}

func TestDeltaCounterReset(t *testing.T) {
	t0 := time.Unix(0, 0)
	prev := source.Snapshot{At: t0, Codes: map[string]float64{"200": 1000}, Count: 1000, Sum: 10}
	cur := source.Snapshot{At: t0.Add(5 * time.Second), Codes: map[string]float64{"200": 50}, Count: 50, Sum: 5, Replicas: 1}
	s := source.Delta("f", prev, cur)
	if s.RPS != 10 || s.MeanLatency != 0.1 {
		t.Fatalf("after reset: %+v", s)
	}
}

func TestQuantile(t *testing.T) {
	b := []source.Bucket{{UpperBound: 0.1, Count: 50}, {UpperBound: 0.5, Count: 90}, {UpperBound: 1, Count: 100}}
	tests := []struct{ q, want float64 }{{0.5, 0.1}, {0.25, 0.05}, {0.7, 0.3}, {0.95, 0.75}, {1, 1}}
	for _, tc := range tests {
		if got := source.Quantile(tc.q, b, 100); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("q%v = %v want %v", tc.q, got, tc.want)
		}
	}
	if got := source.Quantile(0.99, b, 200); got != 1 {
		t.Errorf("beyond the last finite bucket: %v", got)
	}
}

func TestProbeSource(t *testing.T) {
	var n atomic.Int64
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/function/echo" {
			http.NotFound(w, r)
			return
		}
		if n.Add(1)%5 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}))
	defer fn.Close()
	p := source.DefaultProbe(fn.URL)
	p.QPS = 0
	s, err := p.Observe(context.Background(), "echo", time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != int64(p.Requests) {
		t.Fatalf("probe sent %d requests, want exactly %d", got, p.Requests)
	}
	if s.Status200 != 16 || s.Status500 != 4 || math.Abs(s.ErrorRate-0.2) > 1e-9 || s.P50 < 0.004 || s.RPS <= 0 {
		t.Fatalf("probe sample %+v", s)
	}

	tests := []struct {
		name string
		mod  func(*source.Probe)
		want string
	}{
		{"too many requests", func(p *source.Probe) { p.Requests = 5000 }, "1..1000"},
		{"too much concurrency", func(p *source.Probe) { p.Concurrency = 100 }, "concurrency"},
		{"too fast", func(p *source.Probe) { p.QPS = 1000 }, "qps"},
		{"no timeout", func(p *source.Probe) { p.Timeout = 0 }, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := source.DefaultProbe(fn.URL)
			tc.mod(&q)
			before := n.Load()
			if _, err := q.Observe(context.Background(), "echo", time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if n.Load() != before {
				t.Fatal("an invalid probe sent requests")
			}
		})
	}
	// Nothing listening: every request fails → a clear error.
	dead := source.DefaultProbe("http://127.0.0.1:1")
	dead.Requests, dead.Concurrency, dead.Timeout = 2, 1, time.Second
	if _, err := dead.Observe(context.Background(), "echo", time.Now()); err == nil || !strings.Contains(err.Error(), "none of 2") {
		t.Fatalf("dead gateway: %v", err)
	}
}

func TestLookupNamespacedLabel(t *testing.T) {
	snaps := map[string]source.Snapshot{
		"hello.openfaas-fn": {Replicas: 1},
		"hello.staging":     {Replicas: 2},
		"other":             {Replicas: 3},
		"hello-world":       {Replicas: 4},
	}
	if s, ok := source.Lookup(snaps, "other"); !ok || s.Replicas != 3 {
		t.Fatalf("plain name: %+v %v", s, ok)
	}
	// Two namespaces: the first label in sort order, every time.
	if s, ok := source.Lookup(snaps, "hello"); !ok || s.Replicas != 1 {
		t.Fatalf("namespaced: %+v %v", s, ok)
	}
	if _, ok := source.Lookup(snaps, "hell"); ok {
		t.Fatal("a prefix of a name matched")
	}
	if _, ok := source.Lookup(snaps, "openfaas-fn"); ok {
		t.Fatal("a namespace matched as a name")
	}
}
