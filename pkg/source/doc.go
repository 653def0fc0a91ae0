// Package source turns a metrics backend into decide.Samples for load-probe:
// the gateway's Prometheus exposition (/metrics), a Prometheus server's HTTP
// API, or an active hey-style probe.
package source
