// Package runtime runs OpenFaaS functions as native processes: replicas are OS
// processes on loopback ports, readiness-checked, restarted when they crash,
// started and stopped by scaling. It also dispatches /function/ requests over
// ready replicas with per-replica concurrency, an arrival-order queue and timeouts.
//
// # Replicas
//
// Each replica is one process at a time in its own process group, on a
// loopback port chosen by the Manager (bind 127.0.0.1:0, release, hand over;
// a process that then fails to bind is restarted on a new port), with its own
// TMPDIR under Config.BaseDir. Its environment is PATH, HOME, LANG from the
// plugin, then Spec.Env, then TMPDIR, upstream_url=http://127.0.0.1:<port>,
// port=<port>, secret_mount_path=<Spec.SecretsDir>, and exec_timeout,
// read_timeout, write_timeout from the Spec unless Spec.Env sets them.
//
//   - ModeHTTP: the process is the function's HTTP server (the golang-http
//     template listens on upstream_url's port). Ready = any HTTP answer to
//     GET /_/health.
//   - ModeFork: the process is Config.WatchdogCommand (`prescale watchdog`,
//     package plugin/watchdog) with fprocess = Spec.Command joined by spaces
//     and, when Spec.MaxInflight > 0, max_inflight=0: the dispatcher owns
//     the per-replica bound and queues what is over it, so the watchdog's
//     own limiter (a 429) never fires under the plugin, even while it still
//     reaps a child whose request was abandoned. Ready = 200 from /_/health.
//
// After the readiness check a replica stays unready for Spec.StartupDelay.
// A process that exits unexpectedly (or fails its readiness check within
// ReadyTimeout, or refuses connections and then fails a re-probe) is taken
// out of routing at once and restarted with exponential backoff
// (RestartBackoff doubling to RestartBackoffMax); restarts are counted.
//
// Stopping a replica (scale down, Remove, the old side of an Update, Close)
// stops routing to it at once, lets its in-flight requests finish, then sends
// SIGTERM to its process group and SIGKILL once StopGrace has passed since
// the stop began. Update is rolling: replicas of the new spec start, and old
// ones stop only as new ones become ready.
//
// # Dispatch
//
// Invoke picks the ready replica with the fewest requests in flight and a
// free slot (Spec.MaxInflight per replica; 0 = unbounded). When none is free,
// the request joins a per-function FIFO queue and each freed slot goes to the
// oldest waiter, for up to Config.ColdStartWait (then 503). A request to a
// function at 0 desired replicas scales it to max(1, com.openfaas.scale.min)
// first (OpenFaaS's scale_from_zero), unless Config.DisableScaleFromZero.
// The upstream deadline is the smaller non-zero of ExecTimeout and
// WriteTimeout (504 on expiry); a replica failure gives 502. A request whose
// connection was refused before its body was read is retried on another
// replica. Runtime errors carry X-OpenFaaS-Internal: prescale-plugin.
//
// The Manager is also a prometheus.Collector (prescale_plugin_* metrics) and
// a faas-provider logs.Requester (Logs: replica stdout/stderr lines).
package runtime
