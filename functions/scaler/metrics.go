package function

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/prescale/prescale/pkg/decide"
)

// Decision actions, the action label of prescale_scaler_decisions_total.
const (
	actionUp           = "scale_up"
	actionDown         = "scale_down"
	actionHold         = "hold"
	actionForecastOnly = "forecast_only"
)

// metrics is the scaler's Prometheus registry, served on GET /metrics.
type metrics struct {
	reg       *prometheus.Registry
	desired   *prometheus.GaugeVec
	decisions *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		desired: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "prescale_scaler_desired_replicas", Help: "Replicas the scaler's latest decision wants (after policy and stabilization).",
		}, []string{"function_name"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_scaler_decisions_total", Help: "Scaler decisions by action: scale_up, scale_down, hold, forecast_only.",
		}, []string{"function_name", "action"}),
	}
	m.reg.MustRegister(m.desired, m.decisions)
	return m
}

// action classifies a decision: forecast_only in that mode (whatever it
// would have done), else the scale it wanted (applied or not), else hold.
func action(d decide.Decision) string {
	switch {
	case d.ForecastOnly:
		return actionForecastOnly
	case d.Scale && d.After > d.Before:
		return actionUp
	case d.Scale && d.After < d.Before:
		return actionDown
	default:
		return actionHold
	}
}

// record counts a decision that was not rejected as invalid.
func (m *metrics) record(label string, d decide.Decision) {
	if d.Invalid {
		return
	}
	m.desired.WithLabelValues(label).Set(float64(d.After))
	m.decisions.WithLabelValues(label, action(d)).Inc()
}

// processMetrics: Handle is a plain function, so the registry lives with
// the process, created on the first request.
var processMetrics = sync.OnceValue(newMetrics)
