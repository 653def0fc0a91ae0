package async

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCallbackDeliversBodyAndHeaders(t *testing.T) {
	fn := newRecorder(t, func(r received, w http.ResponseWriter) {
		w.Header().Set("X-Fn-Header", "from-function")
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "echo:%s", r.Body)
	})
	cb := newRecorder(t, nil)
	q, srv := startQueue(t, testConfig(t, fn.srv.URL, newFnSet("echo")))

	resp, _ := post(t, srv.URL+"/async-function/echo/sub/path?x=1&y=two", []byte("hello"), map[string]string{
		"X-Callback-Url": cb.srv.URL + "/done?k=v",
		"X-Custom":       "kept",
	})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d, want 202", resp.StatusCode)
	}
	callID := resp.Header.Get("X-Call-Id")
	if callID == "" || resp.Header.Get("X-Start-Time") == "" {
		t.Fatalf("202 lacks X-Call-Id or X-Start-Time: %v", resp.Header)
	}

	var got received
	select {
	case got = <-cb.notify:
	case <-time.After(eventually.SafetyNet):
		t.Fatalf("no callback (safety net %s)", eventually.SafetyNet)
	}
	invoked := fn.all()
	if len(invoked) != 1 {
		t.Fatalf("function invoked %d times, want 1", len(invoked))
	}
	in := invoked[0]
	for _, c := range []struct{ what, got, want string }{
		{"function method", in.Method, "POST"},
		{"function path", in.Path, "/function/echo/sub/path"},
		{"function query", in.Query, "x=1&y=two"},
		{"function body", string(in.Body), "hello"},
		{"function X-Custom", in.Header.Get("X-Custom"), "kept"},
		{"function X-Call-Id", in.Header.Get("X-Call-Id"), callID},
		{"function User-Agent", in.Header.Get("User-Agent"), DefaultUserAgent},
		{"callback path", got.Path, "/done"},
		{"callback query", got.Query, "k=v"},
		{"callback method", got.Method, "POST"},
		{"callback body", string(got.Body), "echo:hello"},
		{"X-Call-Id", got.Header.Get("X-Call-Id"), callID},
		{"X-Function-Name", got.Header.Get("X-Function-Name"), "echo"},
		{"X-Function-Status", got.Header.Get("X-Function-Status"), "201"},
		{"function's header", got.Header.Get("X-Fn-Header"), "from-function"},
		{"function's Content-Type", got.Header.Get("Content-Type"), "text/plain"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if in.Header.Get("X-Start-Time") == "" {
		t.Errorf("function request lacks X-Start-Time")
	}
	d := got.Header.Get("X-Duration-Seconds")
	if !regexp.MustCompile(`^\d+\.\d{6}$`).MatchString(d) {
		t.Errorf("X-Duration-Seconds = %q, want %%f format", d)
	}
	eventually.True(t, "completed metric", 20*time.Millisecond, func() bool {
		return testutil.ToFloat64(q.metrics.completed.WithLabelValues("echo", "201")) == 1
	})
	if v := testutil.ToFloat64(q.metrics.callbacks.WithLabelValues("echo", "ok")); v != 1 {
		t.Errorf("callbacks ok = %v, want 1", v)
	}
	if v := testutil.ToFloat64(q.metrics.queued.WithLabelValues("echo")); v != 1 {
		t.Errorf("queued = %v, want 1", v)
	}
	if n := testutil.CollectAndCount(q, "prescale_async_queue_latency_seconds"); n != 1 {
		t.Errorf("latency histogram series = %d, want 1", n)
	}
}

func TestRejectsBadInput(t *testing.T) {
	fn := newRecorder(t, nil)
	cfg := testConfig(t, fn.srv.URL, newFnSet("known"))
	q, srv := startQueue(t, cfg)
	big := make([]byte, DefaultMaxBodyBytes+1)
	for _, c := range []struct {
		name, method, path string
		body               []byte
		header             map[string]string
		want               int
		msg                string
	}{
		{"oversized body", "POST", "/async-function/known", big, nil, 413, "256000"},
		{"body at the limit is accepted", "POST", "/async-function/known", big[:DefaultMaxBodyBytes], nil, 202, ""},
		{"callback not a URL", "POST", "/async-function/known", nil, map[string]string{"X-Callback-Url": "::nope"}, 400, "X-Callback-Url"},
		{"callback relative", "POST", "/async-function/known", nil, map[string]string{"X-Callback-Url": "/relative/path"}, 400, "X-Callback-Url"},
		{"callback ftp", "POST", "/async-function/known", nil, map[string]string{"X-Callback-Url": "ftp://host/x"}, 400, "http or https"},
		{"unknown function", "POST", "/async-function/missing", nil, nil, 404, "missing"},
		{"no function name", "POST", "/async-function/", nil, nil, 404, "no function name"},
		{"invalid name", "POST", "/async-function/bad*name", nil, nil, 400, "invalid function name"},
		{"empty namespace part", "POST", "/async-function/a..b", nil, nil, 400, "invalid function name"},
		{"GET", "GET", "/async-function/known", nil, nil, 405, "POST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(string(c.body)))
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = fmt.Fprint(&b, readAll(resp))
			if resp.StatusCode != c.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b.String(), c.want)
			}
			if !strings.Contains(b.String(), c.msg) {
				t.Errorf("message %q does not mention %q", b.String(), c.msg)
			}
		})
	}
	if v := testutil.ToFloat64(q.metrics.queued.WithLabelValues("known")); v != 1 {
		t.Errorf("queued = %v, want 1 (only the request at the limit)", v)
	}
}

func readAll(resp *http.Response) string {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func TestRetries(t *testing.T) {
	for _, c := range []struct {
		name          string
		fnFails       int // leading function failures
		fnCode        int
		cbFails       int // leading callback failures
		wantInvokes   int
		wantCallbacks int
		wantStatus    string
		wantRetried   float64
	}{
		{"function 503 twice then ok", 2, 503, 0, 3, 1, "200", 2},
		{"function 429 once then ok", 1, 429, 0, 2, 1, "200", 1},
		{"function 400 is not retried", 1, 400, 0, 1, 1, "400", 0},
		{"callback 500 once re-delivers", 0, 0, 1, 2, 2, "200", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var fnCalls, cbCalls atomic.Int32
			fn := newRecorder(t, func(r received, w http.ResponseWriter) {
				if int(fnCalls.Add(1)) <= c.fnFails {
					w.WriteHeader(c.fnCode)
					return
				}
				fmt.Fprint(w, "ok")
			})
			cb := newRecorder(t, func(r received, w http.ResponseWriter) {
				if int(cbCalls.Add(1)) <= c.cbFails {
					w.WriteHeader(500)
				}
			})
			q, srv := startQueue(t, testConfig(t, fn.srv.URL, newFnSet("f")))
			resp, _ := post(t, srv.URL+"/async-function/f", nil, map[string]string{"X-Callback-Url": cb.srv.URL})
			if resp.StatusCode != 202 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			eventually.True(t, "completion", 20*time.Millisecond, func() bool {
				return testutil.ToFloat64(q.metrics.completed.WithLabelValues("f", c.wantStatus)) == 1
			})
			if got := fn.count(); got != c.wantInvokes {
				t.Errorf("function invoked %d times, want %d", got, c.wantInvokes)
			}
			cbs := cb.all()
			if len(cbs) != c.wantCallbacks {
				t.Fatalf("callbacks %d, want %d", len(cbs), c.wantCallbacks)
			}
			if s := cbs[len(cbs)-1].Header.Get("X-Function-Status"); s != c.wantStatus {
				t.Errorf("last callback X-Function-Status %s, want %s", s, c.wantStatus)
			}
			if v := testutil.ToFloat64(q.metrics.retried.WithLabelValues("f")); v != c.wantRetried {
				t.Errorf("retried = %v, want %v", v, c.wantRetried)
			}
		})
	}
}

func TestAlwaysFailingEndsInDeadLetterAndReplays(t *testing.T) {
	var healthy atomic.Bool
	fn := newRecorder(t, func(r received, w http.ResponseWriter) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "boom")
			return
		}
		fmt.Fprint(w, "recovered")
	})
	cb := newRecorder(t, nil)
	cfg := testConfig(t, fn.srv.URL, newFnSet("flaky"))
	cfg.MaxAttempts = 3
	q, srv := startQueue(t, cfg)
	resp, _ := post(t, srv.URL+"/async-function/flaky", []byte("payload"), map[string]string{"X-Callback-Url": cb.srv.URL, "X-Call-Id": "call-dlq-1"})
	if resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	dlq := q.DLQ()
	ctx := context.Background()
	var entries []Entry
	// The worker publishes the dead letter, then counts it: wait for both.
	eventually.True(t, "a dead letter, counted", 20*time.Millisecond, func() bool {
		var err error
		entries, err = dlq.List(ctx)
		return err == nil && len(entries) == 1 && testutil.ToFloat64(q.metrics.deadLettered.WithLabelValues("flaky")) == 1
	})
	e := entries[0].Letter
	if e.Attempts != 3 || e.LastStatus != 500 || e.Request.CallID != "call-dlq-1" || string(e.Request.Body) != "payload" || e.LastError == "" {
		t.Errorf("dead letter = %+v, want 3 attempts, status 500, call-dlq-1, body payload, an error", e)
	}
	if n := fn.count(); n != 3 {
		t.Errorf("function invoked %d times, want 3 (MaxAttempts)", n)
	}
	if got := cb.all(); len(got) != 1 || got[0].Header.Get("X-Function-Status") != "500" || string(got[0].Body) != "boom" {
		t.Errorf("callbacks = %d, want one with the final status 500 and body", len(got))
	}
	if v := testutil.ToFloat64(q.metrics.deadLettered.WithLabelValues("flaky")); v != 1 {
		t.Errorf("dead_lettered = %v, want 1", v)
	}
	if v := testutil.ToFloat64(q.metrics.retried.WithLabelValues("flaky")); v != 2 {
		t.Errorf("retried = %v, want 2", v)
	}

	healthy.Store(true)
	if _, err := dlq.Replay(ctx, entries[0].Seq); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	eventually.True(t, "the replayed call's callback", 20*time.Millisecond, func() bool {
		got := cb.all()
		return len(got) == 2 && got[1].Header.Get("X-Function-Status") == "200" && string(got[1].Body) == "recovered" && got[1].Header.Get("X-Call-Id") == "call-dlq-1"
	})
	if left, err := dlq.List(ctx); err != nil || len(left) != 0 {
		t.Errorf("after replay the DLQ holds %d entries (err %v), want 0", len(left), err)
	}
}

func TestThousandRequestsWithConcurrencyTwo(t *testing.T) {
	const total = 1000
	var cur, peak atomic.Int32
	fn := newRecorder(t, func(r received, w http.ResponseWriter) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(200 * time.Microsecond)
		cur.Add(-1)
		w.Write(r.Body)
	})
	cb := newRecorder(t, nil)
	fns := newFnSet("bounded")
	fns.fns["bounded"][ConcurrencyAnnotation] = "2"
	cfg := testConfig(t, fn.srv.URL, fns)
	cfg.Concurrency = 16 // the annotation must win
	_, srv := startQueue(t, cfg)

	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < total; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, _ := post(t, srv.URL+"/async-function/bounded", []byte(strconv.Itoa(i)), map[string]string{
				"X-Callback-Url": cb.srv.URL, "X-Call-Id": fmt.Sprintf("id-%d", i)})
			if resp.StatusCode != 202 {
				t.Errorf("request %d: status %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	deadline := time.After(eventually.SafetyNet)
	for len(seen) < total {
		select {
		case r := <-cb.notify:
			id := r.Header.Get("X-Call-Id")
			if want := "id-" + string(r.Body); id != want {
				t.Errorf("callback for %s carries body of %s", id, want)
			}
			seen[id]++
		case <-deadline:
			t.Fatalf("only %d of %d distinct calls reached the callback", len(seen), total)
		}
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	time.Sleep(300 * time.Millisecond) // let late duplicates arrive
	dups += len(cb.notify)
	t.Logf("%d distinct callbacks of %d requests; duplicates: %d; peak function concurrency %d", len(seen), total, dups, peak.Load())
	if p := peak.Load(); p > 2 {
		t.Errorf("peak concurrency %d exceeds the bound 2", p)
	}
}

func TestConfigValidation(t *testing.T) {
	base := func() Config {
		return Config{StoreDir: "/tmp/x", GatewayURL: "http://127.0.0.1:1", Functions: newFnSet()}
	}
	for _, c := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"no store", func(c *Config) { c.StoreDir = "" }, "StoreDir is required"},
		{"external nats needs no store", func(c *Config) { c.StoreDir = ""; c.NATSURL = "nats://127.0.0.1:4222" }, ""},
		{"bad gateway", func(c *Config) { c.GatewayURL = "localhost:8080" }, "GatewayURL"},
		{"no functions", func(c *Config) { c.Functions = nil }, "Functions is required"},
		{"concurrency", func(c *Config) { c.Concurrency = 5000 }, "must be 1..1000"},
		{"ack wait too short", func(c *Config) { c.FunctionTimeout = time.Minute; c.AckWait = 30 * time.Second }, "AckWait 30s: must be greater than"},
		{"attempts", func(c *Config) { c.MaxAttempts = -1 }, "MaxAttempts -1: must be 1..1000"},
		{"retry code", func(c *Config) { c.RetryCodes = []int{42} }, "not an HTTP status"},
		{"stream name", func(c *Config) { c.Stream = "a.b" }, "Stream \"a.b\""},
		{"max wait below initial", func(c *Config) { c.InitialRetryWait = time.Second; c.MaxRetryWait = time.Millisecond }, "MaxRetryWait"},
		{"body limit", func(c *Config) { c.MaxBodyBytes = 1 << 30 }, "MaxBodyBytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base()
			c.mutate(&cfg)
			err := cfg.withDefaults().Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
	if d := base().withDefaults(); d.AckWait <= d.FunctionTimeout+d.CallbackTimeout {
		t.Errorf("default AckWait %v not above function+callback timeouts", d.AckWait)
	}
}

func TestQueueIsACollector(t *testing.T) {
	fn := newRecorder(t, nil)
	q, _ := startQueue(t, testConfig(t, fn.srv.URL, newFnSet("a")))
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(q); err != nil {
		t.Fatalf("register: %v", err)
	}
	if !regexp.MustCompile(`^nats://[0-9a-f]{64}@127\.0\.0\.1:\d+$`).MatchString(q.NATSURL()) {
		t.Errorf("NATSURL %q, want nats://<token>@127.0.0.1:<port>", q.NATSURL())
	}
	if got := WithoutCredentials(q.NATSURL()); strings.Contains(got, "@") {
		t.Errorf("WithoutCredentials = %q", got)
	}
}

func TestWaitsForAFunctionNotYetDeployed(t *testing.T) {
	fn := newRecorder(t, func(r received, w http.ResponseWriter) { fmt.Fprint(w, "late ok") })
	cb := newRecorder(t, nil)
	fns := newFnSet("late")
	cfg := testConfig(t, fn.srv.URL, fns)
	q, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close(context.Background()) })
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/async-function/late", strings.NewReader("x"))
	req.Header.Set("X-Callback-Url", cb.srv.URL)
	q.Handler().ServeHTTP(rec, req) // accepted before Start (as during a restart)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("enqueue: %d %s", rec.Code, rec.Body)
	}
	fns.mu.Lock()
	delete(fns.fns, "late") // the restarted platform has not deployed it yet
	fns.mu.Unlock()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "a retry while the function is missing", 20*time.Millisecond, func() bool {
		return testutil.ToFloat64(q.metrics.retried.WithLabelValues("late")) >= 1
	})
	if n := fn.count(); n != 0 {
		t.Fatalf("function invoked %d times while not deployed", n)
	}
	fns.mu.Lock()
	fns.fns["late"] = map[string]string{}
	fns.mu.Unlock()
	select {
	case r := <-cb.notify:
		if r.Header.Get("X-Function-Status") != "200" || string(r.Body) != "late ok" {
			t.Errorf("callback %s %q", r.Header.Get("X-Function-Status"), r.Body)
		}
	case <-time.After(eventually.SafetyNet):
		t.Fatalf("not delivered after the function was deployed (safety net %s)", eventually.SafetyNet)
	}
}

func TestIdleConsumerOfRemovedFunctionIsDeleted(t *testing.T) {
	fn := newRecorder(t, nil)
	fns := newFnSet("gone")
	q, srv := startQueue(t, testConfig(t, fn.srv.URL, fns))
	if resp, _ := post(t, srv.URL+"/async-function/gone", nil, nil); resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	eventually.True(t, "the invocation", 20*time.Millisecond, func() bool { return fn.count() == 1 })
	fns.mu.Lock()
	delete(fns.fns, "gone")
	fns.mu.Unlock()
	ctx := context.Background()
	eventually.True(t, "the consumer to be deleted", 20*time.Millisecond, func() bool {
		_, err := q.stream.Consumer(ctx, consumerName("gone"))
		return err != nil
	})
	q.mu.Lock()
	_, still := q.pools["gone"]
	q.mu.Unlock()
	if still {
		t.Errorf("workers of the removed function still running")
	}
}

func TestRecoversFromADeletedConsumer(t *testing.T) {
	fn := newRecorder(t, nil)
	q, srv := startQueue(t, testConfig(t, fn.srv.URL, newFnSet("f")))
	if resp, _ := post(t, srv.URL+"/async-function/f", nil, nil); resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	eventually.True(t, "the first invocation", 20*time.Millisecond, func() bool { return fn.count() == 1 })
	ctx := context.Background()
	if err := q.stream.DeleteConsumer(ctx, consumerName("f")); err != nil {
		t.Fatal(err)
	}
	// Published straight to the subject: no handler recreates the consumer.
	// (The first call may be delivered again too: its ack can meet the
	// deleted consumer, and at-least-once redelivers it. So the test waits
	// for this message by its body, not for a count.)
	if _, err := q.js.Publish(ctx, q.names.subject("f"), []byte(`{"callId":"direct","function":"f","method":"POST","body":"ZGlyZWN0"}`)); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "delivery through a recreated consumer", 20*time.Millisecond, func() bool {
		for _, r := range fn.all() {
			if string(r.Body) == "direct" {
				return true
			}
		}
		return false
	})
	t.Logf("%d invocations (the first one's redelivery counts when its ack met the deleted consumer)", fn.count())
}

func TestConsumerNamesAreDistinct(t *testing.T) {
	names := []string{"a.b", "a_b", "a_Db", "a__b", "A.b", "a-b", "fn.openfaas-fn", "fn_openfaas-fn"}
	seen := map[string]string{}
	for _, n := range names {
		if !ValidFunctionName(n) {
			t.Fatalf("%q should be valid", n)
		}
		c := consumerName(n)
		if strings.ContainsAny(c, ".*> ") {
			t.Errorf("consumer name %q (for %q) has a character NATS forbids", c, n)
		}
		if prev, dup := seen[c]; dup {
			t.Errorf("%q and %q share consumer %q", prev, n, c)
		}
		seen[c] = n
	}
}

func TestStoreIsExclusive(t *testing.T) {
	fn := newRecorder(t, nil)
	cfg := testConfig(t, fn.srv.URL, newFnSet("a"))
	startQueue(t, cfg)
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second queue on the same store: %v, want an in-use error", err)
	}
}

// A dead letter the dead-letter stream refuses (here: larger than its
// DLQMaxBytes) is retried without invoking the function again, at most
// DeadLetterRetries times; the message then stays in the work queue.
func TestDeadLetterWriteFailureNeverReinvokes(t *testing.T) {
	fn := newRecorder(t, func(r received, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	cfg := testConfig(t, fn.srv.URL, newFnSet("big"))
	cfg.MaxAttempts, cfg.DeadLetterRetries = 2, 3
	cfg.MaxBodyBytes, cfg.DLQMaxBytes = 3<<20, 1<<20
	q, srv := startQueue(t, cfg)
	body := bytes.Repeat([]byte("x"), 2<<20)
	if resp, msg := post(t, srv.URL+"/async-function/big", body, map[string]string{"X-Call-Id": "too-big-to-dead-letter"}); resp.StatusCode != 202 {
		t.Fatalf("status %d: %s", resp.StatusCode, msg)
	}
	eventually.True(t, "the last delivery's failed dead-letter write", 20*time.Millisecond, func() bool {
		return testutil.ToFloat64(q.metrics.deadLetterFailed.WithLabelValues("big")) == 1
	})
	if n := fn.count(); n != 2 {
		t.Errorf("function invoked %d times, want 2 (MaxAttempts; dead-letter retries do not invoke)", n)
	}
	info, err := q.stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("work queue holds %d messages, want the 1 that could not be dead-lettered", info.State.Msgs)
	}
}

// A submission repeated with the same X-Call-Id (a client retrying after a
// lost 202) is queued once. With one worker, calls run in order: by the
// time the next call runs, a second copy would have run.
func TestDuplicateCallIDQueuedOnce(t *testing.T) {
	fn := newRecorder(t, nil)
	cfg := testConfig(t, fn.srv.URL, newFnSet("f"))
	cfg.Concurrency = 1
	_, srv := startQueue(t, cfg)
	for _, id := range []string{"call-a", "call-a", "call-b"} {
		if resp, msg := post(t, srv.URL+"/async-function/f", []byte(id), map[string]string{"X-Call-Id": id}); resp.StatusCode != 202 {
			t.Fatalf("%s: status %d: %s", id, resp.StatusCode, msg)
		}
	}
	eventually.True(t, "call-b", 20*time.Millisecond, func() bool {
		for _, r := range fn.all() {
			if string(r.Body) == "call-b" {
				return true
			}
		}
		return false
	})
	a := 0
	for _, r := range fn.all() {
		if string(r.Body) == "call-a" {
			a++
		}
	}
	if a != 1 {
		t.Errorf("call-a invoked %d times, want 1", a)
	}
}

// A full work queue (QueueMaxMsgs) refuses new submissions with 429 and
// Retry-After; what it accepted is all invoked.
func TestFullQueueRefusesWith429(t *testing.T) {
	release := make(chan struct{})
	fn := newRecorder(t, func(r received, w http.ResponseWriter) { <-release })
	cfg := testConfig(t, fn.srv.URL, newFnSet("slow"))
	cfg.Concurrency, cfg.QueueMaxMsgs = 1, 2
	cfg.FunctionTimeout, cfg.AckWait = time.Minute, 2*time.Minute
	_, srv := startQueue(t, cfg)
	for i := range 2 {
		if resp, msg := post(t, srv.URL+"/async-function/slow", []byte("ok"), nil); resp.StatusCode != 202 {
			t.Fatalf("submission %d: status %d: %s", i, resp.StatusCode, msg)
		}
	}
	resp, msg := post(t, srv.URL+"/async-function/slow", []byte("one too many"), nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(msg, "full") {
		t.Errorf("third submission: status %d, Retry-After %q, body %q; want 429 with Retry-After saying the queue is full", resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}
	close(release)
	eventually.True(t, "both accepted calls", 20*time.Millisecond, func() bool { return fn.count() == 2 })
}
