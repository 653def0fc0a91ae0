// Package plugin is the composition root of the gateway plugin: a
// single-machine OpenFaaS platform. Platform builds a stack's functions
// natively (plugin/build), runs their replicas as OS processes
// (plugin/runtime) and serves the OpenFaaS provider and gateway API
// (plugin/api) with basic auth, secrets (plugin/secrets) and the gateway's
// Prometheus metrics (plugin/gwmetrics) on one loopback port.
//
// Other services (the async queue, the cron connector) plug in before Start:
// they mount routes on Router, register metrics on Registry, are started and
// stopped with the platform through AddService, and hand functions their
// NATS URL through SetNATSURL.
//
// Cold-start metrics on /metrics (from plugin/runtime, label function_name):
// prescale_plugin_start_waits_total counts requests served by a replica
// that became ready after they arrived (the simulator's "delayed by a cold
// start"); prescale_plugin_start_wait_seconds is the histogram of those
// requests' waits, arrival to being taken by that replica (buckets
// runtime.StartWaitBuckets, 0.05 s to 60 s), so a wait p99 can be read
// with histogram_quantile; prescale_plugin_cold_start_waits_total and
// prescale_plugin_cold_start_wait_seconds_total count the requests that
// arrived when no replica was ready and their total wait.
package plugin
