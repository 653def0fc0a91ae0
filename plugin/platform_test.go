package plugin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/prescale/prescale/plugin/api"
	"github.com/prescale/prescale/plugin/runtime"
)

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"random port", func(c *Config) { c.Port = 0 }, ""},
		{"port", func(c *Config) { c.Port = 70000 }, "port 70000 out of range (allowed 0..65535; 0 = random)"},
		{"data", func(c *Config) { c.DataDir = "" }, "data directory is empty"},
		{"body limit", func(c *Config) { c.BodyLimit = 10 }, "body limit 10 out of range (allowed 1024..1073741824 bytes)"},
		{"read timeout", func(c *Config) { c.ReadTimeout = time.Millisecond }, "read timeout 1ms out of range (allowed 1s..1h0m0s)"},
		{"write timeout", func(c *Config) { c.WriteTimeout = 2 * time.Hour }, "write timeout 2h0m0s out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// fakeEngine is an in-memory runtime for tests of the composition root
// without processes.
type fakeEngine struct {
	mu     sync.Mutex
	fns    map[string]runtime.Status
	closed bool
}

func (f *fakeEngine) Deploy(_ context.Context, s runtime.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fns[s.Name] = runtime.Status{Spec: s, Replicas: s.Replicas, AvailableReplicas: s.Replicas, CreatedAt: time.Now()}
	return nil
}
func (f *fakeEngine) Update(ctx context.Context, s runtime.Spec) error { return f.Deploy(ctx, s) }
func (f *fakeEngine) Remove(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.fns[name]; !ok {
		return runtime.ErrNotFound
	}
	delete(f.fns, name)
	return nil
}
func (f *fakeEngine) Scale(_ context.Context, name string, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.fns[name]
	if !ok {
		return runtime.ErrNotFound
	}
	st.Replicas = n
	f.fns[name] = st
	return nil
}
func (f *fakeEngine) Status(name string) (runtime.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.fns[name]
	if !ok {
		return runtime.Status{}, fmt.Errorf("%s: %w", name, runtime.ErrNotFound)
	}
	return st, nil
}
func (f *fakeEngine) List() []runtime.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []runtime.Status{}
	for _, st := range f.fns {
		out = append(out, st)
	}
	return out
}
func (f *fakeEngine) Invoke(w http.ResponseWriter, r *http.Request, name, path string) {
	fmt.Fprintf(w, "%s %s", name, path)
}
func (f *fakeEngine) Logs(context.Context, logs.Request) (<-chan logs.Message, error) {
	ch := make(chan logs.Message)
	close(ch)
	return ch, nil
}
func (f *fakeEngine) Describe(chan<- *prometheus.Desc) {}
func (f *fakeEngine) Collect(chan<- prometheus.Metric) {}
func (f *fakeEngine) Close(context.Context) error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func newFakePlatform(t *testing.T, cfg Config) (*Platform, *fakeEngine) {
	t.Helper()
	fe := &fakeEngine{fns: map[string]runtime.Status{}}
	p, err := newPlatform(cfg, nil, func(runtime.Config) (engine, error) { return fe, nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p, fe
}

func TestCredentialsCreatedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Port: 0, DataDir: dir}
	p1, _ := newFakePlatform(t, cfg)
	if !p1.PasswordCreated() || len(p1.Password()) < 32 || p1.User() != "admin" {
		t.Fatalf("first start: created=%v user=%q password %d chars", p1.PasswordCreated(), p1.User(), len(p1.Password()))
	}
	want := "echo -n " + p1.Password() + " | faas-cli login -u admin --password-stdin -g " + p1.URL()
	if p1.LoginCommand() != want {
		t.Errorf("login line %q, want %q", p1.LoginCommand(), want)
	}
	if err := p1.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{
		filepath.Join(dir, "basic-auth-password"), filepath.Join(dir, "basic-auth-user"),
		filepath.Join(dir, "secrets", "basic-auth-password"), filepath.Join(dir, "secrets", "basic-auth-user"),
		filepath.Join(dir, "secrets", "prescale-chain-key"), // the chain's key (stack.yml lists it)
	} {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "secrets", "basic-auth-password"))
	if string(b) != p1.Password() {
		t.Errorf("secret basic-auth-password does not hold the gateway password")
	}

	key, _ := os.ReadFile(filepath.Join(dir, "secrets", "prescale-chain-key"))
	p2, _ := newFakePlatform(t, cfg)
	if key2, _ := os.ReadFile(filepath.Join(dir, "secrets", "prescale-chain-key")); len(key) < 32 || string(key2) != string(key) {
		t.Errorf("chain key %d bytes, kept on restart %v", len(key), string(key2) == string(key))
	}
	if p2.PasswordCreated() || p2.Password() != p1.Password() {
		t.Errorf("restart: created=%v, password changed=%v; want the kept password", p2.PasswordCreated(), p2.Password() != p1.Password())
	}
	if p2.PasswordFile() != filepath.Join(dir, "basic-auth-password") {
		t.Errorf("password file %q", p2.PasswordFile())
	}
}

func TestPlatformServesAndCloses(t *testing.T) {
	p, fe := newFakePlatform(t, Config{Port: 0, DataDir: t.TempDir()})
	svc := &recordingService{}
	p.AddService("recorder", svc)
	p.Router().HandleFunc("/async-function/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !svc.started {
		t.Error("service not started")
	}
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, p.URL()+path, nil)
		if auth {
			req.SetBasicAuth(p.User(), p.Password())
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get("/healthz", false); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, body := get("/system/functions", false); code != 401 || body != "invalid credentials" {
		t.Errorf("unauthenticated list: %d %q", code, body)
	}
	if code, body := get("/system/functions", true); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("authenticated list: %d %q", code, body)
	}
	if code, body := get("/system/info", true); code != 200 || !strings.Contains(body, `"orchestration":"process"`) ||
		!strings.Contains(body, `"release":"`+Release+`"`) {
		t.Errorf("info: %d %q", code, body)
	}
	res, err := http.Post(p.URL()+"/async-function/x", "text/plain", nil)
	if err != nil || res.StatusCode != 202 {
		t.Errorf("route mounted by a service: %v %v", err, res)
	}
	p.SetNATSURL("nats://127.0.0.1:4999")
	env := p.functionEnv()
	if env["gateway_url"] != p.URL() || env["NATS_URL"] != "nats://127.0.0.1:4999" {
		t.Errorf("function env %v", env)
	}
	if code, body := get("/metrics", false); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d", code)
	}

	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !svc.closed || !fe.closed {
		t.Errorf("close: service closed=%v runtime closed=%v", svc.closed, fe.closed)
	}
	if _, err := http.Get(p.URL() + "/healthz"); err == nil {
		t.Error("gateway still serving after Close")
	}
}

type recordingService struct{ started, closed bool }

func (r *recordingService) Start(context.Context) error { r.started = true; return nil }
func (r *recordingService) Close(context.Context) error { r.closed = true; return nil }

var _ api.Runtime = (*fakeEngine)(nil)

func TestStartFailsOnBadStackAndCloseReleasesPort(t *testing.T) {
	dir := t.TempDir()
	stackFile := filepath.Join(dir, "stack.yml")
	stack := "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  broken:\n    lang: cobol\n    handler: ./broken\n    image: test/broken:latest\n"
	if err := os.WriteFile(stackFile, []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	p, fe := newFakePlatform(t, Config{Port: 0, DataDir: filepath.Join(dir, "data"), StackFile: stackFile, Deploy: true})
	svc := &recordingService{}
	p.AddService("never-started", svc)
	err := p.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "broken") || !strings.Contains(err.Error(), "cobol") {
		t.Fatalf("Start error %v, want one naming the function and its lang", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if svc.started || !svc.closed {
		t.Errorf("service started=%v closed=%v; want a service added but never started to be closed (it may hold resources from its constructor)", svc.started, svc.closed)
	}
	if !fe.closed {
		t.Error("runtime not closed")
	}
	if _, err := http.Get(p.URL() + "/healthz"); err == nil {
		t.Error("listener still open after Close")
	}
}
