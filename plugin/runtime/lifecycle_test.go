package runtime

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/prescale/prescale/internal/dist"
)

// TestReplicaLifecycle scales 1→4→0→2 and checks desired, available and
// real, distinct PIDs at each step, plus the plugin's replica metrics.
func TestReplicaLifecycle(t *testing.T) {
	m := newManager(t, nil)
	deploy(t, m, httpSpec("life", 1))
	seen := map[int]bool{}
	for _, n := range []int{1, 4, 0, 2} {
		if err := m.Scale(context.Background(), "life", n); err != nil {
			t.Fatal(err)
		}
		st, _ := m.Status("life")
		if st.Replicas != n {
			t.Fatalf("desired = %d, want %d", st.Replicas, n)
		}
		waitAvailable(t, m, "life", n)
		// Stopped replicas leave; then exactly n remain, all ready.
		waitUntil(t, m, fmt.Sprintf("exactly %d replicas", n), func() bool {
			rs, _ := m.Replicas("life")
			return len(rs) == n
		})
		st, _ = m.Status("life")
		if st.AvailableReplicas != n || st.Replicas != n {
			t.Fatalf("after scale to %d: status desired=%d available=%d", n, st.Replicas, st.AvailableReplicas)
		}
		got := pids(t, m, "life")
		distinct := map[int]bool{}
		for _, pid := range got {
			if pid <= 0 || !alive(pid) {
				t.Fatalf("replica pid %d is not a live process", pid)
			}
			distinct[pid] = true
		}
		if len(distinct) != n {
			t.Fatalf("pids %v: want %d distinct", got, n)
		}
		if n == 2 {
			for _, pid := range got {
				if seen[pid] {
					t.Errorf("after 0→2, pid %d was seen before: want new processes", pid)
				}
			}
		}
		for _, pid := range got {
			seen[pid] = true
		}
		if n == 0 {
			for pid := range seen {
				if alive(pid) { // a replica leaves only once its process is reaped
					t.Errorf("pid %d alive after scale to 0", pid)
				}
			}
		}
		if v := metricValue(m, "prescale_plugin_replicas_available", "life"); int(v) != n {
			t.Errorf("prescale_plugin_replicas_available = %v, want %d", v, n)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 15 {
		t.Errorf("gathered %d series (err %v), want 15 for one function (13 series, the start-wait and the replica-start histograms)", n, err)
	}
}

// TestKillUnderLoad: kill -9 of one of 2 replicas under 8 concurrent
// clients. Only the killed replica's in-flight requests fail, all with 502;
// the replica is reported unavailable, restarted with a new PID after the
// first backoff, and available again.
func TestKillUnderLoad(t *testing.T) {
	m := newManager(t, nil)
	clk := fakeClock(t, m)
	deploy(t, m, httpSpec("load", 2))
	waitAvailable(t, m, "load", 2)
	gw := gateway(t, m)

	var mu sync.Mutex
	codes := map[int]int{}
	var failures []result
	record := func(res result) {
		mu.Lock()
		defer mu.Unlock()
		codes[res.code]++
		if res.err != nil || res.code != 200 {
			failures = append(failures, res)
		}
	}
	// A long request pins one replica, the victim: its failure is certain.
	long := make(chan struct{})
	go func() {
		defer close(long)
		record(do(client, http.MethodGet, gw.URL+"/function/load/sleep?log=1&ms=600000", "", nil))
	}()
	waitLogged(t, m, "load", "sleeping 600000 ms")
	var victim ReplicaStatus
	waitUntil(t, m, "the long request's replica", func() bool {
		rs, _ := m.Replicas("load")
		for _, r := range rs {
			if r.Inflight == 1 {
				victim = r
				return true
			}
		}
		return false
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				record(do(client, http.MethodPost, gw.URL+"/function/load/sleep?ms=50", "payload", nil))
			}
		}()
	}
	waitUntil(t, m, "load on both replicas", func() bool {
		rs, _ := m.Replicas("load")
		return len(rs) == 2 && rs[0].Requests >= 10 && rs[1].Requests >= 10
	})
	for _, r := range mustReplicas(t, m, "load") {
		if r.ID == victim.ID {
			victim = r
		}
	}
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The requests that can fail: those in flight on the victim when it was
	// killed, plus those routed to it before the plugin noticed the death
	// (Requests counts dispatches to the replica).
	var routedBeforeNoticed int64
	waitUntil(t, m, "killed replica reported unavailable", func() bool {
		rs, _ := m.Replicas("load")
		for _, r := range rs {
			if r.ID == victim.ID && r.State != "ready" {
				routedBeforeNoticed = r.Requests - victim.Requests
				st, _ := m.Status("load")
				return st.AvailableReplicas < 2
			}
		}
		return false
	})
	bound := victim.Inflight + int(routedBeforeNoticed)
	step(t, clk, 50*time.Millisecond) // RestartBackoff: the first restart
	var restarted ReplicaStatus
	waitUntil(t, m, "killed replica restarted with a new pid and ready", func() bool {
		for _, r := range mustReplicas(t, m, "load") {
			if r.ID == victim.ID && r.PID != victim.PID && r.PID > 0 && r.State == "ready" && r.Restarts == 1 {
				restarted = r
				return true
			}
		}
		return false
	})
	waitUntil(t, m, "load on the restarted replica", func() bool {
		mu.Lock()
		ok := codes[200] >= 50
		mu.Unlock()
		for _, r := range mustReplicas(t, m, "load") {
			if r.ID == victim.ID {
				return ok && r.Requests >= restarted.Requests+10
			}
		}
		return false
	})
	close(stop)
	wg.Wait()
	<-long

	total := 0
	for _, n := range codes {
		total += n
	}
	t.Logf("codes %v; on the victim: %d in flight at kill, %d routed before the death was noticed", codes, victim.Inflight, routedBeforeNoticed)
	if len(failures) == 0 {
		t.Errorf("no request failed although %d were in flight on the killed replica", bound)
	}
	if len(failures) > bound {
		t.Errorf("%d requests failed, more than the %d in flight on (or routed to) the killed replica", len(failures), bound)
	}
	for _, f := range failures {
		if f.err != nil || f.code != http.StatusBadGateway || f.header.Get(InternalHeader) != InternalValue {
			t.Errorf("failure: code %d err %v header %q body %q; want 502 from prescale-plugin", f.code, f.err, f.header.Get(InternalHeader), f.body)
		}
	}
	if codes[200] != total-len(failures) {
		t.Errorf("codes %v: want all others 200", codes)
	}
	if v := metricValue(m, "prescale_plugin_replica_restarts_total", "load"); v != 1 {
		t.Errorf("restarts metric = %v, want 1", v)
	}
}

func mustReplicas(t testing.TB, m *Manager, name string) []ReplicaStatus {
	t.Helper()
	rs, err := m.Replicas(name)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestStartupDelay: a new replica stays unready for StartupDelay after its
// process is healthy, on the Manager's clock.
func TestStartupDelay(t *testing.T) {
	m := newManager(t, nil)
	clk := fakeClock(t, m)
	s := httpSpec("delayed", 1)
	s.StartupDelay = 800 * time.Millisecond
	deploy(t, m, s)
	armed(t, clk, s.StartupDelay) // healthy, warming up
	rs := mustReplicas(t, m, "delayed")
	if st, _ := m.Status("delayed"); st.AvailableReplicas != 0 || len(rs) != 1 || rs[0].PID <= 0 || rs[0].Phase != "warming" || rs[0].State != "starting" {
		t.Fatalf("during the startup delay: available %d, replicas %+v; want 0 and one warming process", st.AvailableReplicas, rs)
	}
	clk.Advance(s.StartupDelay - time.Millisecond)
	if st, _ := m.Status("delayed"); st.AvailableReplicas != 0 {
		t.Fatalf("available 1ms before the startup delay is over")
	}
	clk.Advance(time.Millisecond)
	waitAvailable(t, m, "delayed", 1)
	rs = mustReplicas(t, m, "delayed")
	if d := rs[0].ReadyAt.Sub(rs[0].StartedAt); d != s.StartupDelay {
		t.Errorf("ready %s after start, want the %s startup delay", d, s.StartupDelay)
	}
	// The start, from the scale-up to ready, in the replica-start histogram
	// (the fake clock moved only by the delay).
	h := histogramFor(m, ReplicaStartMetric, "delayed")
	if h == nil {
		t.Fatalf("no %s histogram for delayed", ReplicaStartMetric)
	}
	if hg := h.GetHistogram(); hg.GetSampleCount() != 1 || hg.GetSampleSum() != s.StartupDelay.Seconds() {
		t.Errorf("replica starts: %d observations, sum %v s; want 1 of %v s", hg.GetSampleCount(), hg.GetSampleSum(), s.StartupDelay.Seconds())
	}
}

// TestStartupDist: with Spec.StartupDist each replica start draws its delay
// from the Manager's source seeded by Config.StartupSeed: the same draws as
// a source with that seed, in the order of the starts.
func TestStartupDist(t *testing.T) {
	const seed = 42
	m := newManager(t, func(c *Config) { c.StartupSeed = seed })
	clk := fakeClock(t, m)
	d, err := dist.ParseDist("uniform:1s,2s")
	if err != nil {
		t.Fatal(err)
	}
	want := dist.Duration(d, rand.New(rand.NewPCG(seed, startupStream)))
	s := httpSpec("drawn", 1)
	s.StartupDist = d
	deploy(t, m, s)
	armed(t, clk, want) // the first draw of the seeded source
	clk.Advance(want)
	waitAvailable(t, m, "drawn", 1)
	rs := mustReplicas(t, m, "drawn")
	if got := rs[0].ReadyAt.Sub(rs[0].StartedAt); got != want || got < time.Second || got > 2*time.Second {
		t.Errorf("ready %s after start, want the first seeded draw %s in [1s, 2s]", got, want)
	}
}

// TestRollingUpdate: an update replaces replicas without failing requests;
// the old ones serve while the new ones warm up.
func TestRollingUpdate(t *testing.T) {
	m := newManager(t, nil)
	clk := fakeClock(t, m)
	gw := gateway(t, m)
	s := httpSpec("roll", 2)
	s.Env["VERSION"] = "1"
	deploy(t, m, s)
	waitAvailable(t, m, "roll", 2)
	stop := make(chan struct{})
	var mu sync.Mutex
	var bad []result
	seen := map[string]int{}
	served := func(v string) int { mu.Lock(); defer mu.Unlock(); return seen[v] }
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res := do(client, "GET", gw.URL+"/function/roll/env?k=VERSION", "", nil)
				mu.Lock()
				seen[res.body]++
				if res.code != 200 {
					bad = append(bad, res)
				}
				mu.Unlock()
			}
		}()
	}
	waitUntil(t, m, "version 1 served", func() bool { return served("1") >= 5 })
	s2 := httpSpec("roll", 2)
	s2.Env["VERSION"] = "2"
	s2.StartupDelay = 200 * time.Millisecond
	if err := m.Update(context.Background(), s2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), safetyNet)
	defer cancel()
	if err := clk.BlockUntil(ctx, func(p []time.Duration) bool {
		return len(slices.DeleteFunc(slices.Clone(p), func(d time.Duration) bool { return d != s2.StartupDelay })) == 2
	}); err != nil {
		t.Fatalf("waiting for both new replicas to warm up: %v", err)
	}
	n1 := served("1")
	waitUntil(t, m, "version 1 served while version 2 warms up", func() bool { return served("1") >= n1+5 })
	if n := served("2"); n != 0 {
		t.Errorf("version 2 served %d requests before its startup delay was over", n)
	}
	clk.Advance(s2.StartupDelay)
	waitUntil(t, m, "2 ready replicas of the new spec and no old one", func() bool {
		n := 0
		for _, r := range mustReplicas(t, m, "roll") {
			if r.Generation != 2 {
				return false
			}
			if r.State == "ready" {
				n++
			}
		}
		return n == 2
	})
	waitUntil(t, m, "version 2 served", func() bool { return served("2") >= 5 })
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d requests failed during the rolling update, first %+v", len(bad), bad[0])
	}
	res := do(client, "GET", gw.URL+"/function/roll/env?k=VERSION", "", nil)
	if res.body != "2" {
		t.Errorf("after update: %q", res.body)
	}
}

// TestCrashLoop: a process that never starts is restarted with a doubling
// backoff, never counted available; requests get 503; Remove stops it.
func TestCrashLoop(t *testing.T) {
	m := newManager(t, func(c *Config) { c.ColdStartWait = 300 * time.Millisecond })
	clk := fakeClock(t, m)
	gw := gateway(t, m)
	s := httpSpec("crashy", 1)
	s.Env["FN_FAIL_START"] = "1"
	deploy(t, m, s)
	for _, d := range []time.Duration{50, 100, 200} { // RestartBackoff 50ms, doubling
		step(t, clk, d*time.Millisecond)
	}
	armed(t, clk, 400*time.Millisecond) // the fourth crash's backoff
	if v := metricValue(m, "prescale_plugin_replica_restarts_total", "crashy"); v != 4 {
		t.Errorf("restarts = %v after 4 crashes", v)
	}
	if st, _ := m.Status("crashy"); st.AvailableReplicas != 0 || st.Replicas != 1 {
		t.Errorf("status %+v: want desired 1, available 0", st)
	}
	got := make(chan result, 1)
	go func() { got <- do(client, "GET", gw.URL+"/function/crashy", "", nil) }()
	step(t, clk, 300*time.Millisecond) // ColdStartWait
	if res := <-got; res.code != 503 || !strings.Contains(res.body, "no replica of crashy became ready within 300ms") {
		t.Errorf("got %d %q, want 503", res.code, res.body)
	}
	if got := collect(t, m, logs.Request{Name: "crashy"}); !slices.ContainsFunc(got, func(l logs.Message) bool {
		return strings.Contains(l.Text, "failing at start as asked")
	}) || !slices.ContainsFunc(got, func(l logs.Message) bool {
		return strings.Contains(l.Text, "exited before ready: exit status 2")
	}) {
		t.Errorf("the crash output is not in the logs: %+v", got)
	}
	// A request that crashes its replica gets 502, and the replica comes back.
	deploy(t, m, httpSpec("crashy", 1)) // update: a healthy spec
	waitAvailable(t, m, "crashy", 1)
	res := do(client, "GET", gw.URL+"/function/crashy/crash", "", nil)
	if res.code != 502 || res.header.Get(InternalHeader) != InternalValue {
		t.Errorf("crash request: %d %q, want 502", res.code, res.body)
	}
	step(t, clk, 50*time.Millisecond) // a new replica's first backoff
	waitAvailable(t, m, "crashy", 1)
	// One replica start: the crash loop's replica never became ready, and
	// a restart after a crash is not a start.
	if h := histogramFor(m, ReplicaStartMetric, "crashy"); h == nil || h.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("replica starts: %v, want 1 observation", h)
	}
	if err := m.Remove(context.Background(), "crashy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Status("crashy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("status after remove: %v", err)
	}
}
