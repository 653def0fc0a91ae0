package clock

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Fake is a Clock that moves only when Advance is called. It is safe for
// concurrent use. The zero value is not usable: use NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	seq     int
	pending []*fakeTimer  // not fired, not stopped
	changed chan struct{} // closed (and replaced) when pending changes
}

type fakeTimer struct {
	f     *Fake
	at    time.Time
	seq   int // creation order: ties fire in it
	c     chan time.Time
	fn    func()
	fired bool
}

// NewFake returns a fake clock that reads start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer implements Clock.
func (f *Fake) NewTimer(d time.Duration) Timer {
	return f.add(d, make(chan time.Time, 1), nil)
}

// AfterFunc implements Clock. f runs on the goroutine that calls Advance
// (or NewTimer's caller when d <= 0), so it must not block on that goroutine.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	return f.add(d, nil, fn)
}

func (f *Fake) add(d time.Duration, c chan time.Time, fn func()) *fakeTimer {
	f.mu.Lock()
	f.seq++
	t := &fakeTimer{f: f, at: f.now.Add(d), seq: f.seq, c: c, fn: fn}
	if d <= 0 {
		t.fired = true
		now := f.now
		f.mu.Unlock()
		t.fire(now)
		return t
	}
	f.pending = append(f.pending, t)
	f.signalLocked()
	f.mu.Unlock()
	return t
}

func (t *fakeTimer) fire(now time.Time) {
	if t.c != nil {
		t.c <- now // buffered 1, sent once
	}
	if t.fn != nil {
		t.fn()
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.fired {
		return false
	}
	t.fired = true
	f.removeLocked(t)
	f.signalLocked()
	return true
}

func (f *Fake) removeLocked(t *fakeTimer) {
	for i, p := range f.pending {
		if p == t {
			f.pending = append(f.pending[:i], f.pending[i+1:]...)
			return
		}
	}
}

func (f *Fake) signalLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Advance moves the clock forward by d (a negative d counts as 0), firing every timer due by
// then in deadline order (creation order on ties), each with the clock set
// to its deadline. Timers armed by a callback while Advance runs fire too if
// they fall due. Advance returns once every due timer has fired.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		d = 0 // time does not go back
	}
	f.mu.Lock()
	end := f.now.Add(d)
	for {
		t := f.nextDueLocked(end)
		if t == nil {
			break
		}
		t.fired = true
		f.removeLocked(t)
		f.now = t.at
		f.signalLocked()
		f.mu.Unlock()
		t.fire(t.at)
		f.mu.Lock()
	}
	f.now = end
	f.mu.Unlock()
}

func (f *Fake) nextDueLocked(end time.Time) *fakeTimer {
	var best *fakeTimer
	for _, t := range f.pending {
		if t.at.After(end) {
			continue
		}
		if best == nil || t.at.Before(best.at) || (t.at.Equal(best.at) && t.seq < best.seq) {
			best = t
		}
	}
	return best
}

// Pending returns, sorted, how long from now each armed timer has to go.
func (f *Fake) Pending() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pendingLocked()
}

func (f *Fake) pendingLocked() []time.Duration {
	out := make([]time.Duration, 0, len(f.pending))
	for _, t := range f.pending {
		out = append(out, t.at.Sub(f.now))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// BlockUntil waits until cond holds for the armed timers (as Pending gives
// them), or ctx ends. Tests use it to know that a goroutine has armed the
// timer they are about to step past.
func (f *Fake) BlockUntil(ctx context.Context, cond func(pending []time.Duration) bool) error {
	for {
		f.mu.Lock()
		p := f.pendingLocked()
		ch := f.changed
		f.mu.Unlock()
		if cond(p) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fake clock: timers %v: %w", p, ctx.Err())
		}
	}
}

// Has returns a BlockUntil condition: a timer with exactly d to go is armed.
func Has(d time.Duration) func([]time.Duration) bool {
	return func(p []time.Duration) bool {
		for _, x := range p {
			if x == d {
				return true
			}
		}
		return false
	}
}
