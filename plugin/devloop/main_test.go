package devloop_test

import (
	"os"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// TestMain lets this test binary serve as the fork-mode watchdog: the
// runtime's default WatchdogCommand is [this executable, "watchdog"].
func TestMain(m *testing.M) {
	testenv.ServeWatchdogIfAsked()
	os.Exit(m.Run())
}
