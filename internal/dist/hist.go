package dist

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// histDist draws from a measured histogram: a bucket in proportion to its
// count, then uniformly inside it (the +Inf bucket gives its lower bound).
type histDist struct {
	lo, hi []float64 // each bucket with observations: its bounds
	cum    []float64 // cumulative counts of those buckets
	n      int       // observations
}

// FromHistogram is the distribution of a Prometheus-style histogram:
// cumulative counts cum per upper bound (sorted, the last may be +Inf),
// the first bucket's lower bound 0. An empty histogram, unsorted bounds or
// counts that decrease are an error.
func FromHistogram(bounds, cum []float64) (Dist, error) {
	if len(bounds) != len(cum) {
		return nil, fmt.Errorf("histogram: %d bounds but %d counts", len(bounds), len(cum))
	}
	d := histDist{}
	lo, prev := 0.0, 0.0
	for i, ub := range bounds {
		c := cum[i]
		switch {
		case math.IsNaN(ub) || ub < lo || (i > 0 && ub <= bounds[i-1]):
			return nil, fmt.Errorf("histogram: bounds not increasing at %v", ub)
		case math.IsNaN(c) || c < prev:
			return nil, fmt.Errorf("histogram: cumulative count %v after %v at bound %v", c, prev, ub)
		}
		if c > prev {
			top := ub
			if math.IsInf(ub, 1) {
				top = lo
			}
			d.lo, d.hi, d.cum = append(d.lo, lo), append(d.hi, top), append(d.cum, c)
		}
		lo, prev = ub, c
	}
	if prev <= 0 {
		return nil, errors.New("histogram: no observations")
	}
	d.n = int(math.Round(prev))
	return d, nil
}

func (d histDist) Sample(r *rand.Rand) float64 {
	u := r.Float64() * d.cum[len(d.cum)-1]
	for i, c := range d.cum {
		if u < c {
			return d.lo[i] + (d.hi[i]-d.lo[i])*r.Float64()
		}
	}
	return d.hi[len(d.hi)-1]
}

func (d histDist) Max() float64 { return d.hi[len(d.hi)-1] }

func (d histDist) String() string {
	return fmt.Sprintf("measured:%d observations in %s..%s", d.n, fmtSec(d.lo[0]), fmtSec(d.Max()))
}
