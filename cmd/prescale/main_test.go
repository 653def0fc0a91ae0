package main

import (
	"os"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// TestMain lets this test binary serve as the plugin's fork-mode watchdog
// (the runtime starts [this executable, "watchdog"] for each replica), so
// tests that start the embedded plugin get real replicas.
func TestMain(m *testing.M) {
	testenv.ServeWatchdogIfAsked()
	os.Exit(m.Run())
}
