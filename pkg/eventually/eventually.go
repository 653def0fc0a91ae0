package eventually

import (
	"testing"
	"time"
)

// SafetyNet bounds a test's wait for an event that comes in seconds at
// most. Far beyond any run seen, it does not time the work: it only turns
// a hang into a failure. The waits are on the events themselves.
const SafetyNet = 3 * time.Minute

// True checks cond every `every` until it holds, and fails the test,
// naming what, only if it still does not after SafetyNet.
func True(t testing.TB, what string, every time.Duration, cond func() bool) {
	t.Helper()
	for limit := time.Now().Add(SafetyNet); !cond(); time.Sleep(every) {
		if time.Now().After(limit) {
			t.Fatalf("%s: not after %s (safety net)", what, SafetyNet)
		}
	}
}
