package promtest

import (
	"context"
	"os"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
)

// TestMain lets the test binary double as `prescale watchdog`: the plugin's
// runtime starts fork-mode replicas (hello-python) as [this executable, "watchdog"].
func TestMain(m *testing.M) {
	testenv.ServeWatchdogIfAsked()
	os.Exit(m.Run())
}

// safetyNet is the context of a wait for an event that comes in seconds
// (a scrape, a query): created when the wait starts, after any build or
// process start, it only turns a hang into a failure (eventually.SafetyNet).
func safetyNet(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), eventually.SafetyNet)
	t.Cleanup(cancel)
	return ctx
}
