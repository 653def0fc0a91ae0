package eventually

import "testing"

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	n := 0
	True(t, "the third check", 0, func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("cond checked %d times, want 3 (it stops at the first true)", n)
	}
}
