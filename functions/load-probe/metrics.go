package function

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics is load-probe's Prometheus registry, served on GET /metrics. The
// chart's PodMonitor scrapes load-probe's pods too: a scrape must answer
// metrics, never start a probe run.
type metrics struct {
	reg     *prometheus.Registry
	runs    *prometheus.CounterVec
	lastRun prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_load_probe_runs_total", Help: "load-probe runs by HTTP status of the run.",
		}, []string{"code"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "prescale_load_probe_last_run_timestamp_seconds", Help: "Unix time of the latest load-probe run.",
		}),
	}
	m.reg.MustRegister(m.runs, m.lastRun)
	return m
}

func (m *metrics) record(status int, at time.Time) {
	m.runs.WithLabelValues(strconv.Itoa(status)).Inc()
	m.lastRun.Set(float64(at.UnixNano()) / 1e9)
}

// processMetrics: Handle is a plain function, so the registry lives with
// the process, created on the first request.
var processMetrics = sync.OnceValue(newMetrics)
