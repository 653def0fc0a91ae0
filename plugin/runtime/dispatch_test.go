package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
)

// TestFIFOQueue: with MaxInflight=1 and one replica, queued requests are
// served in arrival order, and the queue length is exported.
func TestFIFOQueue(t *testing.T) {
	m := newManager(t, nil)
	s := httpSpec("fifo", 1)
	s.MaxInflight = 1
	deploy(t, m, s)
	waitAvailable(t, m, "fifo", 1)
	gw := gateway(t, m)

	// The first request holds the only slot until the test cancels it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL+"/function/fifo/sleep?log=1&ms=600000", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if resp, err := client.Do(first); err == nil {
			resp.Body.Close()
		}
	}()
	waitLogged(t, m, "fifo", "sleeping 600000 ms")
	const n = 6
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := do(client, http.MethodGet, gw.URL+"/function/fifo/sleep?log=1&ms=5&tag=i"+strconv.Itoa(i), "", nil)
			if res.code != 200 {
				t.Errorf("request %d: %d %q %v", i, res.code, res.body, res.err)
			}
		}()
		// Arrival order is defined by the queue length growing.
		waitUntil(t, m, "request queued", func() bool {
			return metricValue(m, "prescale_plugin_queue_length", "fifo") == float64(i+1)
		})
	}
	cancel() // frees the slot
	wg.Wait()
	// With one slot, each request reaches the function only after the one
	// before it is done: the log lines are the dispatch order.
	var order []string
	for _, l := range collect(t, m, logs.Request{Name: "fifo"}) {
		if tag, ok := strings.CutPrefix(l.Text, "sleeping 5 ms "); ok {
			order = append(order, tag)
		}
	}
	if want := []string{"i0", "i1", "i2", "i3", "i4", "i5"}; !slices.Equal(order, want) {
		t.Errorf("dispatch order %v, want FIFO %v", order, want)
	}
}

// TestTimeouts: exec timeouts give 504 from the plugin in http mode (on the
// Manager's clock) and the watchdog's 408 in fork mode (the watchdog's own
// timer, real time).
func TestTimeouts(t *testing.T) {
	m := newManager(t, nil)
	clk := fakeClock(t, m)
	gw := gateway(t, m)
	h := httpSpec("slowhttp", 1)
	h.ExecTimeout = 300 * time.Millisecond
	deploy(t, m, h)
	f := forkSpec(t, "slowfork", "sleep 5; echo late\n", 1)
	f.ExecTimeout = 300 * time.Millisecond
	deploy(t, m, f)
	waitAvailable(t, m, "slowhttp", 1)
	waitAvailable(t, m, "slowfork", 1)
	check := func(t *testing.T, res result, code int, body, header string) {
		t.Helper()
		if res.code != code || !strings.Contains(res.body, body) || res.header.Get(InternalHeader) != header {
			t.Fatalf("got %d %q (%s=%q), want %d %q (%q)", res.code, res.body, InternalHeader, res.header.Get(InternalHeader), code, body, header)
		}
	}
	t.Run("fork exec timeout", func(t *testing.T) {
		check(t, do(client, http.MethodGet, gw.URL+"/function/slowfork", "", nil), 408, "Killed process.", "prescale-watchdog")
	})
	t.Run("http fast enough", func(t *testing.T) {
		check(t, do(client, http.MethodGet, gw.URL+"/function/slowhttp/sleep?ms=10", "", nil), 200, "slept", "")
	})
	t.Run("http exec timeout", func(t *testing.T) {
		got := make(chan result, 1)
		go func() { got <- do(client, http.MethodGet, gw.URL+"/function/slowhttp/sleep?ms=600000", "", nil) }()
		armed(t, clk, h.ExecTimeout) // the upstream deadline of the forwarded request
		select {
		case res := <-got:
			t.Fatalf("answered before its deadline: %d %q", res.code, res.body)
		default:
		}
		clk.Advance(h.ExecTimeout)
		check(t, <-got, 504, "function slowhttp timed out after 300ms", InternalValue)
	})
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
		for metric, want := range map[string]float64{"prescale_plugin_cold_start_waits_total": 1, "prescale_plugin_scale_from_zero_total": 1} {
			if v := metricValue(m, metric, "zero"); v != want {
				t.Errorf("%s = %v, want %v", metric, v, want)
			}
		}
	})
	t.Run("waits until scaled up", func(t *testing.T) {
		m := newManager(t, func(c *Config) { c.DisableScaleFromZero = true })
		clk := fakeClock(t, m)
		gw := gateway(t, m)
		deploy(t, m, httpSpec("waiter", 0))
		done := make(chan result, 1)
		go func() { done <- do(client, http.MethodGet, gw.URL+"/function/waiter/pid", "", nil) }()
		waitUntil(t, m, "request queued", func() bool { return metricValue(m, "prescale_plugin_queue_length", "waiter") == 1 })
		clk.Advance(5 * time.Second) // waiting, below ColdStartWait
		select {
		case r := <-done:
			t.Fatalf("request finished at 0 replicas: %d %q", r.code, r.body)
		default:
		}
		if err := m.Scale(context.Background(), "waiter", 1); err != nil {
			t.Fatal(err)
		}
		if r := <-done; r.code != 200 {
			t.Fatalf("got %d %q, want 200 after the scale-up", r.code, r.body)
		}
		if v := metricValue(m, "prescale_plugin_cold_start_wait_seconds_total", "waiter"); v != 5 {
			t.Errorf("cold start wait seconds = %v, want the 5 s the request waited", v)
		}
		// The same wait, per request, in the start-wait histogram: one
		// observation of 5 s, in the bucket (4, 5].
		if h := histogramFor(m, "prescale_plugin_start_wait_seconds", "waiter"); h == nil {
			t.Error("no prescale_plugin_start_wait_seconds histogram for waiter")
		} else {
			hg := h.GetHistogram()
			if hg.GetSampleCount() != 1 || hg.GetSampleSum() != 5 {
				t.Errorf("start wait histogram: %d observations, sum %v; want 1 of 5 s", hg.GetSampleCount(), hg.GetSampleSum())
			}
			for _, b := range hg.GetBucket() {
				want := uint64(0)
				if b.GetUpperBound() >= 5 {
					want = 1
				}
				if b.GetCumulativeCount() != want {
					t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
				}
			}
		}
		if v := metricValue(m, "prescale_plugin_scale_from_zero_total", "waiter"); v != 0 {
			t.Errorf("scale from zero = %v with DisableScaleFromZero", v)
		}
	})
	t.Run("bounded wait gives 503", func(t *testing.T) {
		m := newManager(t, func(c *Config) { c.DisableScaleFromZero = true; c.ColdStartWait = 300 * time.Millisecond })
		clk := fakeClock(t, m)
		gw := gateway(t, m)
		deploy(t, m, httpSpec("never", 0))
		got := make(chan result, 1)
		go func() { got <- do(client, http.MethodGet, gw.URL+"/function/never", "", nil) }()
		step(t, clk, 300*time.Millisecond)
		r := <-got
		if r.code != 503 || !strings.Contains(r.body, "no replica of never became ready within 300ms") || r.header.Get(InternalHeader) != InternalValue {
			t.Fatalf("got %d %q, want 503 with a message", r.code, r.body)
		}
		if v := metricValue(m, "prescale_plugin_queue_timeouts_total", "never"); v != 1 {
			t.Errorf("queue timeouts = %v, want 1", v)
		}
	})
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
