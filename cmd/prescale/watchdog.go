package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/prescale/prescale/plugin/watchdog"
)

// runWatchdog runs one classic fork-mode watchdog replica, configured by the
// classic watchdog's environment (fprocess, port, exec_timeout, max_inflight, …).
// The plugin starts it once per fork-mode replica; SIGTERM drains and exits.
func runWatchdog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("watchdog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		io.WriteString(stderr, "usage: prescale watchdog\n\nConfigured by environment: fprocess, port, bind, read_timeout, write_timeout,\n"+
			"exec_timeout, healthcheck_interval, max_inflight, cgi_headers, combine_output,\ncontent_type, marshal_request, suppress_lock, write_debug.\n")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	return watchdog.RunFromEnv(ctx, os.Getenv, stderr)
}
