package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var client = &http.Client{Timeout: 30 * time.Second}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"relative base dir", func(c *Config) { c.BaseDir = "rel" }, "not absolute"},
		{"ready timeout too small", func(c *Config) { c.ReadyTimeout = time.Millisecond }, "ReadyTimeout 1ms out of range (allowed 100ms..10m0s)"},
		{"cold start wait too long", func(c *Config) { c.ColdStartWait = time.Hour }, "ColdStartWait 1h0m0s out of range"},
		{"negative grace", func(c *Config) { c.StopGrace = -time.Second }, "StopGrace -1s out of range"},
		{"backoff max below backoff", func(c *Config) { c.RestartBackoff = time.Second; c.RestartBackoffMax = time.Millisecond }, "RestartBackoffMax 1ms out of range (allowed 1s..10m0s)"},
		{"log lines", func(c *Config) { c.LogLines = -1 }, "LogLines -1 out of range (allowed 1..1000000)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{BaseDir: t.TempDir()}
			tc.mod(&cfg)
			m, err := New(cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				m.Close(context.Background())
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSpecValidateAndNotFound(t *testing.T) {
	m := newManager(t, nil)
	bad := []struct {
		name string
		mod  func(*Spec)
		want string
	}{
		{"empty name", func(s *Spec) { s.Name = "" }, "name is empty"},
		{"bad mode", func(s *Spec) { s.Mode = "docker" }, `mode "docker" unknown`},
		{"no command", func(s *Spec) { s.Command = nil }, "command is empty"},
		{"negative replicas", func(s *Spec) { s.Replicas = -1 }, "replicas -1 out of range"},
		{"negative timeout", func(s *Spec) { s.ExecTimeout = -time.Second }, "execTimeout -1s out of range"},
		{"bad env", func(s *Spec) { s.Env = map[string]string{"A=B": "x"} }, `env name "A=B" invalid`},
		{"missing dir", func(s *Spec) { s.Dir = "/nonexistent/dir" }, `dir "/nonexistent/dir" is not a directory`},
		{"missing program", func(s *Spec) { s.Command = []string{"./nope"} }, `command "./nope"`},
		{"program not on PATH", func(s *Spec) { s.Command = []string{"no-such-prog-xyz"} }, `not found on PATH`},
		{"fork arg with space", func(s *Spec) { s.Mode = ModeFork; s.Command = []string{"/bin/sh", "-c", "echo hi"} }, "contains whitespace"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			s := httpSpec("bad", 1)
			tc.mod(&s)
			err := m.Deploy(context.Background(), s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Deploy error = %v, want %q", err, tc.want)
			}
		})
	}
	ctx := context.Background()
	notFound := map[string]error{
		"Update": m.Update(ctx, httpSpec("nope", 1)),
		"Remove": m.Remove(ctx, "nope"),
		"Scale":  m.Scale(ctx, "nope", 1),
	}
	_, notFound["Status"] = m.Status("nope")
	_, notFound["Logs"] = m.Logs(ctx, logs.Request{Name: "nope"})
	_, notFound["Replicas"] = m.Replicas("nope")
	for op, err := range notFound {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on an absent function: %v, want ErrNotFound", op, err)
		}
	}
	if len(m.List()) != 0 {
		t.Errorf("List = %v, want empty", m.List())
	}
}

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
		waitFor(t, 10*time.Second, fmt.Sprintf("exactly %d replicas", n), func() bool {
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
				if alive(pid) {
					t.Errorf("pid %d alive after scale to 0", pid)
				}
			}
		}
		if v := testutil.ToFloat64(gaugeFor(m, "prescale_plugin_replicas_available", "life")); int(v) != n {
			t.Errorf("prescale_plugin_replicas_available = %v, want %d", v, n)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 11 {
		t.Errorf("gathered %d series (err %v), want 11 for one function", n, err)
	}
}

// gaugeFor collects one of the manager's metrics for one function.
func gaugeFor(m *Manager, metric, fn string) prometheus.Collector {
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		all := make(chan prometheus.Metric, 100)
		m.Collect(all)
		close(all)
		for mt := range all {
			d := mt.Desc().String()
			if strings.Contains(d, `"`+metric+`"`) && labelIs(mt, fn) {
				ch <- mt
			}
		}
	})
}

type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(f, ch) }
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

func labelIs(mt prometheus.Metric, fn string) bool {
	var pb = new(dtoMetric)
	if err := mt.Write(pb); err != nil {
		return false
	}
	for _, l := range pb.GetLabel() {
		if l.GetName() == "function_name" && l.GetValue() == fn {
			return true
		}
	}
	return false
}

// TestKillUnderLoad: kill -9 of one of 2 replicas under 8 concurrent
// clients. Only the killed replica's in-flight requests fail, all with 502;
// the replica is reported unavailable, restarted with a new PID, and
// available again.
func TestKillUnderLoad(t *testing.T) {
	m := newManager(t, nil)
	deploy(t, m, httpSpec("load", 2))
	waitAvailable(t, m, "load", 2)
	gw := gateway(t, m)

	var mu sync.Mutex
	codes := map[int]int{}
	var failures []result
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
				res := do(client, http.MethodPost, gw.URL+"/function/load/sleep?ms=50", "payload", nil)
				mu.Lock()
				codes[res.code]++
				if res.err != nil || res.code != 200 {
					failures = append(failures, res)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	rs, _ := m.Replicas("load")
	victim := rs[0]
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The requests that can fail: those in flight on the victim when it was
	// killed, plus those routed to it before the plugin noticed the death
	// (Requests counts dispatches to the replica).
	var routedBeforeNoticed int64
	waitFor(t, 2*time.Second, "killed replica reported unavailable", func() bool {
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
	waitFor(t, 10*time.Second, "killed replica restarted with a new pid and ready", func() bool {
		rs, _ := m.Replicas("load")
		for _, r := range rs {
			if r.ID == victim.ID && r.PID != victim.PID && r.PID > 0 && r.State == "ready" && r.Restarts == 1 {
				return true
			}
		}
		return false
	})
	waitAvailable(t, m, "load", 2)
	time.Sleep(300 * time.Millisecond) // load on the restarted replica
	close(stop)
	wg.Wait()

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
	if codes[200] != total-len(failures) || codes[200] < 50 {
		t.Errorf("codes %v: want all others 200 (and a real load)", codes)
	}
	if v := testutil.ToFloat64(gaugeFor(m, "prescale_plugin_replica_restarts_total", "load")); v != 1 {
		t.Errorf("restarts metric = %v, want 1", v)
	}
}

// TestFIFOQueue: with MaxInflight=1 and one replica, queued requests are
// served in arrival order, and the queue length is exported.
func TestFIFOQueue(t *testing.T) {
	m := newManager(t, nil)
	s := httpSpec("fifo", 1)
	s.MaxInflight = 1
	deploy(t, m, s)
	waitAvailable(t, m, "fifo", 1)
	gw := gateway(t, m)

	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		do(client, http.MethodGet, gw.URL+"/function/fifo/sleep?ms=600", "", nil)
	}()
	waitFor(t, 5*time.Second, "first request in flight", func() bool {
		rs, _ := m.Replicas("fifo")
		return len(rs) == 1 && rs[0].Inflight == 1
	})
	const n = 6
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res := do(client, http.MethodGet, gw.URL+"/function/fifo/sleep?ms=5&i="+strconv.Itoa(i), "", nil)
			mu.Lock()
			defer mu.Unlock()
			if res.code == 200 {
				order = append(order, i)
			} else {
				t.Errorf("request %d: %d %q %v", i, res.code, res.body, res.err)
			}
		}(i)
		// Arrival order is defined by the queue length growing.
		waitFor(t, 5*time.Second, "request queued", func() bool {
			return testutil.ToFloat64(gaugeFor(m, "prescale_plugin_queue_length", "fifo")) == float64(i+1)
		})
	}
	wg.Wait()
	if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(order, want) {
		t.Errorf("completion order %v, want FIFO %v", order, want)
	}
}

// TestTimeouts: exec timeouts give 504 from the plugin in http mode and the
// watchdog's 408 in fork mode.
func TestTimeouts(t *testing.T) {
	m := newManager(t, nil)
	gw := gateway(t, m)
	h := httpSpec("slowhttp", 1)
	h.ExecTimeout = 300 * time.Millisecond
	deploy(t, m, h)
	f := forkSpec(t, "slowfork", "sleep 5; echo late\n", 1)
	f.ExecTimeout = 300 * time.Millisecond
	deploy(t, m, f)
	waitAvailable(t, m, "slowhttp", 1)
	waitAvailable(t, m, "slowfork", 1)
	cases := []struct {
		name, url    string
		code         int
		body, header string
	}{
		{"http exec timeout", "/function/slowhttp/sleep?ms=3000", 504, "function slowhttp timed out after 300ms", InternalValue},
		{"fork exec timeout", "/function/slowfork", 408, "Killed process.", "prescale-watchdog"},
		{"http fast enough", "/function/slowhttp/sleep?ms=10", 200, "slept", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res := do(client, http.MethodGet, gw.URL+tc.url, "", nil)
			if res.code != tc.code || !strings.Contains(res.body, tc.body) || res.header.Get(InternalHeader) != tc.header {
				t.Fatalf("got %d %q (%s=%q), want %d %q (%q)", res.code, res.body, InternalHeader, res.header.Get(InternalHeader), tc.code, tc.body, tc.header)
			}
			if el := time.Since(start); el > 2500*time.Millisecond {
				t.Errorf("took %s: the timeout did not cut the request short", el)
			}
		})
	}
}

// TestColdStart covers requests to a function at 0 replicas.
func TestColdStart(t *testing.T) {
	t.Run("scale from zero to the min label", func(t *testing.T) {
		m := newManager(t, nil)
		gw := gateway(t, m)
		s := httpSpec("zero", 0)
		s.Deployment.Labels = &map[string]string{MinReplicasLabel: "2"}
		deploy(t, m, s)
		res := do(client, http.MethodGet, gw.URL+"/function/zero/pid", "", nil)
		if res.code != 200 {
			t.Fatalf("got %d %q, want 200 after scale from zero", res.code, res.body)
		}
		st, _ := m.Status("zero")
		if st.Replicas != 2 {
			t.Errorf("desired after scale from zero = %d, want 2 (the min label)", st.Replicas)
		}
		if v := testutil.ToFloat64(gaugeFor(m, "prescale_plugin_cold_start_waits_total", "zero")); v != 1 {
			t.Errorf("cold start waits = %v, want 1", v)
		}
	})
	t.Run("waits until scaled up", func(t *testing.T) {
		m := newManager(t, func(c *Config) { c.DisableScaleFromZero = true })
		gw := gateway(t, m)
		deploy(t, m, httpSpec("waiter", 0))
		done := make(chan result, 1)
		start := time.Now()
		go func() { done <- do(client, http.MethodGet, gw.URL+"/function/waiter/pid", "", nil) }()
		time.Sleep(300 * time.Millisecond)
		select {
		case r := <-done:
			t.Fatalf("request finished at 0 replicas: %d %q", r.code, r.body)
		default:
		}
		if err := m.Scale(context.Background(), "waiter", 1); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.code != 200 || time.Since(start) < 300*time.Millisecond {
			t.Fatalf("got %d %q after %s, want 200 after the scale-up", r.code, r.body, time.Since(start))
		}
	})
	t.Run("bounded wait gives 503", func(t *testing.T) {
		m := newManager(t, func(c *Config) { c.DisableScaleFromZero = true; c.ColdStartWait = 300 * time.Millisecond })
		gw := gateway(t, m)
		deploy(t, m, httpSpec("never", 0))
		start := time.Now()
		r := do(client, http.MethodGet, gw.URL+"/function/never", "", nil)
		if r.code != 503 || !strings.Contains(r.body, "no replica of never became ready within") || r.header.Get(InternalHeader) != InternalValue {
			t.Fatalf("got %d %q, want 503 with a message", r.code, r.body)
		}
		if el := time.Since(start); el < 300*time.Millisecond {
			t.Errorf("503 after %s, before ColdStartWait", el)
		}
	})
}

// TestStartupDelay: a new replica stays unready for StartupDelay after its
// process is healthy.
func TestStartupDelay(t *testing.T) {
	m := newManager(t, nil)
	s := httpSpec("delayed", 1)
	s.StartupDelay = 800 * time.Millisecond
	start := time.Now()
	deploy(t, m, s)
	waitFor(t, 10*time.Second, "a started process", func() bool {
		p := pids(t, m, "delayed")
		return len(p) == 1 && p[0] > 0
	})
	if st, _ := m.Status("delayed"); st.AvailableReplicas != 0 {
		t.Fatalf("available %d right after start, want 0 during the startup delay", st.AvailableReplicas)
	}
	waitAvailable(t, m, "delayed", 1)
	if el := time.Since(start); el < s.StartupDelay {
		t.Errorf("available after %s, before the %s startup delay", el, s.StartupDelay)
	}
	rs, _ := m.Replicas("delayed")
	if d := rs[0].ReadyAt.Sub(rs[0].StartedAt); d < s.StartupDelay {
		t.Errorf("ready %s after start, want at least %s", d, s.StartupDelay)
	}
}

// TestForwarding checks what reaches the function and what comes back.
func TestForwarding(t *testing.T) {
	m := newManager(t, nil)
	deploy(t, m, httpSpec("echo", 1))
	waitAvailable(t, m, "echo", 1)
	gw := gateway(t, m)
	type echo map[string]string
	cases := []struct {
		name, method, url, body string
		hdr                     map[string]string
		code                    int
		want                    echo
	}{
		{"post with path and query", "POST", "/function/echo/a/b?x=1&y=2", "hello", map[string]string{"X-Custom": "c1"}, 200,
			echo{"method": "POST", "path": "/a/b", "query": "x=1&y=2", "body": "hello", "custom": "c1"}},
		{"empty path is /", "GET", "/function/echo", "", nil, 200, echo{"method": "GET", "path": "/"}},
		{"namespace suffix", "PUT", "/function/echo.openfaas-fn/z", "b", nil, 200, echo{"method": "PUT", "path": "/z", "body": "b"}},
		{"call id kept", "GET", "/function/echo/", "", map[string]string{"X-Call-Id": "abc-123"}, 200, echo{"callId": "abc-123"}},
		{"hop-by-hop dropped", "GET", "/function/echo/", "", map[string]string{"Connection": "X-Hop", "X-Hop": "secret"}, 200, echo{"hop": "", "connection": ""}},
		{"other namespace", "GET", "/function/echo.other/", "", nil, 404, nil},
		{"unknown function", "GET", "/function/ghost/", "", nil, 404, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := do(client, tc.method, gw.URL+tc.url, tc.body, tc.hdr)
			if res.err != nil || res.code != tc.code {
				t.Fatalf("got %d %q %v, want %d", res.code, res.body, res.err, tc.code)
			}
			if tc.code != 200 {
				if res.header.Get(InternalHeader) != InternalValue || !strings.Contains(res.body, "not found") {
					t.Errorf("404 without the internal header or message: %q", res.body)
				}
				return
			}
			var got echo
			if err := json.Unmarshal([]byte(res.body), &got); err != nil {
				t.Fatalf("body %q: %v", res.body, err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if id := res.header.Get("X-Call-Id"); id == "" || id != got["callId"] {
				t.Errorf("X-Call-Id response %q, function saw %q: want the same, non-empty", id, got["callId"])
			}
			if _, err := strconv.ParseInt(got["startTime"], 10, 64); err != nil {
				t.Errorf("X-Start-Time %q not set", got["startTime"])
			}
			if res.header.Get("X-Fn-Header") != "yes" {
				t.Errorf("function's response header lost")
			}
		})
	}
	t.Run("streamed response", func(t *testing.T) {
		res := do(client, "GET", gw.URL+"/function/echo/stream", "", nil)
		if res.code != 200 || res.body != "chunk0\nchunk1\nchunk2\n" {
			t.Fatalf("got %d %q", res.code, res.body)
		}
	})
	t.Run("replica env", func(t *testing.T) {
		for k, want := range map[string]string{"port": "", "TMPDIR": m.runDir, "upstream_url": "http://127.0.0.1:"} {
			res := do(client, "GET", gw.URL+"/function/echo/env?k="+k, "", nil)
			if res.code != 200 || !strings.HasPrefix(res.body, want) || res.body == "" {
				t.Errorf("env %s = %q, want prefix %q", k, res.body, want)
			}
		}
	})
	if st, _ := m.Status("echo"); st.InvocationCount < float64(len(cases)-2) {
		t.Errorf("InvocationCount = %v", st.InvocationCount)
	}
}

// TestForkMode runs sh and python3 functions through the watchdog.
func TestForkMode(t *testing.T) {
	m := newManager(t, nil)
	gw := gateway(t, m)
	sh := forkSpec(t, "shfn", "cat; printf ' %s %s %s' \"$Http_Method\" \"$Http_Path\" \"$Http_X_Custom\"\n", 2)
	sh.MaxInflight = 1
	deploy(t, m, sh)
	py := forkSpec(t, "pyfn", "", 1)
	py.Command = []string{"python3", "fn.py"}
	if err := writeFile(py.Dir+"/fn.py", "import sys\nprint('hi ' + sys.stdin.read())\n"); err != nil {
		t.Fatal(err)
	}
	deploy(t, m, py)
	fail := forkSpec(t, "failfn", "echo oops; exit 3\n", 1)
	deploy(t, m, fail)
	for _, n := range []string{"shfn", "pyfn", "failfn"} {
		waitAvailable(t, m, n, 1)
	}
	cases := []struct {
		name, url, body string
		code            int
		want            string
	}{
		{"sh stdin and env", "/function/shfn/p/q", "body", 200, "body POST /p/q c9"},
		{"python stdin", "/function/pyfn", "world", 200, "hi world\n"},
		{"non-zero exit", "/function/failfn", "x", 500, "exit status 3\noops\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := do(client, "POST", gw.URL+tc.url, tc.body, map[string]string{"X-Custom": "c9"})
			if res.code != tc.code || res.body != tc.want {
				t.Fatalf("got %d %q, want %d %q", res.code, res.body, tc.code, tc.want)
			}
			if res.header.Get("X-Duration-Seconds") == "" {
				t.Errorf("no X-Duration-Seconds")
			}
		})
	}
	// 2 replicas × MaxInflight 1: 6 concurrent requests queue, none gets 429.
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := do(client, "POST", gw.URL+"/function/shfn", "x", nil); res.code != 200 {
				t.Errorf("concurrent fork request: %d %q", res.code, res.body)
			}
		}()
	}
	wg.Wait()
}

// TestRollingUpdate: an update replaces replicas without failing requests.
func TestRollingUpdate(t *testing.T) {
	m := newManager(t, nil)
	gw := gateway(t, m)
	s := httpSpec("roll", 2)
	s.Env["VERSION"] = "1"
	deploy(t, m, s)
	waitAvailable(t, m, "roll", 2)
	stop := make(chan struct{})
	var mu sync.Mutex
	var bad []result
	seen := map[string]int{}
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
	time.Sleep(100 * time.Millisecond)
	s2 := httpSpec("roll", 2)
	s2.Env["VERSION"] = "2"
	s2.StartupDelay = 200 * time.Millisecond
	if err := m.Update(context.Background(), s2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "2 ready replicas of the new spec and no old one", func() bool {
		rs, _ := m.Replicas("roll")
		n := 0
		for _, r := range rs {
			if r.Generation != 2 {
				return false
			}
			if r.State == "ready" {
				n++
			}
		}
		return n == 2
	})
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d requests failed during the rolling update, first %+v", len(bad), bad[0])
	}
	if seen["1"] == 0 || seen["2"] == 0 {
		t.Errorf("versions served %v: want both", seen)
	}
	res := do(client, "GET", gw.URL+"/function/roll/env?k=VERSION", "", nil)
	if res.body != "2" {
		t.Errorf("after update: %q", res.body)
	}
}

// TestLogs: replica output is kept per instance, tailed and followed.
func TestLogs(t *testing.T) {
	m := newManager(t, nil)
	gw := gateway(t, m)
	deploy(t, m, httpSpec("logfn", 1))
	waitAvailable(t, m, "logfn", 1)
	do(client, "GET", gw.URL+"/function/logfn/first", "", nil)
	rs, _ := m.Replicas("logfn")
	id := rs[0].ID
	waitFor(t, 5*time.Second, "echo line in the logs", func() bool {
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
	case <-time.After(5 * time.Second):
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

// TestCrashLoop: a process that never starts is restarted with backoff,
// never counted available; requests get 503; Remove stops it.
func TestCrashLoop(t *testing.T) {
	m := newManager(t, func(c *Config) { c.ColdStartWait = 300 * time.Millisecond })
	gw := gateway(t, m)
	s := httpSpec("crashy", 1)
	s.Env["FN_FAIL_START"] = "1"
	deploy(t, m, s)
	waitFor(t, 10*time.Second, "three restarts", func() bool {
		return testutil.ToFloat64(gaugeFor(m, "prescale_plugin_replica_restarts_total", "crashy")) >= 3
	})
	if st, _ := m.Status("crashy"); st.AvailableReplicas != 0 || st.Replicas != 1 {
		t.Errorf("status %+v: want desired 1, available 0", st)
	}
	res := do(client, "GET", gw.URL+"/function/crashy", "", nil)
	if res.code != 503 {
		t.Errorf("got %d %q, want 503", res.code, res.body)
	}
	if got := collect(t, m, logs.Request{Name: "crashy"}); !slices.ContainsFunc(got, func(l logs.Message) bool {
		return strings.Contains(l.Text, "failing at start as asked")
	}) {
		t.Errorf("the crash output is not in the logs: %+v", got)
	}
	// A request that crashes its replica gets 502, and the replica comes back.
	deploy(t, m, httpSpec("crashy", 1)) // update: a healthy spec
	waitAvailable(t, m, "crashy", 1)
	res = do(client, "GET", gw.URL+"/function/crashy/crash", "", nil)
	if res.code != 502 || res.header.Get(InternalHeader) != InternalValue {
		t.Errorf("crash request: %d %q, want 502", res.code, res.body)
	}
	waitAvailable(t, m, "crashy", 1)
	if err := m.Remove(context.Background(), "crashy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Status("crashy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("status after remove: %v", err)
	}
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
	waitFor(t, 5*time.Second, "slow request in flight", func() bool {
		rs, _ := m.Replicas("a")
		return rs[0].Inflight+rs[1].Inflight == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
	waitFor(t, 2*time.Second, "no manager goroutine left", func() bool {
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
// requests finish within StopGrace, and kills the process after StopGrace.
func TestScaleDownDrains(t *testing.T) {
	cases := []struct {
		name  string
		grace time.Duration
		ms    int
		code  int
	}{
		{"in-flight request finishes", 3 * time.Second, 500, 200},
		{"grace over: killed", 300 * time.Millisecond, 5000, 502},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, func(c *Config) {
				c.StopGrace = tc.grace
				c.DisableScaleFromZero = true
				c.ColdStartWait = 200 * time.Millisecond
			})
			gw := gateway(t, m)
			deploy(t, m, httpSpec("drain", 1))
			waitAvailable(t, m, "drain", 1)
			pid := pids(t, m, "drain")[0]
			got := make(chan result, 1)
			start := time.Now()
			go func() { got <- do(client, "GET", gw.URL+"/function/drain/sleep?ms="+strconv.Itoa(tc.ms), "", nil) }()
			waitFor(t, 5*time.Second, "request in flight", func() bool {
				rs, _ := m.Replicas("drain")
				return len(rs) == 1 && rs[0].Inflight == 1
			})
			if err := m.Scale(context.Background(), "drain", 0); err != nil {
				t.Fatal(err)
			}
			if st, _ := m.Status("drain"); st.AvailableReplicas != 0 {
				t.Errorf("available %d right after scale to 0", st.AvailableReplicas)
			}
			// New requests are not routed to the draining replica.
			if r := do(client, "GET", gw.URL+"/function/drain/pid", "", nil); r.code != 503 {
				t.Errorf("request during drain: %d %q, want 503 (no ready replica)", r.code, r.body)
			}
			r := <-got
			if r.code != tc.code {
				t.Errorf("in-flight request: %d %q, want %d", r.code, r.body, tc.code)
			}
			if tc.code == 502 && time.Since(start) > 3*time.Second {
				t.Errorf("killed only after %s, StopGrace %s", time.Since(start), tc.grace)
			}
			waitFor(t, 5*time.Second, "process gone", func() bool { return !alive(pid) })
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
	dir := t.TempDir()
	s := httpSpec("escape", 1)
	s.Dir = dir
	s.Command = []string{"/bin/sh", "-c", "setsid sh -c 'echo $$ > escaped.pid; exec sleep 30' & exec " + fnServer}
	deploy(t, m, s)
	waitAvailable(t, m, "escape", 1)
	var pid int
	waitFor(t, 5*time.Second, "escaped pid", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "escaped.pid"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 6*time.Second {
		t.Errorf("Close took %s", el)
	}
}
