// Package runtime runs OpenFaaS functions as native processes: replicas are OS
// processes on loopback ports, readiness-checked, restarted when they crash,
// started and stopped by scaling. It also dispatches /function/ requests over
// ready replicas with per-replica concurrency, an arrival-order queue and timeouts.
package runtime
