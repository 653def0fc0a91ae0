package sim

import (
	"sort"

	"github.com/prescale/prescale/internal/trace"
)

// Service is a service-time distribution in seconds, given by its inverse
// CDF: a piecewise-linear curve through (quantile, seconds) knots.
type Service struct {
	q, v []float64
}

// FixedService always takes sec seconds.
func FixedService(sec float64) Service {
	return Service{q: []float64{0, 1}, v: []float64{sec, sec}}
}

// ServiceFromDurations builds the inverse CDF from an Azure 2019 durations
// row's P0, P1, P25, P50, P75, P99 and P100 (milliseconds). Knots that go
// backwards (the published percentiles are of per-interval averages and are
// not always monotone) are raised to the previous value.
func ServiceFromDurations(d trace.Durations) Service {
	var s Service
	prev := 0.0
	for _, k := range d.Percentiles() {
		v := k[1] / 1000
		if v < prev {
			v = prev
		}
		prev = v
		s.q = append(s.q, k[0]/100)
		s.v = append(s.v, v)
	}
	return s
}

// Quantile returns the service time at quantile u in [0, 1].
func (s Service) Quantile(u float64) float64 {
	if len(s.q) == 0 {
		return 0
	}
	i := sort.SearchFloat64s(s.q, u)
	switch {
	case i == 0:
		return s.v[0]
	case i >= len(s.q):
		return s.v[len(s.v)-1]
	}
	q0, q1 := s.q[i-1], s.q[i]
	if q1 == q0 {
		return s.v[i]
	}
	return s.v[i-1] + (s.v[i]-s.v[i-1])*(u-q0)/(q1-q0)
}

// Mean is the mean of the piecewise-linear distribution.
func (s Service) Mean() float64 {
	var m float64
	for i := 1; i < len(s.q); i++ {
		m += (s.q[i] - s.q[i-1]) * (s.v[i] + s.v[i-1]) / 2
	}
	return m
}
