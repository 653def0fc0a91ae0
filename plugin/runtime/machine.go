package runtime

import (
	"fmt"
	"time"
)

// state is a replica's place in its lifecycle (see doc.go for the diagram).
// Every change of state goes through next, and is applied by
// Manager.transition.
type state int

const (
	stStarting    state = iota // choosing a port and spawning the process
	stProbing                  // process running: readiness probe until ReadyTimeout
	stWarming                  // healthy: unready for Spec.StartupDelay
	stReady                    // routable
	stReprobing                // a connection failed: unroutable, probing until ReadyTimeout
	stDraining                 // stop requested: unroutable, in-flight requests finish
	stTerminating              // SIGTERM sent to the process group
	stKilling                  // SIGKILL sent to the process group
	stCrashed                  // exited or failed unexpectedly: reap, count a restart
	stBackoff                  // waiting before the next start
	stStopped                  // final: the replica is forgotten
)

var stateNames = [...]string{
	stStarting: "starting", stProbing: "probing", stWarming: "warming", stReady: "ready",
	stReprobing: "reprobing", stDraining: "draining", stTerminating: "terminating",
	stKilling: "killing", stCrashed: "crashed", stBackoff: "backoff", stStopped: "stopped",
}

func (s state) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// public is the state as ReplicaStatus.State reports it: starting, ready,
// draining or restarting.
func (s state) public(stopping bool) string {
	switch {
	case stopping || s == stDraining || s == stTerminating || s == stKilling || s == stStopped:
		return "draining"
	case s == stReady:
		return "ready"
	case s == stCrashed || s == stBackoff:
		return "restarting"
	}
	return "starting"
}

// event is what ends a state: the outcome of its action.
type event int

const (
	evSpawned     event = iota // the process started
	evSpawnFailed              // no port, no directory, or exec failed
	evHealthy                  // the readiness probe passed
	evNotReady                 // ReadyTimeout passed without a passing probe
	evDelayOver                // Spec.StartupDelay passed
	evSuspect                  // the dispatcher could not connect to the replica
	evExited                   // the process exited
	evStop                     // the replica was asked to stop
	evDrained                  // no request in flight any more
	evGraceOver                // StopGrace passed since the stop began
	evHardStop                 // Close's context ended: kill at once
	evReaped                   // the crashed process and its group are gone
	evBackoffOver              // the restart delay passed
)

var eventNames = [...]string{
	evSpawned: "spawned", evSpawnFailed: "spawn-failed", evHealthy: "healthy", evNotReady: "not-ready",
	evDelayOver: "delay-over", evSuspect: "suspect", evExited: "exited", evStop: "stop",
	evDrained: "drained", evGraceOver: "grace-over", evHardStop: "hard-stop", evReaped: "reaped",
	evBackoffOver: "backoff-over",
}

func (e event) String() string {
	if e >= 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// transitions is the whole state machine: from a state, on an event, to a
// state. A pair that is absent cannot happen (the action of a state only
// returns the events listed for it).
var transitions = map[state]map[event]state{
	stStarting: {evSpawned: stProbing, evSpawnFailed: stCrashed},
	stProbing: {evHealthy: stWarming, evNotReady: stCrashed, evExited: stCrashed,
		evStop: stDraining},
	stWarming: {evDelayOver: stReady, evExited: stCrashed, evStop: stDraining},
	stReady:   {evSuspect: stReprobing, evExited: stCrashed, evStop: stDraining},
	stReprobing: {evHealthy: stReady, evNotReady: stCrashed, evExited: stCrashed,
		evStop: stDraining},
	stDraining: {evDrained: stTerminating, evGraceOver: stKilling, evHardStop: stKilling,
		evExited: stStopped},
	stTerminating: {evExited: stStopped, evGraceOver: stKilling, evHardStop: stKilling},
	stKilling:     {evExited: stStopped},
	stCrashed:     {evReaped: stBackoff},
	stBackoff:     {evBackoffOver: stStarting, evStop: stStopped},
}

// next is the transition function.
func next(from state, ev event) (state, bool) {
	to, ok := transitions[from][ev]
	return to, ok
}

// backoffDelay is the wait before restart number failures+1: base doubling
// per consecutive failure, capped at max.
func backoffDelay(base, max time.Duration, failures int) time.Duration {
	d := base << min(failures, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d
}
