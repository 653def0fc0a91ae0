package promtest

import (
	"os"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// TestMain lets the test binary double as `prescale watchdog`: the plugin's
// runtime starts fork-mode replicas (hello-python) as [this executable, "watchdog"].
func TestMain(m *testing.M) {
	testenv.ServeWatchdogIfAsked()
	os.Exit(m.Run())
}
