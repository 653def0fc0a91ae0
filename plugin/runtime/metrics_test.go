package runtime

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// gaugeFor collects one of the manager's metrics for one function.
func gaugeFor(m *Manager, metric, fn string) prometheus.Collector {
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		all := make(chan prometheus.Metric, 100)
		m.Collect(all)
		close(all)
		for mt := range all {
			d := mt.Desc().String()
			if strings.Contains(d, `"`+metric+`"`) && labelIs(mt, fn) {
				ch <- mt
			}
		}
	})
}

// metricValue is the value of one of the manager's metrics for one function.
func metricValue(m *Manager, metric, fn string) float64 {
	return testutil.ToFloat64(gaugeFor(m, metric, fn))
}

type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(f, ch) }
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

func labelIs(mt prometheus.Metric, fn string) bool {
	var pb = new(dtoMetric)
	if err := mt.Write(pb); err != nil {
		return false
	}
	for _, l := range pb.GetLabel() {
		if l.GetName() == "function_name" && l.GetValue() == fn {
			return true
		}
	}
	return false
}

// histogramFor is one of the manager's histograms for one function (nil
// when absent).
func histogramFor(m *Manager, metric, fn string) *dtoMetric {
	all := make(chan prometheus.Metric, 100)
	m.Collect(all)
	close(all)
	for mt := range all {
		if strings.Contains(mt.Desc().String(), `"`+metric+`"`) && labelIs(mt, fn) {
			pb := new(dtoMetric)
			if err := mt.Write(pb); err == nil && pb.GetHistogram() != nil {
				return pb
			}
		}
	}
	return nil
}
