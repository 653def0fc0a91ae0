package runtime

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prescale/prescale/internal/clock"
)

// pool is one function's dispatcher: its routable replicas (as slots), the
// FIFO queue of requests waiting for a free slot, and the request counters.
// Its lock is pool.mu, taken after Manager.mu when both are held (see doc.go);
// the pool never calls back into the lifecycle while holding it.
type pool struct {
	name   string
	clk    clock.Clock
	wait   time.Duration // ColdStartWait
	notify func()        // state changed (Manager.changed.broadcast)

	mu      sync.Mutex
	slots   []*slot // routable, in the order they became routable
	rr      int     // tie-break rotation for least-in-flight
	waiters list.List
	closed  bool

	invocations    float64
	coldStartWaits float64
	coldStartWaitS float64
	startWaits     float64       // served by a replica that became routable after the request arrived
	startWaitHist  waitHistogram // their wait seconds, one observation per startWaits
	queueTimeouts  float64
	queueRejected  float64
	maxQueued      int // waiters beyond this get errQueueFull
}

// slot is a replica as the dispatcher sees it. It lives as long as the
// replica, over all its processes. Fields are guarded by pool.mu.
type slot struct {
	id      string
	max     int           // Spec.MaxInflight; 0 = unbounded
	timeout time.Duration // requestTimeout of the replica's Spec
	recheck chan struct{} // the replica's owner re-probes on a token

	port        int
	routable    bool
	routableAt  time.Time // when it last became routable (pool clock)
	inflight    int
	requests    int64         // dispatched to the replica, over all its processes
	drained     chan struct{} // closed once !routable && inflight == 0 (made on demand)
	drainClosed bool
}

// waiter is one queued request. ch receives the slot it got (in flight
// already counted), or nil when the function went away.
type waiter struct {
	ch chan *slot
}

// lease is a slot for one request, on the process listening on port.
type lease struct {
	s    *slot
	port int
}

var errGone = errors.New("function removed or runtime closing")

type waitTimeoutError struct {
	name      string
	waited    time.Duration
	noneReady bool
	queued    int
}

func (e *waitTimeoutError) Error() string {
	if e.noneReady {
		return fmt.Sprintf("no replica of %s became ready within %s", e.name, e.waited.Round(time.Millisecond))
	}
	return fmt.Sprintf("no free replica slot for %s within %s (%d requests queued)", e.name, e.waited.Round(time.Millisecond), e.queued)
}

func newPool(name string, clk clock.Clock, wait time.Duration, maxQueued int, notify func()) *pool {
	return &pool{name: name, clk: clk, wait: wait, maxQueued: maxQueued, notify: notify}
}

// queueFullError: MaxQueued requests already wait for a slot.
type queueFullError struct {
	name   string
	queued int
}

func (e *queueFullError) Error() string {
	return fmt.Sprintf("%d requests for %s already wait for a replica slot (the runtime's MaxQueued): retry later", e.queued, e.name)
}

// add makes s routable on port and hands it queued requests.
func (p *pool) add(s *slot, port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || s.routable {
		return
	}
	s.port, s.routable, s.routableAt = port, true, p.clk.Now()
	p.slots = append(p.slots, s)
	p.dispatchLocked()
}

// remove stops routing to s at once; its in-flight requests go on.
func (p *pool) remove(s *slot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(s)
}

func (p *pool) removeLocked(s *slot) {
	if s.routable {
		s.routable = false
		for i, x := range p.slots {
			if x == s {
				p.slots = append(p.slots[:i], p.slots[i+1:]...)
				break
			}
		}
	}
	p.checkDrainedLocked(s)
}

// whenDrained returns a channel closed once s is out of routing with no
// request in flight.
func (p *pool) whenDrained(s *slot) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.drained == nil {
		s.drained = make(chan struct{})
	}
	p.checkDrainedLocked(s)
	return s.drained
}

func (p *pool) checkDrainedLocked(s *slot) {
	if s.drained != nil && !s.drainClosed && !s.routable && s.inflight == 0 {
		s.drainClosed = true
		close(s.drained)
	}
}

// close fails every queued request and refuses new ones (Remove, Close).
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for p.waiters.Len() > 0 {
		w := p.waiters.Remove(p.waiters.Front()).(*waiter)
		w.ch <- nil
	}
}

// available is how many slots are routable.
func (p *pool) available() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.slots)
}

// slotStats is what the lifecycle and the metrics read of one slot.
type slotStats struct {
	routable bool
	inflight int
	requests int64
}

func (p *pool) stats(s *slot) slotStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slotStats{routable: s.routable, inflight: s.inflight, requests: s.requests}
}

// poolCounters are the dispatcher's metrics of a function.
type poolCounters struct {
	queue, invocations, coldStartWaits, coldStartWaitS, startWaits, queueTimeouts, queueRejected float64
	startWait                                                                                    waitHistogram // a copy
}

func (p *pool) counters() poolCounters {
	p.mu.Lock()
	defer p.mu.Unlock()
	return poolCounters{queue: float64(p.waiters.Len()), invocations: p.invocations,
		coldStartWaits: p.coldStartWaits, coldStartWaitS: p.coldStartWaitS, startWaits: p.startWaits, queueTimeouts: p.queueTimeouts, queueRejected: p.queueRejected,
		startWait: p.startWaitHist.clone()}
}

func (p *pool) invoked() {
	p.mu.Lock()
	p.invocations++
	p.mu.Unlock()
}

// pickLocked returns the routable slot with the fewest requests in flight
// and a free place, or nil.
func (p *pool) pickLocked() *slot {
	n := len(p.slots)
	if n == 0 {
		return nil
	}
	var best *slot
	p.rr++
	for i := 0; i < n; i++ {
		s := p.slots[(p.rr+i)%n]
		if s.max > 0 && s.inflight >= s.max {
			continue
		}
		if best == nil || s.inflight < best.inflight {
			best = s
		}
	}
	return best
}

func (s *slot) take() {
	s.inflight++
	s.requests++
}

// dispatchLocked hands free slots to queued requests, oldest first.
func (p *pool) dispatchLocked() {
	for p.waiters.Len() > 0 {
		s := p.pickLocked()
		if s == nil {
			return
		}
		w := p.waiters.Remove(p.waiters.Front()).(*waiter)
		s.take()
		w.ch <- s
	}
}

// acquire takes a slot on a routable replica, waiting in FIFO order for up
// to ColdStartWait (on the pool's clock).
func (p *pool) acquire(ctx context.Context) (lease, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return lease{}, errGone
	}
	if p.waiters.Len() == 0 {
		if s := p.pickLocked(); s != nil {
			s.take()
			l := lease{s: s, port: s.port}
			p.mu.Unlock()
			p.notify()
			return l, nil
		}
	}
	if p.maxQueued > 0 && p.waiters.Len() >= p.maxQueued {
		p.queueRejected++
		err := &queueFullError{name: p.name, queued: p.waiters.Len()}
		p.mu.Unlock()
		return lease{}, err
	}
	noneReady := len(p.slots) == 0
	w := &waiter{ch: make(chan *slot, 1)}
	elem := p.waiters.PushBack(w)
	start := p.clk.Now()
	t := p.clk.NewTimer(p.wait)
	p.mu.Unlock()
	defer t.Stop()
	p.notify()

	var werr error
	select {
	case s := <-w.ch:
		return p.granted(s, noneReady, start)
	case <-t.C():
	case <-ctx.Done():
		werr = ctx.Err()
	}
	p.mu.Lock()
	defer p.notify()
	defer p.mu.Unlock()
	select {
	case s := <-w.ch: // granted while we timed out: give the slot back
		if s != nil {
			s.inflight--
			p.checkDrainedLocked(s)
			p.dispatchLocked()
		}
	default:
		p.waiters.Remove(elem)
	}
	if werr != nil {
		return lease{}, werr
	}
	p.queueTimeouts++
	return lease{}, &waitTimeoutError{name: p.name, waited: p.clk.Now().Sub(start), noneReady: len(p.slots) == 0, queued: p.waiters.Len()}
}

func (p *pool) granted(s *slot, noneReady bool, start time.Time) (lease, error) {
	if s == nil {
		return lease{}, errGone
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.routableAt.After(start) {
		p.startWaits++ // the simulator's ColdDelayed
		p.startWaitHist.observe(p.clk.Now().Sub(start).Seconds())
	}
	if noneReady {
		p.coldStartWaits++
		p.coldStartWaitS += p.clk.Now().Sub(start).Seconds()
	}
	return lease{s: s, port: s.port}, nil
}

// release frees the lease's place and hands it to the oldest waiter.
func (p *pool) release(l lease) {
	p.mu.Lock()
	l.s.inflight--
	p.checkDrainedLocked(l.s)
	p.dispatchLocked()
	p.mu.Unlock()
	p.notify()
}

// suspect takes a replica that refused a connection out of routing and asks
// its owner to re-probe it.
func (p *pool) suspect(l lease) {
	p.mu.Lock()
	defer p.notify()
	defer p.mu.Unlock()
	if l.s.port != l.port || !l.s.routable {
		return
	}
	p.removeLocked(l.s)
	select {
	case l.s.recheck <- struct{}{}:
	default:
	}
}
