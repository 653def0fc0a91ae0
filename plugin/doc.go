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
package plugin
