package model

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand"
	"sort"

	"github.com/prescale/prescale/internal/trace"
)

// ServiceTimes samples service times (seconds) from an Azure 2019
// durations row: piecewise-linear inverse CDF through its percentile knots
// P0, P1, P25, P50, P75, P99; the top 1% is drawn between P99 and
// min(P100, 4×P99) so one extreme maximum does not dominate.
type ServiceTimes struct {
	Hash  string
	knots [][2]float64 // (quantile, seconds)
}

// NewServiceTimes builds the sampler from one durations row.
func NewServiceTimes(d trace.Durations) (*ServiceTimes, error) {
	top := math.Min(d.P100, 4*d.P99)
	ks := [][2]float64{{0, d.P0}, {0.01, d.P1}, {0.25, d.P25}, {0.5, d.P50}, {0.75, d.P75}, {0.99, d.P99}, {1, math.Max(top, d.P99)}}
	for i := range ks {
		ks[i][1] /= 1000
		if i > 0 && ks[i][1] < ks[i-1][1] {
			return nil, fmt.Errorf("durations of %s are not increasing", d.Hash)
		}
	}
	if ks[3][1] <= 0 {
		return nil, fmt.Errorf("durations of %s have a zero median", d.Hash)
	}
	return &ServiceTimes{Hash: d.Hash, knots: ks}, nil
}

// Sample draws one service time.
func (s *ServiceTimes) Sample(rng *rand.Rand) float64 {
	u := rng.Float64()
	k := s.knots
	i := sort.Search(len(k), func(i int) bool { return k[i][0] >= u })
	if i == 0 {
		return k[0][1]
	}
	a, b := k[i-1], k[i]
	return a[1] + (u-a[0])/(b[0]-a[0])*(b[1]-a[1])
}

// Mean is the sampler's mean service time (seconds).
func (s *ServiceTimes) Mean() float64 {
	var m float64
	for i := 1; i < len(s.knots); i++ {
		a, b := s.knots[i-1], s.knots[i]
		m += (b[0] - a[0]) * (a[1] + b[1]) / 2
	}
	return m
}

// QueueConfig is the queueing-model generator: each replica serves one
// request at a time (the classic watchdog runs one process per request and
// hello-python is CPU-bound), requests queue FIFO at the gateway for the
// first free replica (M/G/c), and a request whose response would take longer
// than Timeout fails with a 5xx at Timeout, as the gateway's upstream timeout.
type QueueConfig struct {
	Rates    []float64 // offered requests per second
	Replicas []int
	Repeats  int
	Window   float64 // seconds measured per window
	Warmup   float64 // seconds simulated before each window
	Timeout  float64 // seconds
	Seed     int64
}

func rateRange(from, to, step float64) []float64 {
	var out []float64
	for r := from; r <= to; r += step {
		out = append(out, r)
	}
	return out
}

// DefaultQueueConfig sweeps 2..80 rps in steps of 2 × 1..8 replicas × 3
// repeats of 30 s windows (960 windows).
func DefaultQueueConfig() QueueConfig {
	return QueueConfig{
		Rates:    rateRange(2, 80, 2),
		Replicas: []int{1, 2, 3, 4, 5, 6, 7, 8},
		Repeats:  3, Window: 30, Warmup: 10, Timeout: 5, Seed: 1,
	}
}

// GenerateQueue runs the sweep on the queueing model and labels it.
func GenerateQueue(cfg QueueConfig, st *ServiceTimes, slo SLO, progress func()) ([]Window, error) {
	if len(cfg.Rates) == 0 || len(cfg.Replicas) == 0 || cfg.Repeats < 1 || cfg.Window <= 0 || cfg.Timeout <= 0 {
		return nil, fmt.Errorf("queue sweep needs rates, replicas, repeats ≥ 1, window > 0 and timeout > 0")
	}
	rng := rand.New(rand.NewSource(cfg.Seed))
	var out []Window
	for _, rate := range cfg.Rates {
		for _, c := range cfg.Replicas {
			for r := 0; r < cfg.Repeats; r++ {
				if rate <= 0 || c < 1 {
					return nil, fmt.Errorf("rate %v and replicas %d must be > 0", rate, c)
				}
				w := Window{Rate: rate, Replicas: c, Repeat: r}
				rs, inflight := simulateWindow(rng, rate, c, cfg, st)
				Measure(&w, rs, cfg.Window, inflight)
				out = append(out, w)
				if progress != nil {
					progress()
				}
			}
		}
	}
	Label(out, slo)
	return out, nil
}

type freeAt []float64

func (h freeAt) Len() int           { return len(h) }
func (h freeAt) Less(i, j int) bool { return h[i] < h[j] }
func (h freeAt) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *freeAt) Push(x any)        { *h = append(*h, x.(float64)) }
func (h *freeAt) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// simulateWindow simulates Poisson arrivals at rate onto c FIFO servers
// from an empty system; it returns the responses of requests that finish
// inside [Warmup, Warmup+Window) and the number in the system at the end.
func simulateWindow(rng *rand.Rand, rate float64, c int, cfg QueueConfig, st *ServiceTimes) ([]Response, float64) {
	servers := make(freeAt, c)
	heap.Init(&servers)
	start, end := cfg.Warmup, cfg.Warmup+cfg.Window
	var rs []Response
	inSystem := 0.0
	for t := rng.ExpFloat64() / rate; t < end; t += rng.ExpFloat64() / rate {
		free := heap.Pop(&servers).(float64)
		begin := math.Max(t, free)
		svc := st.Sample(rng)
		done := begin + svc
		var resp Response
		finish := done
		if done-t > cfg.Timeout {
			// The gateway gives up at the timeout; the replica is still busy
			// until the process ends (the watchdog does not kill it sooner).
			finish = t + cfg.Timeout
			resp = Response{Latency: cfg.Timeout, Status: 504}
		} else {
			resp = Response{Latency: done - t, Status: 200}
		}
		heap.Push(&servers, done)
		if finish >= start && finish < end {
			rs = append(rs, resp)
		}
		if finish >= end {
			inSystem++
		}
	}
	return rs, inSystem
}
