package runtime

import (
	"fmt"
	"os"
	"time"

	"github.com/prescale/prescale/internal/clock"
)

// replica is one slot of a function: one OS process at a time, restarted
// when it crashes, driven by its own goroutine (runReplica) through the
// state machine of machine.go. Fields below slot are guarded by Manager.mu.
type replica struct {
	fn   *function
	dir  string // the replica's own directory; TMPDIR is dir/tmp
	seq  int
	id   string
	gen  int
	spec Spec
	slot *slot // the dispatcher's view of the replica

	state     state
	stopping  bool
	stopAt    time.Time
	stopCh    chan struct{} // closed by stopReplicaLocked
	recheck   chan struct{} // a dial failed: re-probe (also slot.recheck)
	port      int
	pid       int
	restarts  int
	failures  int           // consecutive crashes, for the backoff
	delay     time.Duration // the backoff before the next start
	startedAt time.Time
	readyAt   time.Time
	createdAt time.Time // the scale-up that made it (startReplicaLocked)
	// startTimed: its first ready was observed in the function's
	// replica-start histogram (a restart after a crash is not a start).
	startTimed bool
}

// transitionRecord is one step of a replica's state machine, as logged and
// as given to Config.onTransition.
type transitionRecord struct {
	Function, Replica string
	From, To          state
	Event             event
	At                time.Time
}

// runReplica owns the replica until it is stopped: it runs the action of
// the current state (driver.act) and applies the event it ends with
// (transition), until the state is stStopped.
func (m *Manager) runReplica(r *replica) {
	defer m.wg.Done()
	d := &driver{m: m, r: r}
	for st := stStarting; st != stStopped; {
		st = m.transition(r, st, d.act(st), d)
	}
	if err := os.RemoveAll(r.dir); err != nil {
		m.log.Warn("removing replica dir", "dir", r.dir, "err", err)
	}
}

// transition moves r from one state to the next on ev and applies what
// entering the new state means to the Manager and the dispatcher. It is the
// only place where r.state changes.
func (m *Manager) transition(r *replica, from state, ev event, d *driver) state {
	to, ok := next(from, ev)
	if !ok {
		// Cannot happen: each action returns only its state's events.
		m.log.Error("replica: no transition", "function", r.fn.name, "replica", r.id, "state", from, "event", ev)
		return from
	}
	fn := r.fn
	m.mu.Lock()
	now := m.clk.Now()
	r.state = to
	switch to {
	case stProbing:
		r.pid, r.port, r.startedAt, r.readyAt = d.p.pid, d.p.port, now, time.Time{}
		select { // a token left from an earlier process is stale
		case <-r.recheck:
		default:
		}
	case stReady:
		if !r.stopping {
			if r.readyAt.IsZero() {
				r.readyAt = now
			}
			if !r.startTimed {
				r.startTimed = true
				fn.startHist.observe(now.Sub(r.createdAt).Seconds())
			}
			fn.pool.add(r.slot, r.port)
		}
		m.reconcileLocked(fn)
	case stReprobing, stDraining:
		fn.pool.remove(r.slot)
	case stCrashed:
		fn.pool.remove(r.slot)
		if !r.readyAt.IsZero() && now.Sub(r.readyAt) >= m.cfg.RestartBackoffMax {
			r.failures = 0
		}
		r.delay = backoffDelay(m.cfg.RestartBackoff, m.cfg.RestartBackoffMax, r.failures)
		r.failures++
		r.restarts++
		fn.restarts++
		d.why, d.whyErr = crashReason(from, ev, m.cfg.ReadyTimeout)
		m.reconcileLocked(fn) // an old-generation replica may need to keep serving
	case stBackoff:
		r.pid = 0
	case stStopped:
		r.pid = 0
		m.removeReplicaLocked(r)
		m.reconcileLocked(fn)
	}
	if m.cfg.onTransition != nil { // under the lock: whoever sees the new state sees the record
		m.cfg.onTransition(transitionRecord{Function: fn.name, Replica: r.id, From: from, To: to, Event: ev, At: now})
	}
	pid, delay := r.pid, r.delay
	m.mu.Unlock()

	m.log.Debug("replica transition", "function", fn.name, "replica", r.id, "from", from, "event", ev, "to", to)
	switch to {
	case stProbing:
		m.log.Info("replica process started", "function", fn.name, "replica", r.id, "pid", pid, "port", d.p.port)
	case stReady:
		m.log.Info("replica ready", "function", fn.name, "replica", r.id, "pid", pid)
	case stBackoff:
		m.log.Warn("replica exited unexpectedly; restarting", "function", fn.name, "replica", r.id, "backoff", delay)
	case stStopped:
		m.log.Info("replica stopped", "function", fn.name, "replica", r.id)
	}
	m.changed.broadcast()
	return to
}

// crashReason is what the function's logs say about a crash ("" when the
// spawn already said it), and whether the exit status follows.
func crashReason(from state, ev event, readyTimeout time.Duration) (string, bool) {
	switch {
	case ev == evSpawnFailed:
		return "", false
	case ev == evNotReady && from == stProbing:
		return fmt.Sprintf("not ready within %s: killed", readyTimeout), false
	case ev == evNotReady:
		return fmt.Sprintf("unreachable for %s: killed", readyTimeout), false
	case from == stProbing:
		return "exited before ready", true
	case from == stWarming:
		return "exited during startup delay", true
	}
	return "exited", true
}

// driver runs the actions of one replica's states on its goroutine.
type driver struct {
	m      *Manager
	r      *replica
	p      *process // the current process, nil between processes
	why    string   // the crash reason, set by transition to stCrashed
	whyErr bool     // append the process's exit status to why
}

// act runs the action of state st and returns the event that ends it.
func (d *driver) act(st state) event {
	m, r := d.m, d.r
	switch st {
	case stStarting:
		p, err := m.spawn(r)
		if err != nil {
			return evSpawnFailed
		}
		d.p = p
		return evSpawned
	case stProbing, stReprobing:
		return d.probe()
	case stWarming:
		return d.warm()
	case stReady:
		select {
		case <-d.p.exited:
			return d.exitedUnlessStopping()
		case <-r.stopCh:
			return evStop
		case <-r.recheck:
			return evSuspect
		}
	case stDraining:
		drained := r.fn.pool.whenDrained(r.slot)
		grace := d.graceTimer()
		defer grace.Stop()
		select {
		case <-d.p.exited:
			return evExited
		case <-drained:
			return evDrained
		case <-grace.C():
			m.log.Warn("replica stop: grace period over with requests in flight", "replica", r.id,
				"inflight", r.fn.pool.stats(r.slot).inflight)
			return evGraceOver
		case <-m.hardStop:
			return evHardStop
		}
	case stTerminating:
		d.p.signal(m, termSignal)
		grace := d.graceTimer()
		defer grace.Stop()
		select {
		case <-d.p.exited:
			return evExited
		case <-grace.C():
			m.log.Warn("replica did not exit after SIGTERM: SIGKILL", "replica", r.id, "pid", d.p.pid)
			return evGraceOver
		case <-m.hardStop:
			return evHardStop
		}
	case stKilling:
		d.p.signal(m, killSignal)
		<-d.p.exited
		return evExited
	case stCrashed:
		if d.p != nil {
			select {
			case <-d.p.exited:
			default:
				d.p.signal(m, killSignal)
				<-d.p.exited
			}
			switch {
			case d.why == "":
			case d.whyErr:
				r.fn.logs.add(r.id, fmt.Sprintf("prescale: replica process %d %s: %v", d.p.pid, d.why, d.p.waitErr))
			default:
				r.fn.logs.add(r.id, fmt.Sprintf("prescale: replica process %d %s", d.p.pid, d.why))
			}
			d.p = nil
		}
		return evReaped
	case stBackoff:
		select {
		case <-r.stopCh:
			return evStop
		default:
		}
		m.mu.Lock()
		delay := r.delay
		m.mu.Unlock()
		t := m.clk.NewTimer(delay)
		defer t.Stop()
		select {
		case <-r.stopCh:
			return evStop
		case <-t.C():
			return evBackoffOver
		}
	}
	// Unreachable: every state but stStopped (which ends the loop) has an action.
	m.log.Error("replica: no action", "replica", r.id, "state", st)
	return evStop
}

// exitedUnlessStopping: a process that exits after its stop began has stopped.
func (d *driver) exitedUnlessStopping() event {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	if d.r.stopping {
		return evStop // then draining sees the exit: stopped
	}
	return evExited
}

// graceTimer fires once StopGrace has passed since the stop began.
func (d *driver) graceTimer() clock.Timer {
	d.m.mu.Lock()
	deadline := d.r.stopAt.Add(d.m.cfg.StopGrace)
	d.m.mu.Unlock()
	return d.m.clk.NewTimer(deadline.Sub(d.m.clk.Now()))
}

// probe waits for the readiness check: healthy, not ready within
// ReadyTimeout, exited, or stop.
func (d *driver) probe() event {
	switch d.m.waitHealthy(d.r, d.p) {
	case probeOK:
		return evHealthy
	case probeStopped:
		return evStop
	case probeExited:
		return d.exitedUnlessStopping()
	}
	return evNotReady
}

// warm keeps a healthy replica unready for Spec.StartupDelay, or a draw
// from Spec.StartupDist.
func (d *driver) warm() event {
	delay := d.m.startupDelay(d.r.spec)
	if delay <= 0 {
		return evDelayOver
	}
	t := d.m.clk.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C():
		return evDelayOver
	case <-d.r.stopCh:
		return evStop
	case <-d.p.exited:
		return d.exitedUnlessStopping()
	}
}
