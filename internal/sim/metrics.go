package sim

import "math"

// Hist is a log-bucketed latency histogram (about 1% relative precision
// from 0.1 ms to 10^6 s) so that millions of requests cost a fixed memory.
type Hist struct {
	counts []int64
	n      int64
	sum    float64
}

const (
	histMin   = 1e-4
	histRatio = 1.02
	histSize  = 1200
)

var histLogRatio = math.Log(histRatio)

// Add records one latency in seconds.
func (h *Hist) Add(x float64) {
	if h.counts == nil {
		h.counts = make([]int64, histSize)
	}
	i := 0
	if x > histMin {
		i = int(math.Log(x/histMin)/histLogRatio) + 1
		if i >= histSize {
			i = histSize - 1
		}
	}
	h.counts[i]++
	h.n++
	h.sum += x
}

// Merge adds o's counts to h.
func (h *Hist) Merge(o *Hist) {
	if o.counts == nil {
		return
	}
	if h.counts == nil {
		h.counts = make([]int64, histSize)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded values.
func (h *Hist) Count() int64 { return h.n }

// Mean is the exact mean of the recorded values.
func (h *Hist) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the q-quantile (0..1), within the bucket precision.
func (h *Hist) Quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var acc int64
	for i, c := range h.counts {
		acc += c
		if acc >= rank {
			if i == 0 {
				return histMin
			}
			// geometric middle of bucket i: [min·r^(i-1), min·r^i)
			return histMin * math.Pow(histRatio, float64(i)-0.5)
		}
	}
	return histMin * math.Pow(histRatio, histSize)
}

// Metrics are the outcome of one policy on one set of functions.
type Metrics struct {
	Requests    int64 // completed requests
	Queued      int64 // requests that found no free ready slot on arrival
	ColdDelayed int64 // requests served by a replica that became ready after they arrived (taken when it became ready, or later from the queue)
	OverSLO     int64 // requests whose latency exceeded their service time by more than the SLO
	Actions     int64 // changes of the desired replica count
	Latency     Hist  // end-to-end latency (wait + service), seconds

	ReplicaSeconds float64 // ∫ replicas (starting, ready and draining) dt over the trace

	Arrivals        int64   // requests that arrived within the trace
	ColdInvocations int64   // arrivals that found no ready replica (the serverless cold start)
	WastedSeconds   float64 // ∫ replicas serving no request (starting, or ready/draining and idle) dt
}

// Merge adds o to m.
func (m *Metrics) Merge(o *Metrics) {
	m.Requests += o.Requests
	m.Queued += o.Queued
	m.ColdDelayed += o.ColdDelayed
	m.OverSLO += o.OverSLO
	m.Actions += o.Actions
	m.Latency.Merge(&o.Latency)
	m.ReplicaSeconds += o.ReplicaSeconds
	m.Arrivals += o.Arrivals
	m.ColdInvocations += o.ColdInvocations
	m.WastedSeconds += o.WastedSeconds
}

// ColdPct is the share of arrivals that found no ready replica, in %.
func (m *Metrics) ColdPct() float64 {
	if m.Arrivals == 0 {
		return 0
	}
	return 100 * float64(m.ColdInvocations) / float64(m.Arrivals)
}

// FnStat is one function's cold starts and wasted replica time.
type FnStat struct {
	Arrivals, Cold int64
	Wasted         float64 // wasted replica-seconds
}

// Pct returns 100·n/Requests.
func (m *Metrics) Pct(n int64) float64 {
	if m.Requests == 0 {
		return 0
	}
	return 100 * float64(n) / float64(m.Requests)
}
