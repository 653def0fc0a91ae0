package sim_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/prescale/prescale/internal/autoscaler"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/internal/testenv"
)

// BenchmarkScale measures the simulator's wall time and peak heap against
// the number of functions and the trace length on the 500-function 8-hour
// trace with prescale's policy (pkg/decide every period for every function):
//
//	go test -run '^$' -bench Scale -benchtime 1x ./internal/sim
func BenchmarkScale(b *testing.B) {
	path := testenv.Trace(b, "dirigent_azure2019_500fn_8h_invocations.csv")
	p, err := autoscaler.New("prescale", autoscaler.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	cfg := sim.DefaultConfig()
	for _, sz := range [][2]int{{50, 480}, {100, 480}, {250, 480}, {500, 480}, {500, 60}, {500, 120}, {500, 240}} {
		b.Run(fmt.Sprintf("fns=%d/min=%d", sz[0], sz[1]), func(b *testing.B) {
			ld, err := sim.LoadTrace(path, sim.LoadOptions{Functions: sz[0], Minutes: sz[1]}, cfg.DefaultService)
			if err != nil {
				b.Fatal(err)
			}
			var (
				peak uint64
				reqs int64
				wall float64
			)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, u, err := sim.Measure(context.Background(), cfg, ld.Functions, p)
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, u.PeakHeap)
				reqs += res.Metrics.Requests
				wall += u.Wall.Seconds()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(reqs)/wall, "requests/s")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
		})
	}
}
