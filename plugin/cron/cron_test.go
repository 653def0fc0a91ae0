package cron

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/connector-sdk/types"
	ftypes "github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/prescale/prescale/internal/clock"
	"github.com/prescale/prescale/pkg/testlog"
)

// t0 is the fake clock's start: a whole hour, in UTC (the tests' Location).
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// waitGuard only bounds a wait for an event that should come at once: a
// test that reaches it fails, it never paces one.
const waitGuard = 30 * time.Second

// wake tells the one goroutine waiting on ch that state changed, without
// blocking: a token already in ch (capacity 1) wakes it just as well, for
// the waiter re-checks the state when woken.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// waitUntil returns once cond holds, re-checking it each time ch wakes it;
// it fails the test if that takes waitGuard.
func waitUntil(t *testing.T, ch <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	guard := time.NewTimer(waitGuard)
	defer guard.Stop()
	for !cond() {
		select {
		case <-ch:
		case <-guard.C:
			t.Fatalf("still waiting for %s after %v", what, waitGuard)
		}
	}
}

// fakeGateway is the OpenFaaS gateway seam: /system/namespaces,
// /system/functions and /function/<name>, with basic auth on /system/*.
type fakeGateway struct {
	srv        *httptest.Server
	mu         sync.Mutex
	namespaces []string
	fns        map[string]map[string]string // name → annotations
	listStatus int                          // non-zero: /system/functions answers this
	calls      []call
	fnStatus   map[string]int
	gates      map[string]chan struct{} // a call to the path is answered once its gate is closed
	arrived    chan struct{}            // woken on each recorded call
}

type call struct {
	Method, Path string
	Header       http.Header
	BodyLen      int
}

const ns = "openfaas-fn"

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{namespaces: []string{ns}, fns: map[string]map[string]string{}, fnStatus: map[string]int{},
		gates: map[string]chan struct{}{}, arrived: make(chan struct{}, 1)}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/function/") || strings.HasPrefix(r.URL.Path, "/async-function/") {
		g.invoked(w, r)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/system/") {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "secret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	switch {
	case r.URL.Path == "/system/namespaces":
		json.NewEncoder(w).Encode(g.namespaces)
	case r.URL.Path == "/system/functions":
		if g.listStatus != 0 {
			http.Error(w, "listing broken", g.listStatus)
			return
		}
		if r.URL.Query().Get("namespace") != ns {
			json.NewEncoder(w).Encode([]ftypes.FunctionStatus{})
			return
		}
		out := []ftypes.FunctionStatus{}
		for name, ann := range g.fns {
			a := ann
			out = append(out, ftypes.FunctionStatus{Name: name, Namespace: ns, Annotations: &a})
		}
		json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, r)
	}
}

// invoked records a function call, then holds it while its path's gate is
// open (without g.mu: other calls go on).
func (g *fakeGateway) invoked(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.calls = append(g.calls, call{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), BodyLen: len(body)})
	status, gate := g.fnStatus[r.URL.Path], g.gates[r.URL.Path]
	g.mu.Unlock()
	wake(g.arrived)
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
	}
}

func (g *fakeGateway) deploy(name string, ann map[string]string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fns[name] = ann
}

func (g *fakeGateway) remove(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.fns, name)
}

func (g *fakeGateway) callsTo(path string) []call {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []call
	for _, c := range g.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// waitCalls waits until path has had n calls.
func (g *fakeGateway) waitCalls(t *testing.T, path string, n int) {
	t.Helper()
	waitUntil(t, g.arrived, fmt.Sprintf("%d calls to %s", n, path), func() bool { return len(g.callsTo(path)) >= n })
}

// newConnector builds a connector on a fake clock at t0, in UTC, that
// rebuilds every hour unless mutate says otherwise; Cleanup closes it.
func newConnector(t *testing.T, g *fakeGateway, mutate func(*Config)) (*Connector, *clock.Fake, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	clk := clock.NewFake(t0)
	cfg := Config{
		GatewayURL:      g.srv.URL,
		Username:        "admin",
		Password:        "secret",
		RebuildInterval: time.Hour,
		Location:        time.UTC,
		Logger:          log.New(logs, "", 0),
		Clock:           clk,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c, clk, logs
}

// start starts c and waits until its rebuild loop has armed its timer
// (RebuildInterval to go), so that the timers a test steps are fixed.
func start(t *testing.T, ctx context.Context, c *Connector, clk *clock.Fake) {
	t.Helper()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitArmed(t, clk, c.cfg.RebuildInterval)
}

// waitArmed waits until a timer of clk has exactly d to go.
func waitArmed(t *testing.T, clk *clock.Fake, d time.Duration) {
	t.Helper()
	waitTimers(t, clk, clock.Has(d))
}

// waitTimers waits until cond holds for the armed timers of clk.
func waitTimers(t *testing.T, clk *clock.Fake, cond func([]time.Duration) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitGuard)
	defer cancel()
	if err := clk.BlockUntil(ctx, cond); err != nil {
		t.Fatal(err)
	}
}

// goAdvance runs clk.Advance(d) on a goroutine of its own; the channel
// closes when it returns.
func goAdvance(clk *clock.Fake, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		clk.Advance(d)
	}()
	return done
}

// advance is clk.Advance(d), failing the test if the timers' callbacks
// block it for waitGuard (a callback that waits on an invocation).
func advance(t *testing.T, clk *clock.Fake, d time.Duration) {
	t.Helper()
	waitAdvanced(t, goAdvance(clk, d))
}

func waitAdvanced(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(waitGuard):
		t.Fatalf("Advance still blocked after %v", waitGuard)
	}
}

// wantPending checks the armed timers of clk, sorted by time to go.
func wantPending(t *testing.T, clk *clock.Fake, want ...time.Duration) {
	t.Helper()
	if got := clk.Pending(); !slices.Equal(got, want) {
		t.Fatalf("armed timers %v, want %v", got, want)
	}
}

// wantFires checks the fires metric of fn: it counts when the timer fires,
// not when the call arrives, so a test reads it right after Advance.
func wantFires(t *testing.T, c *Connector, fn string, want int) {
	t.Helper()
	if n := int(testutil.ToFloat64(c.fires.WithLabelValues(fn + "." + ns))); n != want {
		t.Fatalf("at t0+%v: %s fired %d times, want %d", c.clock.Now().Sub(t0), fn, n, want)
	}
}

func cronAnn(schedule string) map[string]string {
	return map[string]string{TopicAnnotation: Topic, ScheduleAnnotation: schedule}
}

func TestEveryTwoSecondsFiresOncePerStepThenStopsWhenRemoved(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("tick", cronAnn("@every 2s"))
	g.deploy("bad", cronAnn("every two seconds"))
	g.deploy("hourly", cronAnn("0 * * * *"))
	g.deploy("plain", map[string]string{ScheduleAnnotation: "@every 1s"}) // no topic: ignored
	const rebuild = 11 * time.Second
	c, clk, logs := newConnector(t, g, func(cfg *Config) { cfg.RebuildInterval = rebuild })
	start(t, context.Background(), c, clk)
	wantPending(t, clk, 2*time.Second, rebuild, time.Hour) // tick, rebuild, hourly: bad and plain armed nothing

	path := "/function/tick." + ns
	for i := 1; i <= 5; i++ {
		clk.Advance(time.Second)
		wantFires(t, c, "tick", i-1)
		clk.Advance(time.Second)
		wantFires(t, c, "tick", i)
		g.waitCalls(t, path, i)
	}
	fired := g.callsTo(path)
	if len(fired) != 5 {
		t.Fatalf("%d calls to %s for 5 fires", len(fired), path)
	}
	for _, f := range fired {
		if f.Method != http.MethodPost || f.BodyLen != 0 || f.Header.Get("X-Topic") != Topic || f.Header.Get("X-Connector") != ConnectorName {
			t.Errorf("call = %s body %d X-Topic %q X-Connector %q; want POST, empty body, cron-function, cron-connector",
				f.Method, f.BodyLen, f.Header.Get("X-Topic"), f.Header.Get("X-Connector"))
		}
		if f.Header.Get("Authorization") != "" {
			t.Errorf("function call carries the gateway credentials")
		}
	}
	wantFires(t, c, "plain", 0)
	if !strings.Contains(logs.String(), "bad."+ns) || !strings.Contains(logs.String(), "every two seconds") {
		t.Errorf("bad schedule not logged with the function name; logs:\n%s", logs)
	}
	want := []Job{{"hourly", ns, "0 * * * *"}, {"tick", ns, "@every 2s"}}
	if got := c.Jobs(); !slices.Equal(got, want) {
		t.Errorf("jobs = %v, want %v", got, want)
	}

	// Removed at the gateway: the rebuild at 11s unschedules tick, whose
	// next time (12s) was still to come.
	g.remove("tick")
	clk.Advance(time.Second)
	waitArmed(t, clk, rebuild) // the rebuild has run and armed the next
	if got, want := c.Jobs(), []Job{{"hourly", ns, "0 * * * *"}}; !slices.Equal(got, want) {
		t.Fatalf("jobs after removal = %v, want %v", got, want)
	}
	wantPending(t, clk, rebuild, time.Hour-11*time.Second) // tick's timer is gone
	if !strings.Contains(logs.String(), `function tick.`+ns+`: unscheduled "@every 2s"`) {
		t.Errorf("removal not logged; logs:\n%s", logs)
	}

	// The hourly job fires at the hour, once per hour; tick never again.
	clk.Advance(time.Hour - 11*time.Second)
	wantFires(t, c, "hourly", 1)
	clk.Advance(time.Hour - time.Second)
	wantFires(t, c, "hourly", 1)
	clk.Advance(time.Second)
	wantFires(t, c, "hourly", 2)
	g.waitCalls(t, "/function/hourly."+ns, 2)
	wantFires(t, c, "tick", 5)
}

// A timer that falls due while a rebuild removes its job (its callback
// waits for the lock the rebuild holds) does not fire the removed job.
func TestJobRemovedAsItsTimerFiresDoesNotFire(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("a", cronAnn("@every 2s"))
	c, clk, _ := newConnector(t, g, nil)
	start(t, context.Background(), c, clk)
	c.mu.Lock()
	locked := true
	defer func() {
		if locked {
			c.mu.Unlock()
		}
	}()
	done := goAdvance(clk, 2*time.Second)
	waitTimers(t, clk, func(p []time.Duration) bool { return len(p) == 1 }) // a's timer has fired
	c.applyLocked(nil, nil)                                                 // what Sync does once "a" is gone
	locked = false
	c.mu.Unlock()
	waitAdvanced(t, done)
	wantFires(t, c, "a", 0)
	wantPending(t, clk, time.Hour-2*time.Second) // and is not re-armed: only the rebuild is
}

// setBack is a clock whose Now reads back by a settable amount, as a wall
// clock that NTP steps back; its timers are the fake's.
type setBack struct {
	*clock.Fake
	mu sync.Mutex
	by time.Duration
}

func (s *setBack) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Fake.Now().Add(-s.by)
}

func (s *setBack) set(by time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.by = by
}

// A timer that fires when the clock reads before its time (the clock was
// set back) does not fire that time again.
func TestClockSetBackDoesNotRefire(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("hourly", cronAnn("0 * * * *"))
	var sb *setBack
	c, clk, _ := newConnector(t, g, func(cfg *Config) {
		sb = &setBack{Fake: cfg.Clock.(*clock.Fake)}
		cfg.Clock = sb
	})
	start(t, context.Background(), c, clk)
	sb.set(time.Second) // at 01:00 the connector reads 00:59:59
	clk.Advance(time.Hour)
	clk.Advance(2 * time.Second)
	wantFires(t, c, "hourly", 1)
}

func TestTwoJobsFireOnTheirOwnSchedules(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("two", cronAnn("@every 2s"))
	g.deploy("three", cronAnn("@every 3s"))
	c, clk, _ := newConnector(t, g, nil)
	start(t, context.Background(), c, clk)
	for s := 1; s <= 12; s++ {
		clk.Advance(time.Second)
		wantFires(t, c, "two", s/2)
		wantFires(t, c, "three", s/3)
	}
	g.waitCalls(t, "/function/two."+ns, 6)
	g.waitCalls(t, "/function/three."+ns, 4)
}

func TestScheduleLocation(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("local", cronAnn("30 2 * * *"))          // in Location, +05:00: 21:30 UTC
	g.deploy("utc", cronAnn("CRON_TZ=UTC 0 3 * * *")) // its own zone wins
	c, clk, _ := newConnector(t, g, func(cfg *Config) { cfg.Location = time.FixedZone("UTC+5", 5*3600) })
	start(t, context.Background(), c, clk)
	wantPending(t, clk, time.Hour, 3*time.Hour, 21*time.Hour+30*time.Minute)
	clk.Advance(3 * time.Hour)
	wantFires(t, c, "utc", 1)
	wantFires(t, c, "local", 0)
	clk.Advance(18*time.Hour + 30*time.Minute)
	wantFires(t, c, "utc", 1)
	wantFires(t, c, "local", 1)
}

func TestScheduleChangeTakesEffect(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("a", cronAnn("@every 2s"))
	c, clk, logs := newConnector(t, g, nil)
	start(t, context.Background(), c, clk)
	clk.Advance(2 * time.Second)
	wantFires(t, c, "a", 1)
	g.deploy("a", cronAnn("@every 5s"))
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantPending(t, clk, 5*time.Second, time.Hour-2*time.Second) // the 2s timer is gone
	clk.Advance(4 * time.Second)
	wantFires(t, c, "a", 1)
	clk.Advance(time.Second)
	wantFires(t, c, "a", 2)
	if l := logs.String(); !strings.Contains(l, `unscheduled "@every 2s"`) || !strings.Contains(l, `scheduled "@every 5s"`) {
		t.Errorf("change not logged; logs:\n%s", l)
	}
}

func TestSlowInvocationDelaysNoOtherJob(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("slow", cronAnn("@every 2s"))
	g.deploy("fast", cronAnn("@every 3s"))
	slowPath := "/function/slow." + ns
	gate := make(chan struct{})
	g.gates[slowPath] = gate
	defer close(gate) // before Cleanup closes the connector and the server
	sub := &subscriber{done: make(chan struct{}, 1)}
	c, clk, _ := newConnector(t, g, func(cfg *Config) { cfg.Subscriber = sub })
	start(t, context.Background(), c, clk)

	advance(t, clk, 2*time.Second)
	g.waitCalls(t, slowPath, 1)   // slow's first call is held at the gateway
	advance(t, clk, time.Second)  // fires fast, with slow held
	sub.waitFor(t, "fast."+ns, 1) // fast's call completed meanwhile
	advance(t, clk, time.Second)
	wantFires(t, c, "slow", 2)
	g.waitCalls(t, slowPath, 2)
	if n := sub.count("slow." + ns); n != 0 {
		t.Fatalf("%d slow calls completed while held", n)
	}
}

func TestStartCtxEndStopsSchedules(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("a", cronAnn("@every 2s"))
	c, clk, _ := newConnector(t, g, nil)
	ctx, cancel := context.WithCancel(context.Background())
	start(t, ctx, c, clk)
	clk.Advance(2 * time.Second)
	wantFires(t, c, "a", 1)
	cancel()
	waitTimers(t, clk, func(p []time.Duration) bool { return len(p) == 0 }) // the loop has stopped them
	clk.Advance(time.Hour)
	wantFires(t, c, "a", 1)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantPending(t, clk) // a Sync after the end arms nothing
}

func TestSyncReconciles(t *testing.T) {
	g := newFakeGateway(t)
	c, clk, _ := newConnector(t, g, nil)
	ctx := context.Background()
	steps := []struct {
		name    string
		change  func()
		wantErr bool
		want    []Job
	}{
		{"deploy", func() { g.deploy("a", cronAnn("*/5 * * * *")) }, false, []Job{{"a", ns, "*/5 * * * *"}}},
		{"schedule change replaces the job", func() { g.deploy("a", cronAnn("@hourly")) }, false, []Job{{"a", ns, "@hourly"}}},
		{"topic changed away", func() { g.deploy("a", map[string]string{TopicAnnotation: "other", ScheduleAnnotation: "@hourly"}) }, false, nil},
		{"redeploy with tz", func() { g.deploy("a", cronAnn("CRON_TZ=UTC 0 3 * * *")) }, false, []Job{{"a", ns, "CRON_TZ=UTC 0 3 * * *"}}},
		{"listing fails: jobs kept", func() { g.mu.Lock(); g.listStatus = 500; g.mu.Unlock() }, true, []Job{{"a", ns, "CRON_TZ=UTC 0 3 * * *"}}},
		{"listing back", func() { g.mu.Lock(); g.listStatus = 0; g.mu.Unlock() }, false, []Job{{"a", ns, "CRON_TZ=UTC 0 3 * * *"}}},
		{"six fields rejected", func() { g.deploy("b", cronAnn("*/5 * * * * *")) }, false, []Job{{"a", ns, "CRON_TZ=UTC 0 3 * * *"}}},
		{"no namespaces: nothing scheduled", func() { g.mu.Lock(); g.namespaces = []string{}; g.mu.Unlock() }, false, []Job{}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.change()
			err := c.Sync(ctx)
			if (err != nil) != s.wantErr {
				t.Fatalf("Sync error = %v, want error %v", err, s.wantErr)
			}
			wantPending(t, clk) // not started: nothing armed
			got := c.Jobs()
			if len(got) != len(s.want) {
				t.Fatalf("jobs = %v, want %v", got, s.want)
			}
			for i := range got {
				if got[i] != s.want[i] {
					t.Fatalf("jobs = %v, want %v", got, s.want)
				}
			}
		})
	}
}

func TestSyncBeforeStartFiresOnlyAfterStart(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("a", cronAnn("@every 2s"))
	c, clk, logs := newConnector(t, g, nil)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	wantFires(t, c, "a", 0)
	g.mu.Lock()
	g.listStatus = 500 // Start's own listing fails: the job it had is what it arms
	g.mu.Unlock()
	start(t, context.Background(), c, clk)
	if !strings.Contains(logs.String(), "listing broken") {
		t.Errorf("failed first listing not logged; logs:\n%s", logs)
	}
	wantPending(t, clk, 2*time.Second, time.Hour)
	clk.Advance(2 * time.Second)
	wantFires(t, c, "a", 1)
}

func TestNeverDueScheduleIsKeptUnarmed(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("feb30", cronAnn("0 0 30 2 *"))
	c, clk, _ := newConnector(t, g, nil)
	start(t, context.Background(), c, clk)
	if got, want := c.Jobs(), []Job{{"feb30", ns, "0 0 30 2 *"}}; !slices.Equal(got, want) {
		t.Errorf("jobs = %v, want %v", got, want)
	}
	wantPending(t, clk, time.Hour) // the rebuild only
}

func TestWrongCredentialsKeepJobs(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("a", cronAnn("@hourly"))
	c, _, _ := newConnector(t, g, func(c *Config) { c.Password = "wrong" })
	err := c.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "authorization") {
		t.Fatalf("Sync with wrong password: %v, want an authorization error", err)
	}
}

type subscriber struct {
	mu   sync.Mutex
	got  []types.InvokerResponse
	done chan struct{} // woken on each response
}

func (s *subscriber) Response(r types.InvokerResponse) {
	s.mu.Lock()
	s.got = append(s.got, r)
	s.mu.Unlock()
	wake(s.done)
}

func (s *subscriber) count(fn string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.got {
		if r.Function == fn {
			n++
		}
	}
	return n
}

// waitFor waits until fn has had n responses.
func (s *subscriber) waitFor(t *testing.T, fn string, n int) {
	t.Helper()
	waitUntil(t, s.done, fmt.Sprintf("%d responses of %s", n, fn), func() bool { return s.count(fn) >= n })
}

func TestFire(t *testing.T) {
	g := newFakeGateway(t)
	g.fnStatus["/function/broken."+ns] = 500
	for _, c := range []struct {
		name        string
		async       bool
		gateway     string
		job         Job
		wantPath    string
		wantFailure bool
	}{
		{"sync ok", false, "", Job{"ok", ns, "@hourly"}, "/function/ok." + ns, false},
		{"sync 500 is a failure", false, "", Job{"broken", ns, "@hourly"}, "/function/broken." + ns, true},
		{"async route", true, "", Job{"ok", ns, "@hourly"}, "/async-function/ok." + ns, false},
		{"no namespace", false, "", Job{"bare", "", "@hourly"}, "/function/bare", false},
		{"gateway down", false, "http://127.0.0.1:1", Job{"ok", ns, "@hourly"}, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := &subscriber{}
			conn, _, _ := newConnector(t, g, func(cfg *Config) {
				cfg.Async = c.async
				cfg.Subscriber = sub
				if c.gateway != "" {
					cfg.GatewayURL = c.gateway
				}
			})
			before := len(g.callsTo(c.wantPath))
			conn.start(c.job)
			conn.invokes.Wait()
			if c.wantPath != "" && len(g.callsTo(c.wantPath)) != before+1 {
				t.Errorf("no call to %s", c.wantPath)
			}
			fn := c.job.target()
			if v := testutil.ToFloat64(conn.failures.WithLabelValues(fn)); (v == 1) != c.wantFailure {
				t.Errorf("failures = %v, want failure %v", v, c.wantFailure)
			}
			if v := testutil.ToFloat64(conn.fires.WithLabelValues(fn)); v != 1 {
				t.Errorf("fires = %v, want 1", v)
			}
			if len(sub.got) != 1 || (sub.got[0].Error != nil) != c.wantFailure || sub.got[0].Function != fn || sub.got[0].Topic != Topic {
				t.Errorf("subscriber got %+v", sub.got)
			}
			reg := prometheus.NewPedanticRegistry()
			if err := reg.Register(conn); err != nil {
				t.Errorf("register collector: %v", err)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{GatewayURL: "http://127.0.0.1:8080"}, ""},
		{"no gateway", Config{}, "GatewayURL"},
		{"relative gateway", Config{GatewayURL: "gateway:8080"}, "GatewayURL"},
		{"interval", Config{GatewayURL: "http://x", RebuildInterval: time.Nanosecond}, "RebuildInterval 1ns: must be 10ms..1h0m0s"},
		{"half credentials", Config{GatewayURL: "http://x", Username: "admin"}, "set both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg)
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}
