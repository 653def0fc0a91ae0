// Package cron is the plugin's cron connector, with the semantics of
// OpenFaaS's cron-connector: every RebuildInterval it lists the gateway's
// namespaces (GET /system/namespaces; an empty list schedules nothing) and
// their functions (GET /system/functions?namespace=), with basic auth, through
// github.com/openfaas/go-sdk. A function whose annotation "topic" is exactly
// "cron-function" and whose annotation "schedule" parses with
// github.com/robfig/cron/v3 (five fields Minute Hour Dom Month Dow, or a
// descriptor such as @hourly or "@every 2s"; an optional CRON_TZ= prefix) is
// invoked on that schedule: POST <GatewayURL>/function/<name>.<namespace>
// (/async-function/ when Config.Async) with an empty body and the headers
// X-Topic: cron-function and X-Connector: cron-connector.
//
// Job identity is (name, namespace, schedule): deploying, removing or
// re-scheduling a function takes effect at the next rebuild, without a
// restart. A schedule that does not parse is logged once with the function's
// name and skipped; other functions keep running. If the gateway cannot be
// listed, the current jobs are kept until a listing succeeds. Every tick fires
// (as in cron-connector, runs of one job may overlap).
//
// Only the schedule syntax and its Next times come from robfig/cron; the
// connector runs them itself on Config.Clock (the wall clock by default, a
// clock.Fake in tests), as it does the rebuilds. Each job has one timer, at
// its next time after now in Config.Location (unless its schedule has
// CRON_TZ); when it fires, the job is re-armed for its next time after that
// and invoked on a goroutine of its own, so a slow invocation delays no other
// job. A timer that fires late fires once (missed times are not caught up),
// and a clock set back does not repeat a time. A job removed or re-scheduled
// by a rebuild never fires again on its old schedule. Jobs fire only between
// Start and Close (or the end of Start's ctx); a schedule that never falls due
// (such as "0 0 30 2 *") is kept and never fires.
//
// Results go to an optional connector-sdk ResponseSubscriber, and to the
// metrics prescale_cron_fires_total and prescale_cron_failures_total
// (by function_name) exposed by the Connector as a prometheus.Collector.
package cron
