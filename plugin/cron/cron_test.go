package cron

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/connector-sdk/types"
	ftypes "github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

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
}

type call struct {
	Method, Path string
	Header       http.Header
	BodyLen      int
	At           time.Time
}

const ns = "openfaas-fn"

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{namespaces: []string{ns}, fns: map[string]map[string]string{}, fnStatus: map[string]int{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
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
	case strings.HasPrefix(r.URL.Path, "/function/"), strings.HasPrefix(r.URL.Path, "/async-function/"):
		body, _ := io.ReadAll(r.Body)
		g.calls = append(g.calls, call{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), BodyLen: len(body), At: time.Now()})
		if s := g.fnStatus[r.URL.Path]; s != 0 {
			w.WriteHeader(s)
		}
	default:
		http.NotFound(w, r)
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

// logBuf collects log lines.
type logBuf struct {
	mu sync.Mutex
	sb strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.String()
}

func newConnector(t *testing.T, g *fakeGateway, mutate func(*Config)) (*Connector, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	cfg := Config{
		GatewayURL:      g.srv.URL,
		Username:        "admin",
		Password:        "secret",
		RebuildInterval: 500 * time.Millisecond,
		Logger:          log.New(logs, "", 0),
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
	return c, logs
}

func cronAnn(schedule string) map[string]string {
	return map[string]string{TopicAnnotation: Topic, ScheduleAnnotation: schedule}
}

func TestEveryTwoSecondsFiresThenStopsWhenRemoved(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("tick", cronAnn("@every 2s"))
	g.deploy("bad", cronAnn("every two seconds"))
	g.deploy("hourly", cronAnn("0 * * * *"))
	g.deploy("plain", map[string]string{ScheduleAnnotation: "@every 1s"}) // no topic: ignored
	c, logs := newConnector(t, g, nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	path := "/function/tick." + ns
	fired := g.callsTo(path)
	if n := len(fired); n < 4 || n > 6 {
		t.Fatalf("tick fired %d times in 10s, want 5±1", n)
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
	if n := len(g.callsTo("/function/plain." + ns)); n != 0 {
		t.Errorf("function without the cron topic fired %d times", n)
	}
	if !strings.Contains(logs.String(), "bad."+ns) || !strings.Contains(logs.String(), "every two seconds") {
		t.Errorf("bad schedule not logged with the function name; logs:\n%s", logs)
	}
	want := []Job{{"hourly", ns, "0 * * * *"}, {"tick", ns, "@every 2s"}}
	if got := c.Jobs(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("jobs = %v, want %v", got, want)
	}
	if v := testutil.ToFloat64(c.fires.WithLabelValues("tick." + ns)); int(v) < len(fired) {
		t.Errorf("fires metric %v < %d calls", v, len(fired))
	}

	g.remove("tick")
	time.Sleep(1200 * time.Millisecond) // > 2 rebuild intervals
	before := len(g.callsTo(path))
	time.Sleep(3 * time.Second)
	if after := len(g.callsTo(path)); after != before {
		t.Errorf("tick fired %d more times after removal", after-before)
	}
}

func TestSyncReconciles(t *testing.T) {
	g := newFakeGateway(t)
	c, _ := newConnector(t, g, nil)
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

func TestWrongCredentialsKeepJobs(t *testing.T) {
	g := newFakeGateway(t)
	g.deploy("a", cronAnn("@hourly"))
	c, _ := newConnector(t, g, func(c *Config) { c.Password = "wrong" })
	err := c.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "authorization") {
		t.Fatalf("Sync with wrong password: %v, want an authorization error", err)
	}
}

type subscriber struct {
	mu  sync.Mutex
	got []types.InvokerResponse
}

func (s *subscriber) Response(r types.InvokerResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, r)
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
			conn, _ := newConnector(t, g, func(cfg *Config) {
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
