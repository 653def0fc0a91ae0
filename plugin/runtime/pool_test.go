package runtime

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/clock"
)

// testPool is a dispatcher without processes: slots are added by hand.
func testPool(t *testing.T, wait time.Duration) (*pool, *clock.Fake, *signal) {
	t.Helper()
	clk := clock.NewFake(time.Unix(0, 0))
	sig := &signal{}
	return newPool("p", clk, wait, 0, sig.broadcast), clk, sig
}

func newSlot(id string, max int) *slot {
	return &slot{id: id, max: max, recheck: make(chan struct{}, 1)}
}

// waitPool waits, on the pool's change signal, until cond holds.
func waitPool(t *testing.T, p *pool, sig *signal, what string, cond func(poolCounters) bool) {
	t.Helper()
	net := time.NewTimer(safetyNet)
	defer net.Stop()
	for {
		ch := sig.wait()
		if cond(p.counters()) {
			return
		}
		select {
		case <-ch:
		case <-net.C:
			t.Fatalf("pool never reached: %s", what)
		}
	}
}

type grant struct {
	i   int
	l   lease
	err error
}

// TestPoolFIFO: with one slot of MaxInflight 1, queued requests get it in
// arrival order, one release at a time, and a cold start wait is counted
// for those queued while no slot was routable.
func TestPoolFIFO(t *testing.T) {
	p, clk, sig := testPool(t, time.Minute)
	got := make(chan grant, 4)
	for i := 0; i < 4; i++ {
		go func() {
			l, err := p.acquire(context.Background())
			got <- grant{i, l, err}
		}()
		waitPool(t, p, sig, "queued", func(c poolCounters) bool { return c.queue == float64(i+1) })
	}
	clk.Advance(2 * time.Second)
	s := newSlot("a", 1)
	p.add(s, 1234)
	for want := 0; want < 4; want++ {
		g := <-got
		if g.err != nil || g.i != want || g.l.s != s || g.l.port != 1234 {
			t.Fatalf("grant %+v, want request %d on port 1234", g, want)
		}
		select {
		case g := <-got:
			t.Fatalf("request %d granted while the only slot is taken", g.i)
		default:
		}
		if st := p.stats(s); st.inflight != 1 || st.requests != int64(want+1) {
			t.Fatalf("slot stats %+v after grant %d", st, want)
		}
		p.release(g.l)
	}
	c := p.counters()
	if c.coldStartWaits != 4 || c.coldStartWaitS != 8 || c.queueTimeouts != 0 {
		t.Errorf("counters %+v: want 4 cold start waits of 2 s", c)
	}
}

// TestPoolStartWaits: a request counts as waiting for a replica start when
// the replica that serves it became routable after it arrived (the
// simulator's ColdDelayed), not when an older replica frees a slot.
func TestPoolStartWaits(t *testing.T) {
	p, clk, sig := testPool(t, time.Minute)
	a := newSlot("a", 1)
	p.add(a, 1)
	first, err := p.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan grant, 2)
	for i := 0; i < 2; i++ {
		go func() {
			l, err := p.acquire(context.Background())
			got <- grant{i, l, err}
		}()
		waitPool(t, p, sig, "queued", func(c poolCounters) bool { return c.queue == float64(i+1) })
	}
	clk.Advance(time.Second)
	b := newSlot("b", 1)
	p.add(b, 2) // a replica started after both requests arrived
	if g := <-got; g.err != nil || g.i != 0 || g.l.s != b {
		t.Fatalf("grant %+v, want request 0 on the new replica", g)
	}
	p.release(first) // the old replica frees its slot
	if g := <-got; g.err != nil || g.i != 1 || g.l.s != a {
		t.Fatalf("grant %+v, want request 1 on the old replica", g)
	}
	c := p.counters()
	if c.startWaits != 1 || c.coldStartWaits != 0 {
		t.Errorf("counters %+v: want 1 start wait and no none-ready wait", c)
	}
	// The histogram has the one start wait, of the 1 s the request waited
	// (the request served by the old replica is not in it).
	if h := c.startWait; h.n != 1 || h.sum != 1 || h.cumulative()[1] != 1 || h.cumulative()[0.5] != 0 {
		t.Errorf("start-wait histogram %+v: want one observation of 1 s", h)
	}
}

// TestPoolTimeoutAndClose: a request waits ColdStartWait for a slot, then
// fails; closing the pool fails queued and new requests.
func TestPoolTimeoutAndClose(t *testing.T) {
	p, clk, sig := testPool(t, 300*time.Millisecond)
	s := newSlot("a", 1)
	p.add(s, 1)
	busy, err := p.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := p.acquire(context.Background()); done <- err }()
	step(t, clk, 300*time.Millisecond)
	var wt *waitTimeoutError
	if err := <-done; !errors.As(err, &wt) || wt.noneReady || wt.waited != 300*time.Millisecond {
		t.Fatalf("err %v, want a slot timeout after 300ms with a replica ready", err)
	}
	if p.counters().queueTimeouts != 1 {
		t.Errorf("queue timeouts %v", p.counters().queueTimeouts)
	}
	go func() { _, err := p.acquire(context.Background()); done <- err }()
	waitPool(t, p, sig, "queued", func(c poolCounters) bool { return c.queue == 1 })
	p.close()
	if err := <-done; !errors.Is(err, errGone) {
		t.Errorf("queued request on close: %v, want errGone", err)
	}
	if _, err := p.acquire(context.Background()); !errors.Is(err, errGone) {
		t.Errorf("request after close: %v, want errGone", err)
	}
	p.release(busy)
}

// TestPoolDrainAndSuspect: a removed slot keeps its in-flight requests and
// reports drained when the last one ends; a suspect lease takes its slot
// out of routing only for the process it was leased on.
func TestPoolDrainAndSuspect(t *testing.T) {
	p, _, _ := testPool(t, time.Minute)
	a, b := newSlot("a", 0), newSlot("b", 0)
	p.add(a, 1)
	p.add(b, 2)
	la, _ := p.acquire(context.Background())
	lb, _ := p.acquire(context.Background())
	if la.s == lb.s {
		t.Fatalf("two requests on one slot while the other is idle")
	}
	if la.s != a {
		la, lb = lb, la
	}
	p.remove(a)
	drained := p.whenDrained(a)
	select {
	case <-drained:
		t.Fatal("drained with a request in flight")
	default:
	}
	if p.available() != 1 {
		t.Errorf("available %d after remove", p.available())
	}
	p.release(la)
	<-drained // closed by the release

	p.suspect(lease{s: b, port: 99}) // a lease on an earlier process of b
	if !p.stats(b).routable {
		t.Error("a stale suspect took b out of routing")
	}
	p.suspect(lb)
	if p.stats(b).routable || len(b.recheck) != 1 {
		t.Errorf("suspect: routable %v, recheck tokens %d; want out of routing and one token", p.stats(b).routable, len(b.recheck))
	}
	p.release(lb)
}

// With MaxQueued waiting, one more request is refused at once (the caller
// answers 429) and counted; a freed place in the queue takes the next.
func TestPoolQueueCap(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	sig := &signal{}
	p := newPool("p", clk, time.Minute, 2, sig.broadcast)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan grant, 3)
	for i := range 2 {
		go func() { l, err := p.acquire(ctx); got <- grant{i, l, err} }()
	}
	waitPool(t, p, sig, "two queued", func(c poolCounters) bool { return c.queue == 2 })
	var full *queueFullError
	if _, err := p.acquire(ctx); !errors.As(err, &full) || full.queued != 2 {
		t.Fatalf("third request: %v, want queueFullError with 2 queued", err)
	}
	if c := p.counters(); c.queueRejected != 1 || c.queue != 2 {
		t.Fatalf("counters %+v, want 1 rejected, 2 queued", c)
	}
	s := newSlot("a", 1)
	p.add(s, 1)
	g := <-got
	if g.err != nil {
		t.Fatal(g.err)
	}
	go func() { l, err := p.acquire(ctx); got <- grant{2, l, err} }()
	waitPool(t, p, sig, "a new request queued in the freed place", func(c poolCounters) bool { return c.queue == 2 })
	if c := p.counters(); c.queueRejected != 1 {
		t.Fatalf("rejected %v, want still 1", c.queueRejected)
	}
	p.close()
}

func TestWaitHistogram(t *testing.T) {
	var h waitHistogram
	if c := h.cumulative(); len(c) != len(StartWaitBuckets()) || c[60] != 0 {
		t.Fatalf("empty histogram %v", c)
	}
	for _, v := range []float64{0, 0.05, 0.06, 2.5, 9.9, 61, -1} {
		h.observe(v)
	}
	c := h.cumulative()
	// <= 0.05: 0, 0.05 and -1 (clamped to 0); <= 0.1: + 0.06; <= 2.5: + 2.5; <= 10: + 9.9; 61 only in +Inf.
	for ub, want := range map[float64]uint64{0.05: 3, 0.1: 4, 2: 4, 2.5: 5, 8: 5, 10: 6, 60: 6} {
		if c[ub] != want {
			t.Errorf("le=%v: %d, want %d", ub, c[ub], want)
		}
	}
	if h.n != 7 || h.sum != 0+0.05+0.06+2.5+9.9+61 {
		t.Errorf("n %d sum %v", h.n, h.sum)
	}
	cp := h.clone()
	h.observe(1)
	if cp.n != 7 || cp.cumulative()[1] != 4 {
		t.Errorf("clone shares state with the original: %+v", cp)
	}
	if !slices.IsSorted(StartWaitBuckets()) {
		t.Error("buckets not sorted")
	}
}
