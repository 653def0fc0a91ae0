package chaine2e_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/prescale/prescale/plugin/watchdog"
)

// TestMain lets the test binary double as `prescale watchdog`: the plugin's
// runtime starts fork-mode replicas (hello-python) as [this executable,
// "watchdog"] by default.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "watchdog" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := watchdog.RunFromEnv(ctx, os.Getenv, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "watchdog:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
