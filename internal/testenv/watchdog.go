package testenv

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/prescale/prescale/plugin/watchdog"
)

// ServeWatchdogIfAsked lets a test binary serve as the fork-mode watchdog:
// the plugin runtime's default WatchdogCommand is [this executable, "watchdog"],
// so a TestMain calls this first. When the binary was started as
// `<test binary> watchdog`, it runs the watchdog until SIGTERM and exits;
// otherwise it returns at once.
func ServeWatchdogIfAsked() {
	if len(os.Args) < 2 || os.Args[1] != "watchdog" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := watchdog.RunFromEnv(ctx, os.Getenv, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchdog:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
