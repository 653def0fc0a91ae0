package sim

import (
	"fmt"
	"io"
	"math"
	"sort"
)

// FnColdPct is the q-quantile (0..1, nearest rank) over the functions that
// had at least one arrival of their cold-start share, in %.
func FnColdPct(perFn []FnStat, q float64) float64 {
	var xs []float64
	for _, f := range perFn {
		if f.Arrivals > 0 {
			xs = append(xs, 100*float64(f.Cold)/float64(f.Arrivals))
		}
	}
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// CombinedCost is replica-seconds plus w replica-seconds per cold-start
// invocation, in replica-hours.
func CombinedCost(m *Metrics, w float64) float64 {
	return (m.ReplicaSeconds + w*float64(m.ColdInvocations)) / 3600
}

// ZeroTable writes the scale-to-zero metrics of the rows as markdown; w is
// the cold-start cost (replica-seconds) of the combined-cost column.
func ZeroTable(out io.Writer, rows []Row, w float64) error {
	_, err := fmt.Fprintf(out, "| trace | policy | requests | cold-start invocations | %% | p75 function %% | wasted replica-hours | replica-hours | cost at W = %.0f s (replica-hours) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n", w)
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, r := range rows {
		m := &r.Result.Metrics
		if _, err := fmt.Fprintf(out, "| %s | %s | %d | %d | %.2f | %.1f | %.1f | %.1f | %.1f |\n", r.Trace, r.Result.Policy, m.Arrivals,
			m.ColdInvocations, m.ColdPct(), FnColdPct(r.Result.PerFn, 0.75), m.WastedSeconds/3600, m.ReplicaSeconds/3600, CombinedCost(m, w)); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	return nil
}
