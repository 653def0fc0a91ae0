package function

import (
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/prescale/prescale/pkg/decide"
)

// maxPending bounds the forecasts kept per function while their horizon runs.
const maxPending = 256

// Series bound. Only validly signed payloads are recorded (load-probe's,
// for deployed opted-in functions), and at most maxSeries function_name
// labels: past that, predictions of new functions are recorded under
// otherLabel.
const (
	maxSeries  = 1000
	otherLabel = "_other"
)

// metrics is the predictor's Prometheus registry, served on GET /metrics.
//
// The forecast error needs the forecast made one horizon ago. It is kept in
// this process (limitation: lost when the predictor restarts, and with
// several predictor replicas each scores only the forecasts it made, so the
// error gauge appears one horizon after a restart).
type metrics struct {
	reg      *prometheus.Registry
	forecast *prometheus.GaugeVec
	replicas *prometheus.GaugeVec
	errRatio *prometheus.GaugeVec
	mu       sync.Mutex
	pending  map[string][]pendingForecast // by label, oldest first
}

type pendingForecast struct {
	due time.Time // made at + horizon
	rps float64
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		forecast: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "prescale_forecast_rps", Help: "Forecast request rate (peak over the horizon) of the latest prediction.",
		}, []string{"function_name"}),
		replicas: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "prescale_recommended_replicas", Help: "Replicas the latest prediction recommends.",
		}, []string{"function_name"}),
		errRatio: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "prescale_forecast_abs_error_ratio", Help: "|forecast - actual| / actual of the latest forecast whose horizon has passed (actual: the observed rate at or after its due time).",
		}, []string{"function_name"}),
		pending: map[string][]pendingForecast{},
	}
	m.reg.MustRegister(m.forecast, m.replicas, m.errRatio)
	return m
}

// observe records a prediction for label: first scores the pending forecasts
// that fell due by the observation obs, then adds this one.
func (m *metrics) observe(label string, obs decide.Sample, at time.Time, horizon time.Duration, fc float64, replicas int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, known := m.pending[label]; !known && len(m.pending) >= maxSeries {
		label = otherLabel
	}
	m.forecast.WithLabelValues(label).Set(fc)
	m.replicas.WithLabelValues(label).Set(float64(replicas))
	list := m.pending[label]
	obsAt := obs.At
	if obsAt.IsZero() {
		obsAt = at
	}
	due := -1
	for i, p := range list {
		if !p.due.After(obsAt) {
			due = i // the latest forecast that has fallen due
		}
	}
	if due >= 0 {
		if r, ok := errorRatio(list[due].rps, obs.RPS); ok {
			m.errRatio.WithLabelValues(label).Set(r)
		}
		list = list[due+1:]
	}
	list = append(list, pendingForecast{due: at.Add(horizon), rps: fc})
	if len(list) > maxPending {
		list = list[len(list)-maxPending:]
	}
	m.pending[label] = list
}

// errorRatio is |forecast − actual| / actual; with no actual load it is
// defined only when the forecast is zero too (0).
func errorRatio(forecast, actual float64) (float64, bool) {
	if actual <= 0 {
		if forecast <= 0 {
			return 0, true
		}
		return 0, false
	}
	return math.Abs(forecast-actual) / actual, true
}

// process metrics: Handle is a plain function, so the registry lives with
// the process like the models do, created on the first request.
var processMetrics = sync.OnceValue(newMetrics)
