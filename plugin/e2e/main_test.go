package e2e_test

import (
	"os"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// TestMain lets the test binary double as `prescale watchdog`: the runtime
// starts fork-mode replicas as [this executable, "watchdog"] by default.
func TestMain(m *testing.M) {
	testenv.ServeWatchdogIfAsked()
	os.Exit(m.Run())
}
