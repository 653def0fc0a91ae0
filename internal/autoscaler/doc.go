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
// decision. PrescaleChain is prescale whole, as the chain runs it: the
// forecast load policy above one replica and the zero decision below,
// combined by decide.WithZero as functions/scaler does. HPA, OpenFaaS CE's
// alert rule and Pro's rps mode have no zero mode of their own: Kubernetes'
// HPA keeps minReplicas >= 1 (scale to zero is an alpha gate for external
// metrics), the CE gateway clamps the scale API to 1..5, and Pro scales to
// zero with the same zero-duration idler as keepalive.
//
// Every controller keeps its state as plain fields; time comes from the
// simulator's View, never from a clock.
package autoscaler
