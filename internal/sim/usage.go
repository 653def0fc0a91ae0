package sim

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// Usage is what one run cost the process.
type Usage struct {
	Wall     time.Duration
	PeakHeap uint64 // bytes: the highest live-heap sample during the run
}

// Measure runs the policy over the functions and samples the heap every
// 10 ms (runtime/metrics, no stop-the-world) to report its peak. A GC runs
// first so earlier garbage does not count.
func Measure(ctx context.Context, cfg Config, fns []FunctionSpec, p Policy) (Result, Usage, error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		peak uint64
		mu   sync.Mutex
	)
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
		}
	}
	read()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	t0 := time.Now()
	res, err := Run(ctx, cfg, fns, p)
	wall := time.Since(t0)
	read()
	close(done)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return res, Usage{Wall: wall, PeakHeap: peak}, err
}
