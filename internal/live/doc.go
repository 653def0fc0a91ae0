// Package live drives the simulator's policies (internal/autoscaler, any
// sim.Controller) against a real OpenFaaS gateway: each second it scrapes
// the gateway's /metrics and GET /system/function/{name}, keeps the
// cumulative counters as a History, and at every control instant hands the
// Controller a sim.View computed from them — the same window sums the
// simulator gives (arrivals, completions, latency sums, in-flight, ready and
// starting replicas); a decision is applied Lag seconds later with POST
// /system/scale-function/{name} (basic auth).
//
// What the gateway cannot observe is approximated and says so: BusySeconds
// is ∫ min(in-flight, ready×concurrency) from the per-second samples, and
// NeedAhead (the oracle's future) is never answered (-1). The ∫ window
// sums are exact over (now-w, now] for the per-sample values (each held
// until the next sample), rounded to the microsecond. A zero-mode
// Controller (sim.ArrivalObserver) hears Arrived once per request started
// since the previous sample, at that sample. ParseStartWaits reads the
// plugin's start-wait histogram for a run's wait percentiles.
//
// A failed observation (each request is bounded by HTTPGateway.Timeout) is
// retried after a short backoff and recorded as a Gap in the History;
// Config.FailAfter failures in a row end the run.
//
// The loop takes a clock.Clock; the gateway is an interface, so tests run
// the loop on a fake clock against a fake gateway.
package live
