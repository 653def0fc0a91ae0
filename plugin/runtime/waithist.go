package runtime

import "math"

// startWaitBounds are the upper bounds (seconds) of
// prescale_plugin_start_wait_seconds: fine around the 1–10 s of a replica
// start, up to the 30 s ColdStartWait default and beyond. An array value:
// nobody can change the buckets.
func startWaitBounds() [18]float64 {
	return [...]float64{0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 30, 60}
}

// StartWaitBuckets are the bucket bounds of
// prescale_plugin_start_wait_seconds (a new slice each call).
func StartWaitBuckets() []float64 {
	b := startWaitBounds()
	return b[:]
}

// waitHistogram counts observations per StartWaitBuckets bucket
// (non-cumulative; the last element is +Inf). The zero value is empty.
// Guarded by the owner's lock.
type waitHistogram struct {
	counts []uint64
	sum    float64
	n      uint64
}

func (h *waitHistogram) observe(v float64) {
	if math.IsNaN(v) || v < 0 {
		v = 0
	}
	bounds := startWaitBounds()
	if h.counts == nil {
		h.counts = make([]uint64, len(bounds)+1)
	}
	i := len(bounds)
	for k, ub := range bounds {
		if v <= ub {
			i = k
			break
		}
	}
	h.counts[i]++
	h.sum += v
	h.n++
}

func (h *waitHistogram) clone() waitHistogram {
	return waitHistogram{counts: append([]uint64(nil), h.counts...), sum: h.sum, n: h.n}
}

// cumulative is the Prometheus form: upper bound -> observations <= it
// (every bucket, also the empty ones).
func (h waitHistogram) cumulative() map[float64]uint64 {
	bounds := startWaitBounds()
	out := make(map[float64]uint64, len(bounds))
	var c uint64
	for k, ub := range bounds {
		if h.counts != nil {
			c += h.counts[k]
		}
		out[ub] = c
	}
	return out
}
