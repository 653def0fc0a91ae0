// Package source turns a metrics backend into decide.Samples for load-probe:
// the gateway's Prometheus exposition (/metrics, Gateway), an active
// hey-style probe (Probe), and — in subpackage promsrc — a Prometheus
// server's HTTP API. All implement Source.
//
// Gateway is stateless across invocations: the previous counters of each
// function (a Snapshot) are kept by a SnapshotStore (NATS JetStream KV in
// load-probe, see pkg/state), and each Observe turns the counter deltas
// since then into per-interval rates, latency percentiles (from histogram
// buckets, as PromQL's histogram_quantile interpolates them), error rate,
// Status 200/500 counts, in-flight requests and replicas.
package source
