package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var allStates = []state{stStarting, stProbing, stWarming, stReady, stReprobing, stDraining,
	stTerminating, stKilling, stCrashed, stBackoff, stStopped}

// TestTransitionTable checks the shape of the state machine: every state is
// reachable from starting, stopped is reachable from every state (no state
// traps a replica), stopped is final, and a stop is handled in every state
// that runs a process and is not already stopping.
func TestTransitionTable(t *testing.T) {
	reach := func(from state) map[state]bool {
		seen := map[state]bool{from: true}
		for todo := []state{from}; len(todo) > 0; todo = todo[1:] {
			for _, to := range transitions[todo[0]] {
				if !seen[to] {
					seen[to] = true
					todo = append(todo, to)
				}
			}
		}
		return seen
	}
	fromStart := reach(stStarting)
	for _, s := range allStates {
		if !fromStart[s] {
			t.Errorf("%s is not reachable from starting", s)
		}
		if !reach(s)[stStopped] {
			t.Errorf("stopped is not reachable from %s", s)
		}
		if strings.HasPrefix(s.String(), "state(") {
			t.Errorf("state %d has no name", s)
		}
	}
	if len(transitions[stStopped]) != 0 {
		t.Errorf("stopped has transitions %v", transitions[stStopped])
	}
	for _, s := range []state{stProbing, stWarming, stReady, stReprobing, stBackoff} {
		if _, ok := next(s, evStop); !ok {
			t.Errorf("%s does not handle a stop", s)
		}
	}
	for _, s := range []state{stProbing, stWarming, stReady, stReprobing, stDraining, stTerminating, stKilling} {
		if _, ok := next(s, evExited); !ok {
			t.Errorf("%s runs a process but does not handle its exit", s)
		}
	}
	if _, ok := next(stKilling, evStop); ok {
		t.Error("killing handles a stop: a stop is already under way")
	}
}

// TestTransitionPaths walks the lifecycles the runtime goes through.
func TestTransitionPaths(t *testing.T) {
	cases := []struct {
		name   string
		events []event
		want   state
	}{
		{"start to ready", []event{evSpawned, evHealthy, evDelayOver}, stReady},
		{"ready, stop, drain, SIGTERM", []event{evSpawned, evHealthy, evDelayOver, evStop, evDrained, evExited}, stStopped},
		{"drain past the grace period: SIGKILL", []event{evSpawned, evHealthy, evDelayOver, evStop, evGraceOver, evExited}, stStopped},
		{"ignores SIGTERM: SIGKILL", []event{evSpawned, evHealthy, evDelayOver, evStop, evDrained, evGraceOver, evExited}, stStopped},
		{"Close's context ends", []event{evSpawned, evHealthy, evDelayOver, evStop, evHardStop, evExited}, stStopped},
		{"exits during the drain", []event{evSpawned, evHealthy, evDelayOver, evStop, evExited}, stStopped},
		{"crash and restart", []event{evSpawned, evHealthy, evDelayOver, evExited, evReaped, evBackoffOver, evSpawned}, stProbing},
		{"suspect, re-probe, ready again", []event{evSpawned, evHealthy, evDelayOver, evSuspect, evHealthy}, stReady},
		{"suspect, unreachable", []event{evSpawned, evHealthy, evDelayOver, evSuspect, evNotReady}, stCrashed},
		{"never ready", []event{evSpawned, evNotReady, evReaped}, stBackoff},
		{"spawn fails", []event{evSpawnFailed, evReaped}, stBackoff},
		{"stopped in backoff", []event{evSpawnFailed, evReaped, evStop}, stStopped},
		{"stopped while warming", []event{evSpawned, evHealthy, evStop, evDrained, evExited}, stStopped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := stStarting
			for _, ev := range tc.events {
				to, ok := next(s, ev)
				if !ok {
					t.Fatalf("no transition from %s on %s", s, ev)
				}
				s = to
			}
			if s != tc.want {
				t.Errorf("ended in %s, want %s", s, tc.want)
			}
		})
	}
	if _, ok := next(stReady, evBackoffOver); ok {
		t.Error("ready handles backoff-over")
	}
}

func TestPublicState(t *testing.T) {
	want := map[state]string{stStarting: "starting", stProbing: "starting", stWarming: "starting",
		stReprobing: "starting", stReady: "ready", stDraining: "draining", stTerminating: "draining",
		stKilling: "draining", stStopped: "draining", stCrashed: "restarting", stBackoff: "restarting"}
	for _, s := range allStates {
		if got := s.public(false); got != want[s] {
			t.Errorf("%s reports %q, want %q", s, got, want[s])
		}
		if got := s.public(true); got != "draining" {
			t.Errorf("%s while stopping reports %q, want draining", s, got)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	var got []time.Duration
	for f := 0; f < 8; f++ {
		got = append(got, backoffDelay(200*time.Millisecond, 10*time.Second, f))
	}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 10 * time.Second, 10 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}
	if d := backoffDelay(time.Minute, 10*time.Minute, 1000); d != 10*time.Minute {
		t.Errorf("after 1000 failures: %s, want the cap", d)
	}
}

func TestCrashReason(t *testing.T) {
	cases := []struct {
		from    state
		ev      event
		want    string
		withErr bool
	}{
		{stStarting, evSpawnFailed, "", false},
		{stProbing, evNotReady, "not ready within 1s: killed", false},
		{stReprobing, evNotReady, "unreachable for 1s: killed", false},
		{stProbing, evExited, "exited before ready", true},
		{stWarming, evExited, "exited during startup delay", true},
		{stReady, evExited, "exited", true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.from, " ", tc.ev), func(t *testing.T) {
			if to, ok := next(tc.from, tc.ev); !ok || to != stCrashed {
				t.Fatalf("%s on %s goes to %s, want crashed", tc.from, tc.ev, to)
			}
			got, withErr := crashReason(tc.from, tc.ev, time.Second)
			if got != tc.want || withErr != tc.withErr {
				t.Errorf("got %q %v, want %q %v", got, withErr, tc.want, tc.withErr)
			}
		})
	}
}
