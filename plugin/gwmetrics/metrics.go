package gwmetrics

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ReplicaLister reports each function's desired replica count; it is called
// on every scrape to refresh gateway_service_count.
type ReplicaLister func() map[string]int

// Metrics records gateway and provider metrics. The zero value is not usable;
// call New.
type Metrics struct {
	// suffix is appended to function_name labels (e.g. ".openfaas-fn"); empty by default.
	suffix string

	invocations *prometheus.CounterVec
	seconds     *prometheus.HistogramVec
	started     *prometheus.CounterVec
	services    *serviceCount

	httpTotal    *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	mu     sync.Mutex
	counts map[string]float64 // plain function name → completed invocations
}

// New returns the metrics. labelSuffix is appended to every function_name
// label ("" for the plain name, ".openfaas-fn" to match a gateway with
// function_namespace set). replicas may be nil (no gateway_service_count series).
func New(labelSuffix string, replicas ReplicaLister) *Metrics {
	return &Metrics{
		suffix: labelSuffix,
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_function_invocation_total",
			Help: "Function metrics",
		}, []string{"function_name", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_functions_seconds",
			Help:    "Function time taken",
			Buckets: prometheus.DefBuckets,
		}, []string{"function_name", "code"}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_function_invocation_started",
			Help: "The total number of function HTTP requests started.",
		}, []string{"function_name"}),
		services: &serviceCount{
			desc: prometheus.NewDesc("gateway_service_count",
				"Current count of replicas for function", []string{"function_name"}, nil),
			list:   replicas,
			suffix: labelSuffix,
		},
		httpTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Subsystem: "provider",
			Name:      "http_requests_total",
			Help:      "Total number of HTTP requests.",
		}, []string{"code", "method", "path"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Subsystem: "provider",
			Name:      "http_request_duration_seconds",
			Help:      "Seconds spent serving HTTP requests.",
			Buckets:   prometheus.DefBuckets,
		}, []string{"code", "method", "path"}),
		counts: map[string]float64{},
	}
}

// Register adds every collector to reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.invocations, m.seconds, m.started, m.services, m.httpTotal, m.httpDuration} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register gateway metrics: %w", err)
		}
	}
	return nil
}

// Started counts the start of a synchronous invocation of function.
func (m *Metrics) Started(function string) {
	m.started.WithLabelValues(function + m.suffix).Inc()
}

// Completed records a finished synchronous invocation with its status code.
func (m *Metrics) Completed(function string, code int, d time.Duration) {
	label, c := function+m.suffix, strconv.Itoa(code)
	m.invocations.WithLabelValues(label, c).Inc()
	m.seconds.WithLabelValues(label, c).Observe(d.Seconds())
	m.mu.Lock()
	m.counts[function]++
	m.mu.Unlock()
}

// InvocationCount is the number of completed synchronous invocations of function.
func (m *Metrics) InvocationCount(function string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[function]
}

// Forget drops function's invocation count (after the function is removed),
// so a function deployed again under the same name starts from zero in the API.
// Prometheus series are kept: counters never go backwards.
func (m *Metrics) Forget(function string) {
	m.mu.Lock()
	delete(m.counts, function)
	m.mu.Unlock()
}

// InstrumentProvider wraps a provider (/system/…) handler; path is the
// label value (a route template, never a raw URL, to bound cardinality).
func (m *Metrics) InstrumentProvider(next http.Handler, path string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := NewStatusWriter(w)
		next.ServeHTTP(sw, r)
		code := strconv.Itoa(sw.Status())
		m.httpTotal.WithLabelValues(code, r.Method, path).Inc()
		m.httpDuration.WithLabelValues(code, r.Method, path).Observe(time.Since(start).Seconds())
	})
}

// serviceCount is a collector that asks for the replica counts on scrape.
type serviceCount struct {
	desc   *prometheus.Desc
	list   ReplicaLister
	suffix string
}

func (s *serviceCount) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s *serviceCount) Collect(ch chan<- prometheus.Metric) {
	if s.list == nil {
		return
	}
	for name, n := range s.list() {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(n), name+s.suffix)
	}
}
