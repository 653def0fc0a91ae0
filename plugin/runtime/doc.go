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
// # Replica state machine
//
// Each replica is driven by one goroutine (runReplica, replica.go) through
// the states of machine.go. The goroutine runs the action of its state
// (driver.act: spawn, probe, wait, signal) and the event that ends it goes
// through one table (transitions) and one function (Manager.transition),
// which changes the state under Manager.mu, applies what entering the state
// means (routing, counters, reconcile), logs the step at debug level
// ("replica transition") and broadcasts it.
//
//	starting ─spawned─▶ probing ─healthy─▶ warming ─delay-over─▶ ready ◀─healthy─┐
//	   │                   │                  │                  │  └─suspect─▶ reprobing
//	   │ spawn-failed      │ not-ready        │ exited           │ exited         │ not-ready
//	   │                   │ exited           │                  │                │ exited
//	   └───────────────────┴──────────────────┴───────▶ crashed ◀┴────────────────┘
//	                                                       │ reaped (group killed,
//	                                                       ▼         restart counted)
//	                      starting ◀─backoff-over─ backoff ─stop─▶ stopped
//
//	probing, warming, ready, reprobing ─stop─▶ draining
//	draining ─drained─▶ terminating (SIGTERM) ─exited─▶ stopped
//	draining, terminating ─grace-over, hard-stop─▶ killing (SIGKILL) ─exited─▶ stopped
//	draining ─exited─▶ stopped
//
// probing waits up to ReadyTimeout for the check above; warming keeps a
// healthy replica unready for Spec.StartupDelay (the prescale.startup-delay
// annotation); reprobing is a ready replica whose connection failed (out of
// routing at once, probed again, ready again or crashed). A crash (an
// unexpected exit, no readiness within ReadyTimeout, an unreachable
// re-probe) kills what is left of the process group, is counted, and is
// followed by backoff: RestartBackoff doubling per consecutive crash up to
// RestartBackoffMax, reset once a process has been ready for
// RestartBackoffMax. A process that exits after its stop began has stopped,
// not crashed. ReplicaStatus.Phase is the state; ReplicaStatus.State folds
// it into starting, ready, draining (any state after a stop) and restarting
// (crashed, backoff).
//
// Stopping a replica (scale down, Remove, the old side of an Update, Close)
// stops routing to it at once (stopReplicaLocked), lets its in-flight
// requests finish, then sends SIGTERM to its process group and SIGKILL once
// StopGrace has passed since the stop began, or at once when Close's context
// ends. Update is rolling: replicas of the new spec start, and old ones stop
// only as new ones become ready (reconcileLocked, lifecycle.go).
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
// The dispatcher is one pool per function (pool.go): its routable replicas
// as slots (in flight, requests), the FIFO queue of waiters and the request
// counters. The lifecycle adds a slot when a replica enters ready and
// removes it on a stop, a suspect or a crash; the pool tells the lifecycle
// back only through channels (a slot's recheck token, whenDrained).
//
// # Locks
//
// Manager.mu guards the lifecycle: the functions, their specs, desired
// counts and replicas, and every replica's state. Each pool's mu guards
// that function's dispatch state. Order: Manager.mu, then pool.mu, then the
// leaf locks (signal, logBuffer.mu, the fake clock's), which call nothing
// while held. A request takes Manager.mu once, briefly, to look up its
// function (and, at 0 replicas, to scale from zero, read first through an
// atomic); queueing, choosing a replica and releasing it take only pool.mu.
// The pool never takes Manager.mu.
//
// # Clock
//
// Config.Clock (internal/clock; the wall clock by default) is the time of
// everything where time is the subject: ReadyTimeout, ColdStartWait,
// StopGrace, the restart backoff, Spec.StartupDelay, the upstream deadline
// (504), CreatedAt, StartedAt, ReadyAt, the cold-start wait seconds, log
// timestamps and X-Start-Time. Tests run on a clock.Fake and step it past
// the timer they are testing. I/O pacing stays on real time: the
// ProbeInterval poll, the 1 s probe and 2 s dial timeouts, and the 2 s after
// which an exited replica's output pipe is closed. WaitAvailable and the
// tests wait on the Manager's change signal (every transition, queue or
// slot change, log line), not on a poll.
//
// The Manager is also a prometheus.Collector (prescale_plugin_* metrics,
// among them the prescale_plugin_start_wait_seconds histogram: one
// observation per request counted in prescale_plugin_start_waits_total, its
// wait on the Manager's clock, and prescale_plugin_replica_start_seconds:
// one observation per replica, from its creation to its first ready) and
// a faas-provider logs.Requester (Logs: replica stdout/stderr lines).
package runtime
