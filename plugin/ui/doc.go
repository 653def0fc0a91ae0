// Package ui is the platform's dashboard at /ui/: the function list as the
// OpenFaaS portal shows it (name, image, replicas desired/ready,
// invocations, invoke from the page) and, per function opted in with
// prescale.enabled=true, a live chart of the observed rate, the forecast the
// predictor made for that moment, desired and ready replicas and cold-start
// waits, with the decision log and its reasons underneath.
//
// The data come from the platform's own sources: the function list (what
// /system/functions answers), the gateway's metrics registry (what /metrics
// serves) and the decision stream PRESCALE_DECISIONS in NATS JetStream.
// The page polls /ui/api/state. Its assets, including the vendored uPlot
// 1.6.32 (MIT, assets/uPlot.LICENSE), are embedded: the page needs no
// network beyond the gateway.
package ui
