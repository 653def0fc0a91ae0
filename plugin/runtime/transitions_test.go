package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
)

// recorder keeps the transitions of every replica (Config.onTransition).
type recorder struct {
	mu  sync.Mutex
	log map[string][]string // replica ID -> "from -event-> to"
}

func (rc *recorder) add(tr transitionRecord) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.log == nil {
		rc.log = map[string][]string{}
	}
	rc.log[tr.Replica] = append(rc.log[tr.Replica], fmt.Sprintf("%s -%s-> %s", tr.From, tr.Event, tr.To))
}

func (rc *recorder) of(id string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.log[id])
}

func recordingManager(t *testing.T, mod func(*Config)) (*Manager, *recorder) {
	rc := &recorder{}
	m := newManager(t, func(c *Config) {
		c.onTransition = rc.add
		if mod != nil {
			mod(c)
		}
	})
	return m, rc
}

var toReady = []string{"starting -spawned-> probing", "probing -healthy-> warming", "warming -delay-over-> ready"}

// TestReplicaTransitions follows one replica through start, a crash, the
// restart after its backoff, and a scale to 0.
func TestReplicaTransitions(t *testing.T) {
	m, rc := recordingManager(t, nil)
	clk := fakeClock(t, m)
	deploy(t, m, httpSpec("sm", 1))
	waitAvailable(t, m, "sm", 1)
	first := mustReplicas(t, m, "sm")[0]
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	step(t, clk, 50*time.Millisecond) // RestartBackoff
	waitUntil(t, m, "restarted and ready", func() bool {
		r := mustReplicas(t, m, "sm")[0]
		return r.PID != first.PID && r.Phase == "ready"
	})
	if err := m.Scale(context.Background(), "sm", 0); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, m, "replica gone", func() bool { return len(mustReplicas(t, m, "sm")) == 0 })
	want := slices.Concat(toReady,
		[]string{"ready -exited-> crashed", "crashed -reaped-> backoff", "backoff -backoff-over-> starting"},
		toReady,
		[]string{"ready -stop-> draining", "draining -drained-> terminating", "terminating -exited-> stopped"})
	if got := rc.of(first.ID); !slices.Equal(got, want) {
		t.Errorf("transitions\n got %q\nwant %q", got, want)
	}
	if alive(first.PID) {
		t.Errorf("pid %d alive", first.PID)
	}
}

// TestNotReadyKilled: a process that never passes its readiness check is
// killed after ReadyTimeout (on the Manager's clock) and restarted.
func TestNotReadyKilled(t *testing.T) {
	m, rc := recordingManager(t, nil)
	clk := fakeClock(t, m)
	s := httpSpec("mute", 1)
	s.Command = []string{"/bin/sleep", "600"} // listens on nothing
	deploy(t, m, s)
	armed(t, clk, 10*time.Second) // testConfig's ReadyTimeout
	pid := mustReplicas(t, m, "mute")[0].PID
	clk.Advance(10 * time.Second)
	armed(t, clk, 50*time.Millisecond) // the restart's backoff
	id := mustReplicas(t, m, "mute")[0].ID
	want := []string{"starting -spawned-> probing", "probing -not-ready-> crashed", "crashed -reaped-> backoff"}
	if got := rc.of(id); !slices.Equal(got, want) {
		t.Errorf("transitions %q, want %q", got, want)
	}
	if alive(pid) {
		t.Errorf("unready process %d still alive", pid)
	}
	line := fmt.Sprintf("prescale: replica process %d not ready within 10s: killed", pid)
	if got := collect(t, m, logs.Request{Name: "mute"}); !slices.ContainsFunc(got, func(l logs.Message) bool { return l.Text == line }) {
		t.Errorf("logs %+v: want %q", got, line)
	}
	if v := metricValue(m, "prescale_plugin_replica_restarts_total", "mute"); v != 1 {
		t.Errorf("restarts = %v, want 1", v)
	}
}

// sigtermIgnoring is an http-mode spec whose process ignores SIGTERM (an
// ignored signal stays ignored across exec).
func sigtermIgnoring(name string) Spec {
	s := httpSpec(name, 1)
	s.Command = []string{"/bin/sh", "-c", "trap '' TERM; exec " + fnServer}
	return s
}

// TestStopIgnoringSIGTERM: a process that ignores SIGTERM gets SIGKILL once
// StopGrace has passed since the stop began.
func TestStopIgnoringSIGTERM(t *testing.T) {
	m, rc := recordingManager(t, nil)
	clk := fakeClock(t, m)
	deploy(t, m, sigtermIgnoring("stubborn"))
	waitAvailable(t, m, "stubborn", 1)
	r := mustReplicas(t, m, "stubborn")[0]
	if err := m.Scale(context.Background(), "stubborn", 0); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, m, "SIGTERM sent", func() bool { return slices.Contains(rc.of(r.ID), "draining -drained-> terminating") })
	armed(t, clk, 3*time.Second) // testConfig's StopGrace, from the stop
	if !alive(r.PID) {
		t.Fatalf("pid %d exited on SIGTERM: the test did not exercise the grace period", r.PID)
	}
	clk.Advance(3 * time.Second)
	waitUntil(t, m, "replica gone", func() bool { return len(mustReplicas(t, m, "stubborn")) == 0 })
	got := rc.of(r.ID)
	if want := []string{"terminating -grace-over-> killing", "killing -exited-> stopped"}; !slices.Equal(got[len(got)-2:], want) {
		t.Errorf("transitions %q: want them to end in %q", got, want)
	}
	if alive(r.PID) {
		t.Errorf("pid %d alive after SIGKILL", r.PID)
	}
}

// TestCloseHardStop: when Close's context has ended, replicas are killed at
// once, without waiting for StopGrace, and Close says so.
func TestCloseHardStop(t *testing.T) {
	rc := &recorder{}
	cfg := testConfig(t)
	cfg.onTransition = rc.add
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deploy(t, m, sigtermIgnoring("stubborn"))
	waitAvailable(t, m, "stubborn", 1)
	r := mustReplicas(t, m, "stubborn")[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Close(ctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "killed before draining") {
		t.Errorf("Close = %v, want the replicas-killed error wrapping context.Canceled", err)
	}
	got := rc.of(r.ID)
	if !slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, "-hard-stop-> killing") }) ||
		got[len(got)-1] != "killing -exited-> stopped" {
		t.Errorf("transitions %q: want a hard stop to killing, then stopped", got)
	}
	if alive(r.PID) {
		t.Errorf("pid %d alive after Close", r.PID)
	}
}
