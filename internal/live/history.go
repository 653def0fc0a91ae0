package live

import (
	"math"
	"sort"
)

// Sample is one observation of one function at time T (seconds since the
// run began). Counters are cumulative as the gateway reports them.
type Sample struct {
	T          float64
	Started    float64 // gateway_function_invocation_started
	Completed  float64 // gateway_function_invocation_total, every code
	LatencySum float64 // gateway_functions_seconds sum, seconds
	// ColdWaits: prescale_plugin_start_waits_total, requests served by a
	// replica that became ready after they arrived (the simulator's
	// ColdDelayed); NoneReadyWaits: prescale_plugin_cold_start_waits_total,
	// requests that arrived when no replica was ready.
	ColdWaits      float64
	NoneReadyWaits float64
	Replicas       int // desired
	Ready          int // available replicas
	Concurrency    int // request slots per replica (max_inflight)
}

// InFlight is what started and has not completed.
func (s Sample) InFlight() int { return max(0, int(math.Round(s.Started-s.Completed))) }

// Starting is desired replicas not yet ready.
func (s Sample) Starting() int { return max(0, s.Replicas-s.Ready) }

// Gap is an observation that failed (and was retried) at T, seconds since
// the run began: the History has no sample there, the previous one holds
// until the next.
type Gap struct {
	T   float64
	Err error
}

// History is a function's samples in time order, with the integrals the
// View needs (trapezoid-free: each sample's value holds until the next).
type History struct {
	s    []Sample
	gaps []Gap
	// cumulative integrals at each sample, from the first sample
	readyS, busyS, inflightS []float64
}

// Add appends a sample; samples not after the last one are ignored.
func (h *History) Add(x Sample) {
	n := len(h.s)
	if n > 0 && x.T <= h.s[n-1].T {
		return
	}
	var r, b, f float64
	if n > 0 {
		p := h.s[n-1]
		dt := x.T - p.T
		r = h.readyS[n-1] + readyOf(p)*dt
		b = h.busyS[n-1] + busyOf(p)*dt
		f = h.inflightS[n-1] + inflightOf(p)*dt
	}
	h.s = append(h.s, x)
	h.readyS, h.busyS, h.inflightS = append(h.readyS, r), append(h.busyS, b), append(h.inflightS, f)
}

// Len is the number of samples.
func (h *History) Len() int { return len(h.s) }

// Last is the newest sample (zero when empty).
func (h *History) Last() Sample {
	if len(h.s) == 0 {
		return Sample{}
	}
	return h.s[len(h.s)-1]
}

// Samples returns the samples (not a copy: do not modify).
func (h *History) Samples() []Sample { return h.s }

// Gaps returns the failed observations in time order (not a copy: do not modify).
func (h *History) Gaps() []Gap { return h.gaps }

// at is the index of the newest sample at or before t (0 when t is before
// the first: windows are clamped to the start).
func (h *History) at(t float64) int {
	i := sort.Search(len(h.s), func(i int) bool { return h.s[i].T > t })
	return max(0, i-1)
}

// delta is f(last) - f(sample at now-w).
func (h *History) delta(w int, f func(i int) float64) float64 {
	if len(h.s) == 0 {
		return 0
	}
	n := len(h.s) - 1
	return f(n) - f(h.at(h.s[n].T-float64(w)))
}

// integral is ∫ over (now-w, now] of a per-sample value held until the next
// sample (cum is its cumulative integral at each sample): exact for the
// piecewise-constant value even when the samples do not fall on now-w
// (they are about a second apart, and an observation takes time, so the
// sample at or before now-w may lie well before it).
func (h *History) integral(w int, cum []float64, val func(Sample) float64) float64 {
	n := len(h.s)
	if n == 0 {
		return 0
	}
	from := h.s[n-1].T - float64(w)
	i := h.at(from)
	at := cum[i]
	if t := h.s[i].T; from > t && i+1 < n {
		at += val(h.s[i]) * (from - t)
	}
	// Rounded to the microsecond: the float error of the subtraction would
	// otherwise turn an exact 2 in-flight seconds over 2 s into 1.0000000002,
	// which a controller's ceil(· / target) reads as a second replica.
	return math.Round((cum[n-1]-at)*1e6) / 1e6
}

func readyOf(s Sample) float64    { return float64(s.Ready) }
func inflightOf(s Sample) float64 { return float64(s.InFlight()) }
func busyOf(s Sample) float64 {
	return math.Min(float64(s.InFlight()), float64(s.Ready*max(1, s.Concurrency)))
}
