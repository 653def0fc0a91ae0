package clock

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestFakeFiresDueTimersInOrder(t *testing.T) {
	f := NewFake(t0)
	var mu sync.Mutex
	var order []string
	rec := func(s string) func() { return func() { mu.Lock(); order = append(order, s); mu.Unlock() } }
	f.AfterFunc(3*time.Second, rec("3s"))
	f.AfterFunc(time.Second, rec("1s-a"))
	f.AfterFunc(time.Second, rec("1s-b"))
	late := f.AfterFunc(10*time.Second, rec("10s"))
	tm := f.NewTimer(2 * time.Second)

	f.Advance(999 * time.Millisecond)
	if len(order) != 0 {
		t.Fatalf("fired before due: %v", order)
	}
	select {
	case <-tm.C():
		t.Fatal("2s timer fired at 999ms")
	default:
	}
	f.Advance(2001 * time.Millisecond) // now 3s
	if want := []string{"1s-a", "1s-b", "3s"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	select {
	case at := <-tm.C():
		if !at.Equal(t0.Add(2 * time.Second)) {
			t.Errorf("timer fired with %v, want its deadline", at)
		}
	default:
		t.Fatal("2s timer did not fire by 3s")
	}
	if !f.Now().Equal(t0.Add(3 * time.Second)) {
		t.Errorf("Now = %v", f.Now())
	}
	if got := f.Pending(); !slices.Equal(got, []time.Duration{7 * time.Second}) {
		t.Errorf("Pending = %v, want [7s]", got)
	}
	if !late.Stop() || late.Stop() {
		t.Error("Stop: want true once, then false")
	}
	f.Advance(time.Hour)
	if len(order) != 3 {
		t.Errorf("stopped timer fired: %v", order)
	}
}

func TestFakeZeroAndChainedTimers(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(0)
	select {
	case <-tm.C():
	default:
		t.Fatal("a timer of 0 did not fire at once")
	}
	if tm.Stop() {
		t.Error("Stop of a fired timer returned true")
	}
	// A callback that arms the next timer: both fire within one Advance.
	var fired []time.Time
	f.AfterFunc(time.Second, func() {
		fired = append(fired, f.Now())
		f.AfterFunc(time.Second, func() { fired = append(fired, f.Now()) })
	})
	f.Advance(5 * time.Second)
	if want := []time.Time{t0.Add(time.Second), t0.Add(2 * time.Second)}; !slices.Equal(fired, want) {
		t.Errorf("fired at %v, want %v", fired, want)
	}
	f.Advance(-time.Second)
	if !f.Now().Equal(t0.Add(5 * time.Second)) {
		t.Errorf("negative Advance moved the clock to %v", f.Now())
	}
}

func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(t0)
	go func() { f.NewTimer(time.Minute) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.BlockUntil(ctx, Has(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := f.BlockUntil(ctx2, Has(time.Second)); err == nil {
		t.Error("BlockUntil of a condition that never holds returned nil after ctx ended")
	}
}

func TestReal(t *testing.T) {
	c := Real()
	before := time.Now()
	if c.Now().Before(before) {
		t.Error("Real().Now() went back")
	}
	tm := c.NewTimer(0)
	<-tm.C() // fires: no deadline needed, the test binary's timeout bounds it
	done := make(chan struct{})
	c.AfterFunc(0, func() { close(done) })
	<-done
	if Since(c, before) < 0 {
		t.Error("Since < 0")
	}
}
