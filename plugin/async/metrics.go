package async

import "github.com/prometheus/client_golang/prometheus"

// metrics are the queue's Prometheus series; the Queue is their Collector.
type metrics struct {
	queued           *prometheus.CounterVec
	inflight         *prometheus.GaugeVec
	retried          *prometheus.CounterVec
	deadLettered     *prometheus.CounterVec
	deadLetterFailed *prometheus.CounterVec
	completed        *prometheus.CounterVec
	callbacks        *prometheus.CounterVec
	latency          *prometheus.HistogramVec
}

func newMetrics() *metrics {
	fn := []string{"function_name"}
	return &metrics{
		queued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_async_queued_total",
			Help: "Asynchronous requests accepted (202) and stored on the stream.",
		}, fn),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "prescale_async_inflight",
			Help: "Asynchronous requests being invoked or called back right now.",
		}, fn),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_async_retried_total",
			Help: "Deliveries that failed and were scheduled for another attempt.",
		}, fn),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_async_dead_lettered_total",
			Help: "Requests moved to the dead-letter stream after exhausting their attempts.",
		}, fn),
		deadLetterFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_async_dead_letter_failed_total",
			Help: "Requests left in the work-queue stream because their dead letter could not be written within the deliveries allowed.",
		}, fn),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_async_completed_total",
			Help: "Requests finished (acked), by the function's final status code.",
		}, []string{"function_name", "code"}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_async_callbacks_total",
			Help: "Callbacks posted to X-Callback-Url, by result (ok or failed).",
		}, []string{"function_name", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "prescale_async_queue_latency_seconds",
			Help:    "Time from acceptance to the first invocation attempt.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, fn),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.queued, m.inflight, m.retried, m.deadLettered, m.deadLetterFailed, m.completed, m.callbacks, m.latency}
}

// Describe implements prometheus.Collector.
func (q *Queue) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range q.metrics.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (q *Queue) Collect(ch chan<- prometheus.Metric) {
	for _, c := range q.metrics.collectors() {
		c.Collect(ch)
	}
}
