package autoscaler

import "testing"

// Knative KPA on a hand-computed timeline (target = 0.7 × 10 slots = 7).
func TestKPAPanicEntryAndExit(t *testing.T) {
	k := KPA{Config: DefaultKPA()}.NewController(info()).(*kpaCtl)
	steps := []struct {
		name          string
		now           float64
		ready         int
		stable, panic float64 // observed concurrency over 60 s and 6 s
		want          int
		panicking     bool
	}{
		{"steady: ceil(5/7) = 1, 5/7/1 < 2", 60, 1, 5, 5, 1, false},
		{"burst: panic 20/7/1 = 2.86 ≥ 2 → panic, ceil(20/7) = 3", 62, 1, 6, 20, 3, true},
		{"in panic the count never drops: stable & panic want 2, hold 3", 64, 3, 9, 10, 3, true},
		{"panic rises: ceil(50/7) = 8; 50/7/3 = 2.38 ≥ 2 extends panic", 66, 3, 12, 50, 8, true},
		{"below threshold but within 60 s of the last over-threshold tick: hold 8", 126, 8, 20, 20, 8, true},
		{"66 + 60 < 128: panic ends; stable ceil(20/7) = 3, but the scale-down rate keeps floor(8/2) = 4", 128, 8, 20, 20, 4, false},
		{"ready 4: stable ceil(13/7) = 2 = floor(4/2)", 130, 4, 13, 13, 2, false},
	}
	for _, s := range steps {
		got := k.step(s.now, s.ready, s.stable, s.panic)
		if got != s.want || k.Panicking() != s.panicking {
			t.Fatalf("%s: got %d (panicking %v), want %d (panicking %v)", s.name, got, k.Panicking(), s.want, s.panicking)
		}
	}
}

func TestKPADecideReadsBothWindows(t *testing.T) {
	k := KPA{Config: DefaultKPA()}.NewController(info())
	v := &fakeView{now: 120, ready: 1, replicas: 1, perWindow: map[int]float64{60: 60 * 7, 6: 6 * 21}}
	// stable 7 → 1 pod; panic 21 → 21/7/1 = 3 ≥ 2 → panic, 3 pods
	if got := k.Decide(v); got != 3 {
		t.Fatalf("got %d, want 3", got)
	}
}
