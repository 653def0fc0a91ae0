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
package decide
