// Package decide is prescale's decision logic, in one pure package:
// features → demand forecast → capacity (replicas) → policy.
// It has no clocks, no I/O and no package-level state: time is a parameter.
// The functions, `prescale up` and the simulator all call this code, so the
// simulator measures exactly what ships.
//
// # Pipeline
//
//   - Features: Sample (one control interval of one function) and the
//     original system's feature vector (FeaturesOf, ParseFeatures).
//   - Forecast: a Forecaster predicts the peak request rate over a horizon
//     from a function's history. The built-in HoltPeak needs no training:
//     Holt's linear (double exponential) smoothing projected over the horizon,
//     never below the recent observed peak, plus a safety margin.
//   - Capacity: Little's law turns a rate into replicas, as Knative's target
//     concurrency does: replicas = ceil(rps × service_time / target_concurrency),
//     and, when a per-replica rate target is set, at least ceil(rps / target_rps).
//   - Policy: desired = clamp(max(predicted, reactive), min, max), where
//     reactive is what the current load needs; a ±tolerance band around the
//     current replica count means no change (on the load ratio, as HPA);
//     scale-up at once; scale-down only to the highest recommendation of the
//     stabilization window (HPA's 300 s by default) and never below reactive;
//     a stale or missing forecast falls back to reactive only.
//
// A replica-recommending model with the original system's feature vector
// (p50/p90/p99, error rate, Status200/500, (Status500/Status200)+Status500)
// is the ReplicaModel interface; CapacityRules is the built-in one.
//
// # Scale to zero
//
// ArrivalState is a function's arrival model (plain JSON, a few KB): a
// decayed histogram of idle times (one-minute bins up to 4 h) and a ring of
// burst starts from which a period is detected by autocorrelation. The
// caller feeds it each tick with Update (invocations counted in (t0, t1],
// e.g. from the gateway's counters, which keep counting a function at zero)
// or Observe (exact times). DecideZero(state, now, settings, observation)
// returns a ZeroDecision — keep-alive until T, pre-warm at T, scale to zero
// now, or keep (zero off, requests in flight) — with the rule that fired
// and a reason. The trade-off is explicit: one cold start is worth W
// replica-seconds (prescale.cold-start-cost, default 600 s), and the
// histogram's plan minimises expected replica time + W × cold starts.
// ZeroDecision.Floor is the least replicas wanted (1, 0, or -1 for no
// opinion); the load policy's replicas are max(Policy.Decide's, Floor)
// while Floor is 1, and 0 only when Floor is 0 and no load remains.
package decide
