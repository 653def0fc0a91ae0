package live

import (
	"bytes"
	"fmt"
	"math"
	"sort"

	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/plugin/runtime"
)

// StartWaitMetric is the plugin's histogram of each start-waited request's
// wait (seconds from arrival to the replica that started after it taking it).
const StartWaitMetric = "prescale_plugin_start_wait_seconds"

// WaitHist is a function's start-wait histogram: cumulative counts per
// upper bound (sorted), the observation count and sum.
type WaitHist struct {
	Bounds []float64
	Cum    []float64
	Count  float64
	Sum    float64
}

// ParseStartWaits reads a function's prescale_plugin_start_wait_seconds
// from a gateway's /metrics text (empty, not an error, when absent: no
// request has waited or the platform is not the plugin).
func ParseStartWaits(text []byte, function string) (WaitHist, error) {
	return ParseHistogram(text, StartWaitMetric, function)
}

// ParseReplicaStarts reads a function's replica-start histogram
// (runtime.ReplicaStartMetric: each replica's scale-up to first ready)
// from a gateway's /metrics text; empty when absent.
func ParseReplicaStarts(text []byte, function string) (WaitHist, error) {
	return ParseHistogram(text, runtime.ReplicaStartMetric, function)
}

// ParseHistogram reads the histogram metric of function (its series
// summed) from a gateway's /metrics text; empty, not an error, when absent.
func ParseHistogram(text []byte, metric, function string) (WaitHist, error) {
	fams, err := source.ParseText(bytes.NewReader(text))
	if err != nil {
		return WaitHist{}, fmt.Errorf("gateway metrics: %w", err)
	}
	var w WaitHist
	fam, ok := fams[metric]
	if !ok {
		return w, nil
	}
	for _, m := range fam.GetMetric() {
		match := false
		for _, l := range m.GetLabel() {
			if (l.GetName() == "function_name" || l.GetName() == "function") && matches(l.GetValue(), function) {
				match = true
			}
		}
		h := m.GetHistogram()
		if !match || h == nil {
			continue
		}
		one := WaitHist{Count: float64(h.GetSampleCount()), Sum: h.GetSampleSum()}
		for _, b := range h.GetBucket() {
			one.Bounds = append(one.Bounds, b.GetUpperBound())
			one.Cum = append(one.Cum, float64(b.GetCumulativeCount()))
		}
		w.Add(one)
	}
	return w, nil
}

// Add adds o's observations to w (histograms of the same buckets, as one
// platform's are; a bound only one of them has is added as it comes).
func (w *WaitHist) Add(o WaitHist) {
	w.Count += o.Count
	w.Sum += o.Sum
	for k, ub := range o.Bounds {
		i := sort.SearchFloat64s(w.Bounds, ub)
		if i == len(w.Bounds) || w.Bounds[i] != ub {
			w.Bounds = append(w.Bounds[:i], append([]float64{ub}, w.Bounds[i:]...)...)
			w.Cum = append(w.Cum[:i], append([]float64{0}, w.Cum[i:]...)...)
		}
		w.Cum[i] += o.Cum[k]
	}
}

// Of is the q-quantile of the histogram's own observations (0 when it
// has none): e.g. the median replica start.
func (w WaitHist) Of(q float64) float64 { return w.Quantile(q, w.Count) }

// Quantile is the q-quantile of the wait over total requests, those that
// did not wait for a replica start counting 0 s (total below Count is
// taken as Count): the rank q·total falls among the zeros or, as
// Prometheus' histogram_quantile does, linearly inside the bucket that
// holds it (the +Inf bucket answers its lower bound). 0 when no request waited.
func (w WaitHist) Quantile(q, total float64) float64 {
	if w.Count <= 0 || len(w.Bounds) == 0 || math.IsNaN(q) {
		return 0
	}
	total = math.Max(total, w.Count)
	rank := math.Min(1, math.Max(0, q))*total - (total - w.Count) // rank among the waits
	if rank <= 0 {
		return 0
	}
	lo, prev := 0.0, 0.0
	for i, ub := range w.Bounds {
		if w.Cum[i] >= rank {
			if math.IsInf(ub, 1) {
				return lo
			}
			in := w.Cum[i] - prev
			if in <= 0 {
				return ub
			}
			return lo + (ub-lo)*(rank-prev)/in
		}
		lo, prev = ub, w.Cum[i]
	}
	return lo // the +Inf bucket (the exposition's implicit one)
}
