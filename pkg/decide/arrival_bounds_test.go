package decide

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestArrivalOverlappingUpdate: counts for an interval before the newest
// invocation (an overlapping load-probe run) never move Last back or put
// the burst starts out of order (that panicked in detectPeriod).
func TestArrivalOverlappingUpdate(t *testing.T) {
	var st ArrivalState
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	for i := 0; i < 8; i++ { // bursts every 10 minutes
		at := t0.Add(time.Duration(i) * 10 * time.Minute)
		st.Update(3, at, at.Add(5*time.Second))
	}
	last := st.Last
	st.Update(4, t0.Add(15*time.Minute), t0.Add(16*time.Minute)) // overlaps the past
	st.Update(1, t0.Add(-time.Hour), t0.Add(-time.Hour+time.Second))
	if st.Last.Before(last) || !slices.IsSorted(st.Starts) {
		t.Fatalf("last %s (was %s), starts %v", st.Last, last, st.Starts)
	}
	st.Update(2, t0.Add(2*time.Hour), t0.Add(2*time.Hour+time.Second))
	if !slices.IsSorted(st.Starts) {
		t.Fatalf("starts %v", st.Starts)
	}
}

// TestArrivalCheck: a stored or received model out of bounds is refused by
// DecideZero (the function is kept) and restarted by Update.
func TestArrivalCheck(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	set := DefaultZeroSettings()
	set.Enabled = true
	for name, st := range map[string]ArrivalState{
		"resolution near 0": {Res: 1e-20, Last: now.Add(-time.Hour)},
		"too many bins":     {Idle: make([]float64, IdleBins+1)},
		"NaN bin":           {Idle: []float64{1, math.NaN()}},
		"huge period":       {Period: 1e300, Starts: []int64{1, 2}},
		"too many starts":   {Starts: make([]int64, StartsCap+1)},
		"NaN quantum":       {Quantum: math.NaN()},
		"negative quantum":  {Quantum: -2},
	} {
		z := DecideZero(st, now, set, ZeroObservation{})
		if z.Rule != RuleInvalid || z.Floor != -1 || !strings.Contains(z.Reason, "arrival model refused") {
			t.Errorf("%s: %+v", name, z)
		}
		st.Update(1, now, now.Add(time.Second))
		if err := st.Check(); err != nil || st.Total != 1 {
			t.Errorf("%s: after Update: total %v, %v", name, st.Total, err)
		}
	}
}

// TestSeconds: the conversion saturates instead of wrapping.
func TestSeconds(t *testing.T) {
	for in, want := range map[float64]time.Duration{
		1.5: 1500 * time.Millisecond, 0: 0, -2: -2 * time.Second,
		1e300: math.MaxInt64, -1e300: math.MinInt64, math.Inf(1): math.MaxInt64, 9.3e9: math.MaxInt64,
	} {
		if got := Seconds(in); got != want {
			t.Errorf("Seconds(%v) = %d, want %d", in, got, want)
		}
	}
	if Seconds(math.NaN()) != 0 {
		t.Error("NaN")
	}
	if h := EffectiveHorizon(30*time.Second, 1e300); h != math.MaxInt64 {
		t.Errorf("EffectiveHorizon for a huge interval = %d (wrapped around)", h)
	}
}
