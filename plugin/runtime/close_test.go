package runtime

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
	"github.com/prescale/prescale/pkg/eventually"
)

// TestLogs: replica output is kept per instance, tailed and followed.
func TestLogs(t *testing.T) {
	m := newManager(t, nil)
	gw := gateway(t, m)
	deploy(t, m, httpSpec("logfn", 1))
	waitAvailable(t, m, "logfn", 1)
	do(client, "GET", gw.URL+"/function/logfn/first", "", nil)
	rs, _ := m.Replicas("logfn")
	id := rs[0].ID
	waitUntil(t, m, "echo line in the logs", func() bool {
		msgs := collect(t, m, logs.Request{Name: "logfn", Tail: 1})
		return len(msgs) == 1 && msgs[0].Text == "echo GET /first" && msgs[0].Instance == id && msgs[0].Namespace == DefaultNamespace
	})
	all := collect(t, m, logs.Request{Name: "logfn.openfaas-fn"})
	if len(all) < 2 || !strings.HasPrefix(all[0].Text, "fnserver listening on 127.0.0.1:") {
		t.Errorf("all logs %+v: want the start line first", all)
	}
	if got := collect(t, m, logs.Request{Name: "logfn", Instance: "other"}); len(got) != 0 {
		t.Errorf("instance filter: %+v", got)
	}
	future := time.Now().Add(time.Hour)
	if got := collect(t, m, logs.Request{Name: "logfn", Since: &future}); len(got) != 0 {
		t.Errorf("since filter: %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := m.Logs(ctx, logs.Request{Name: "logfn", Tail: 1, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	if first := <-ch; first.Text != "echo GET /first" {
		t.Errorf("follow history %q", first.Text)
	}
	do(client, "GET", gw.URL+"/function/logfn/second", "", nil)
	select {
	case msg := <-ch:
		if msg.Text != "echo GET /second" {
			t.Errorf("followed %q", msg.Text)
		}
	case <-time.After(safetyNet):
		t.Fatal("followed line never came")
	}
	cancel()
	for range ch { // closed after cancel
	}
}

func collect(t testing.TB, m *Manager, req logs.Request) []logs.Message {
	ch, err := m.Logs(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out []logs.Message
	for msg := range ch {
		out = append(out, msg)
	}
	return out
}

// TestCloseStopsEverything: Close drains and leaves no process behind.
func TestCloseStopsEverything(t *testing.T) {
	cfg := testConfig(t)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deploy(t, m, httpSpec("a", 2))
	deploy(t, m, forkSpec(t, "b", "cat\n", 1))
	waitAvailable(t, m, "a", 2)
	waitAvailable(t, m, "b", 1)
	gw := gateway(t, m)
	all := append(pids(t, m, "a"), pids(t, m, "b")...)
	slow := make(chan result, 1)
	go func() { slow <- do(client, "GET", gw.URL+"/function/a/sleep?ms=400", "", nil) }()
	waitUntil(t, m, "slow request in flight", func() bool {
		rs, _ := m.Replicas("a")
		return rs[0].Inflight+rs[1].Inflight == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), safetyNet)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-slow; r.code != 200 {
		t.Errorf("in-flight request during Close: %d %q, want drained 200", r.code, r.body)
	}
	for _, pid := range all {
		if alive(pid) {
			t.Errorf("pid %d alive after Close", pid)
		}
	}
	// No goroutine of the manager survives Close.
	eventually.True(t, "no manager goroutine left", 5*time.Millisecond, func() bool {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:goruntime.Stack(buf, true)])
		return !strings.Contains(stacks, "plugin/runtime.(*Manager)") && !strings.Contains(stacks, "plugin/runtime.(*logBuffer)")
	})
	if err := m.Deploy(context.Background(), httpSpec("c", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Deploy after Close: %v", err)
	}
	if err := m.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestScaleDownDrains: scaling down stops routing at once, lets in-flight
// requests finish within StopGrace, and kills the process after StopGrace
// (on the Manager's clock).
func TestScaleDownDrains(t *testing.T) {
	cases := []struct {
		name  string
		grace time.Duration
		ms    int
		code  int
	}{
		{"in-flight request finishes", 3 * time.Second, 500, 200},
		{"grace over: killed", 300 * time.Millisecond, 600000, 502},
	}
	const coldWait = 200 * time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, func(c *Config) {
				c.StopGrace = tc.grace
				c.DisableScaleFromZero = true
				c.ColdStartWait = coldWait
			})
			clk := fakeClock(t, m)
			gw := gateway(t, m)
			deploy(t, m, httpSpec("drain", 1))
			waitAvailable(t, m, "drain", 1)
			pid := pids(t, m, "drain")[0]
			got := make(chan result, 1)
			go func() {
				got <- do(client, "GET", gw.URL+"/function/drain/sleep?log=1&ms="+strconv.Itoa(tc.ms), "", nil)
			}()
			waitLogged(t, m, "drain", fmt.Sprintf("sleeping %d ms", tc.ms))
			if err := m.Scale(context.Background(), "drain", 0); err != nil {
				t.Fatal(err)
			}
			if st, _ := m.Status("drain"); st.AvailableReplicas != 0 {
				t.Errorf("available %d right after scale to 0", st.AvailableReplicas)
			}
			if tc.code == 502 {
				// The grace timer must be armed before the clock moves: it
				// is computed from the stop's start and the clock's now.
				armed(t, clk, tc.grace)
			}
			// New requests are not routed to the draining replica.
			during := make(chan result, 1)
			go func() { during <- do(client, "GET", gw.URL+"/function/drain/pid", "", nil) }()
			step(t, clk, coldWait)
			if r := <-during; r.code != 503 {
				t.Errorf("request during drain: %d %q, want 503 (no ready replica)", r.code, r.body)
			}
			if tc.code == 502 {
				select {
				case r := <-got:
					t.Fatalf("in-flight request ended before StopGrace: %d %q", r.code, r.body)
				default:
				}
				clk.Advance(tc.grace - coldWait)
			}
			if r := <-got; r.code != tc.code {
				t.Errorf("in-flight request: %d %q, want %d", r.code, r.body, tc.code)
			}
			waitUntil(t, m, "replica gone", func() bool { return len(mustReplicas(t, m, "drain")) == 0 })
			if alive(pid) {
				t.Errorf("pid %d alive after its replica stopped", pid)
			}
		})
	}
}

// TestCloseWithEscapedDescendant: a descendant that leaves the process group
// and keeps the output pipe open does not make Close hang.
func TestCloseWithEscapedDescendant(t *testing.T) {
	m, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	s := httpSpec("escape", 1)
	s.Command = []string{"/bin/sh", "-c", "setsid sh -c 'echo escaped $$; exec sleep 600' & exec " + fnServer}
	deploy(t, m, s)
	waitAvailable(t, m, "escape", 1)
	var pid int
	waitUntil(t, m, "the escaped pid in the logs", func() bool {
		for _, l := range collect(t, m, logs.Request{Name: "escape"}) {
			if n, ok := strings.CutPrefix(l.Text, "escaped "); ok {
				pid, _ = strconv.Atoi(n)
			}
		}
		return pid > 0
	})
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	closed := make(chan error, 1)
	go func() { closed <- m.Close(context.Background()) }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(safetyNet):
		t.Fatal("Close hangs on the escaped descendant's pipe")
	}
	if !alive(pid) {
		t.Errorf("the escaped descendant %d was killed: the test did not exercise an open pipe", pid)
	}
}
