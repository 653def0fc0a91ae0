package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/logs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/prescale/prescale/plugin/gwmetrics"
	"github.com/prescale/prescale/plugin/runtime"
	"github.com/prescale/prescale/plugin/secrets"
)

// fakeRuntime implements Runtime in memory. Invoke answers with the status
// given in the X-Want-Status request header (default 200) and echoes
// "name path method body".
type fakeRuntime struct {
	mu    sync.Mutex
	fns   map[string]runtime.Status
	specs []runtime.Spec // every Deploy/Update, in order
	logs  []logs.Message
}

func newFakeRuntime() *fakeRuntime { return &fakeRuntime{fns: map[string]runtime.Status{}} }

func (f *fakeRuntime) Deploy(_ context.Context, s runtime.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.fns[s.Name]; ok {
		return fmt.Errorf("deploy %s: already exists", s.Name)
	}
	f.specs = append(f.specs, s)
	f.fns[s.Name] = runtime.Status{Spec: s, Replicas: s.Replicas, AvailableReplicas: s.Replicas,
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return nil
}

func (f *fakeRuntime) Update(_ context.Context, s runtime.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.fns[s.Name]
	if !ok {
		return fmt.Errorf("update %s: %w", s.Name, ErrNotFound)
	}
	f.specs = append(f.specs, s)
	st.Spec, st.Replicas, st.AvailableReplicas = s, s.Replicas, s.Replicas
	f.fns[s.Name] = st
	return nil
}

func (f *fakeRuntime) Remove(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.fns[name]; !ok {
		return fmt.Errorf("remove %s: %w", name, ErrNotFound)
	}
	delete(f.fns, name)
	return nil
}

func (f *fakeRuntime) Scale(_ context.Context, name string, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.fns[name]
	if !ok {
		return fmt.Errorf("scale %s: %w", name, ErrNotFound)
	}
	st.Replicas, st.AvailableReplicas = n, n
	f.fns[name] = st
	return nil
}

// Status accepts "fn" and "fn.openfaas-fn", as the real runtime does.
func (f *fakeRuntime) Status(name string) (runtime.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.fns[name]
	if !ok {
		st, ok = f.fns[strings.TrimSuffix(name, ".openfaas-fn")]
	}
	if !ok {
		return runtime.Status{}, fmt.Errorf("status %s: %w", name, ErrNotFound)
	}
	return st, nil
}

func (f *fakeRuntime) List() []runtime.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []runtime.Status{}
	for _, st := range f.fns {
		out = append(out, st)
	}
	return out
}

func (f *fakeRuntime) Invoke(w http.ResponseWriter, r *http.Request, name, path string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	code := http.StatusOK
	if v := r.Header.Get("X-Want-Status"); v != "" {
		code, _ = strconv.Atoi(v)
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, "%s %s %s %s", name, path, r.Method, body)
}

func (f *fakeRuntime) Logs(ctx context.Context, req logs.Request) (<-chan logs.Message, error) {
	f.mu.Lock()
	msgs := append([]logs.Message(nil), f.logs...)
	f.mu.Unlock()
	ch := make(chan logs.Message)
	go func() {
		defer close(ch)
		for _, m := range msgs {
			if m.Name != req.Name {
				continue
			}
			select {
			case ch <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (f *fakeRuntime) lastSpec(t *testing.T) runtime.Spec {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.specs) == 0 {
		t.Fatal("runtime got no spec")
	}
	return f.specs[len(f.specs)-1]
}

// fakeImages implements Images from a map.
type fakeImages map[string]Artifact

func (f fakeImages) Lookup(image string) (Artifact, bool) { a, ok := f[image]; return a, ok }
func (f fakeImages) Known() []string {
	out := []string{}
	for k := range f {
		out = append(out, k)
	}
	return out
}

const testPassword = "s3cret-pw"

type harness struct {
	rt      *fakeRuntime
	store   *secrets.Store
	metrics *gwmetrics.Metrics
	srv     *httptest.Server
	dir     string
}

// newHarness serves the API, with /metrics on its own registry, on 127.0.0.1:0.
func newHarness(t testing.TB, mutate ...func(*Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	store, err := secrets.Open(filepath.Join(dir, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	rt := newFakeRuntime()
	m := gwmetrics.New("", func() map[string]int {
		out := map[string]int{}
		for _, st := range rt.List() {
			out[st.Spec.Name] = st.Replicas
		}
		return out
	})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Runtime: rt,
		Images: fakeImages{
			"prescale/hello-python:latest": {Dir: "/build/hello-python", Command: []string{"/usr/bin/python3", "index.py"}, Mode: runtime.ModeFork,
				Env: map[string]string{"template_default": "1", "fprocess": "python3 index.py"}},
			"prescale/scaler:latest": {Dir: "/build/scaler", Command: []string{"./handler"}, Mode: runtime.ModeHTTP},
		},
		Secrets:     store,
		Metrics:     m,
		Credentials: &auth.BasicAuthCredentials{User: "admin", Password: testPassword},
		BodyLimit:   1024,
		Env: func() map[string]string {
			return map[string]string{"gateway_url": "http://127.0.0.1:9999/", "NATS_URL": "nats://127.0.0.1:4222"}
		},
		Version: typesVersion(),
	}
	for _, f := range mutate {
		f(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	a.Register(r)
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &harness{rt: rt, store: store, metrics: m, srv: srv, dir: dir}
}

// do sends a request with the admin credentials and returns status and body.
func (h *harness) do(t testing.TB, method, path, body string) (int, string) {
	t.Helper()
	return h.doAuth(t, method, path, body, true)
}

func (h *harness) doAuth(t testing.TB, method, path, body string, withAuth bool) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if withAuth {
		req.SetBasicAuth("admin", testPassword)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// deploy deploys hello-python (or fn) with extra JSON fields and wants 202.
func (h *harness) deploy(t testing.TB, fn, extra string) {
	t.Helper()
	body := `{"service":"` + fn + `","image":"prescale/hello-python:latest"` + extra + `}`
	if code, out := h.do(t, http.MethodPost, "/system/functions", body); code != http.StatusAccepted {
		t.Fatalf("deploy %s: %d %s", fn, code, out)
	}
}
