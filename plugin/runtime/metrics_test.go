package runtime

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
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

func TestColdStartWaitsPerFunction(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectorFunc(func(ch chan<- prometheus.Metric) {
		ch <- prometheus.MustNewConstMetric(descColdWaits, prometheus.CounterValue, 3, "a")
		ch <- prometheus.MustNewConstMetric(descColdWaits, prometheus.CounterValue, 2, "b")
		ch <- prometheus.MustNewConstMetric(descStartWaits, prometheus.CounterValue, 7, "a") // another counter
	}))
	got, err := ColdStartWaits(reg)
	if err != nil || !maps.Equal(got, map[string]float64{"a": 3, "b": 2}) {
		t.Fatalf("ColdStartWaits: %v, %v; want a 3, b 2", got, err)
	}
	broken := errors.New("gather failed")
	if _, err := ColdStartWaits(prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, broken })); !errors.Is(err, broken) {
		t.Fatalf("a failing gatherer: %v, want it wrapped", err)
	}
}
