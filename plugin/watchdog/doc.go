// Package watchdog is prescale's classic OpenFaaS watchdog (fork mode): one
// replica process that listens on a loopback port, forks the function's
// process (fprocess) once per request with the request body on stdin and the
// request headers in the environment (Http_*), and answers with its output.
//
// It is a re-implementation of the behaviour described in the project's
// OpenFaaS contract (§11, classic watchdog); no OpenFaaS code is copied.
//
// Behaviour:
//   - 200 with stdout (plus stderr when combine_output is on) and X-Duration-Seconds;
//   - non-zero exit: 500 "exit status N\n" followed by the output;
//   - exec_timeout > 0: the child's process group is killed, 408 "Killed process.";
//   - max_inflight > 0: requests over the bound get 429 with X-OpenFaaS-Internal;
//   - GET /_/health: 200 "OK" while accepting and the lock file $TMPDIR/.lock
//     exists (or suppress_lock is set), else 503;
//   - on shutdown (SIGTERM via the context): the lock file is removed, the
//     watchdog waits healthcheck_interval (default 0 here: the plugin has already
//     stopped routing), stops accepting, drains in-flight requests for up to
//     write_timeout and returns.
//
// Differences from the upstream classic watchdog: it binds 127.0.0.1 by default
// (env `bind` overrides), serves no metrics port (upstream hard-codes 8081), and
// kills a child whose client went away.
package watchdog
