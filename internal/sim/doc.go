// Package sim is prescale's discrete-event simulator of OpenFaaS functions on
// a cluster. Each function has replicas with a fixed number of concurrent
// request slots; requests arrive from per-minute trace counts (spread within
// each minute by a seeded RNG), wait FIFO when every ready slot is busy, and
// are served for a time drawn from the function's durations percentiles. A
// new replica serves only after a cold-start delay drawn from a configurable
// distribution. Autoscaling policies plug in as Controllers that observe the
// function through a View at their own control period (and lag) and return
// the replicas they want.
//
// With MinReplicas 0 (the scale-to-zero regime) a function starts at zero;
// a request that finds no replica makes the platform start one at once (the
// gateway's scale from zero) and waits for it. Metrics add cold-start
// invocations (arrivals with no ready replica), per function, and wasted
// replica-seconds (replicas serving no request). Traces with real arrival
// instants (Azure 2021) are replayed as they are. ZeroBench sweeps policy
// knobs into Pareto frontiers (ZERO.md, PNGs).
//
// There is no wall clock: time is the event queue's. Functions do not share
// resources (no node capacity limit), so each function is an independent
// event-driven run; a multi-function run simulates them on a worker pool and
// merges their metrics in a fixed order, so results are deterministic for a
// seed.
package sim
