// Package autoscaler holds the autoscalers the simulator compares, each
// a sim.Policy faithful to its published algorithm and defaults: a static
// deployment, OpenFaaS CE's AlertManager rule, the Kubernetes HPA (CPU), the
// Knative KPA, OpenFaaS Pro's rps mode, a PHPA-style Holt-Winters forecast
// combined with the HPA by maximum, prescale (through pkg/decide, the code the
// functions run) and an oracle that knows the future.
//
// The scale-to-zero regime (ZeroNames, ZeroCurves) adds a fixed keep-alive
// idler (OpenFaaS Pro's zero-duration), Knative's KPA with scale to zero,
// the hybrid histogram of Shahrad et al. (ATC 2020) and prescale's zero mode
// (decide.DecideZero); keepalive, hybrid and prescale share one reactive
// load layer above one replica (zeroCtl), so they differ only in the zero
// decision.
//
// Every controller keeps its state as plain fields; time comes from the
// simulator's View, never from a clock.
package autoscaler
