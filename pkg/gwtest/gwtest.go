package gwtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/faas"
)

// Async is one recorded /async-function call.
type Async struct {
	Function, Callback string
	Body               []byte
	CallID             string // the X-Call-Id answered: call-1, call-2, … in order
}

// Gateway is the fake gateway.
type Gateway struct {
	*httptest.Server
	User, Password string
	// ChainKey is the content of the secret prescale-chain-key Env writes
	// (one key per line; set it before Env).
	ChainKey string

	mu        sync.Mutex
	functions map[string]types.FunctionStatus
	scales    []types.ScaleServiceRequest
	asyncs    []Async
	metrics   string
	calls     map[string]int
	inFlight  int // sync calls being answered now
	maxFlight int // the most answered at once
	reads     int // GET /system/functions and /system/function/{name}
	entries   int // function statuses those reads returned
	failLists int // GET /system/functions still to answer 502 (FailLists)
	// FailScale makes /system/scale-function answer 500.
	FailScale bool
	// CallDelay is how long a sync call takes to answer (set before use).
	CallDelay time.Duration
}

// New starts a fake gateway until the test ends.
func New(t testing.TB) *Gateway {
	g := &Gateway{User: "admin", Password: "s3cret", ChainKey: TestChainKey, functions: map[string]types.FunctionStatus{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system/functions", g.auth(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.failLists > 0 {
			g.failLists--
			http.Error(w, "provider unavailable", http.StatusBadGateway)
			return
		}
		g.reads++
		out := []types.FunctionStatus{}
		for _, f := range g.functions {
			out = append(out, f)
		}
		g.entries += len(out)
		_ = json.NewEncoder(w).Encode(out)
	}))
	mux.HandleFunc("GET /system/function/{name}", g.auth(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.reads++
		f, ok := g.functions[g.resolve(r)]
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		g.entries++
		_ = json.NewEncoder(w).Encode(f)
	}))
	mux.HandleFunc("POST /system/scale-function/{name}", g.auth(func(w http.ResponseWriter, r *http.Request) {
		var req types.ScaleServiceRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.FailScale {
			http.Error(w, "scale failed", http.StatusInternalServerError)
			return
		}
		f, ok := g.functions[g.resolve(r)]
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		g.scales = append(g.scales, req)
		f.Replicas = req.Replicas
		f.AvailableReplicas = req.Replicas
		g.functions[f.Name] = f
		w.WriteHeader(http.StatusAccepted)
	}))
	mux.HandleFunc("POST /async-function/{name}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		id := fmt.Sprintf("call-%d", len(g.asyncs)+1)
		g.asyncs = append(g.asyncs, Async{Function: r.PathValue("name"), Callback: r.Header.Get("X-Callback-Url"), Body: b, CallID: id})
		g.mu.Unlock()
		w.Header().Set("X-Call-Id", id)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("/function/{name}", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.calls[r.PathValue("name")]++
		g.inFlight++
		g.maxFlight = max(g.maxFlight, g.inFlight)
		g.mu.Unlock()
		time.Sleep(g.CallDelay) // the function's work
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, g.metrics)
	})
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

// resolve is the function a /system/…/{name} request addresses, as the
// providers read it: "name.openfaas-fn" (the default namespace, also as
// ?namespace=) is "name". Call with g.mu held.
func (g *Gateway) resolve(r *http.Request) string {
	name := r.PathValue("name")
	if fn, ns := faas.SplitName(name); ns == faas.DefaultNamespace {
		name = fn
	}
	if ns := r.URL.Query().Get("namespace"); ns != "" && ns != faas.DefaultNamespace {
		return name + "." + ns // not served: 404
	}
	return name
}

func (g *Gateway) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != g.User || p != g.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="Restricted"`)
			http.Error(w, "invalid credentials", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// SetFunction adds or replaces a function.
func (g *Gateway) SetFunction(name string, replicas uint64, labels map[string]string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := map[string]string{}
	for k, v := range labels {
		l[k] = v
	}
	g.functions[name] = types.FunctionStatus{Name: name, Namespace: "openfaas-fn", Replicas: replicas, AvailableReplicas: replicas, Labels: &l}
}

// Replicas returns a function's replicas.
func (g *Gateway) Replicas(name string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.functions[name].Replicas
}

// SetMetrics sets the /metrics body.
func (g *Gateway) SetMetrics(text string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.metrics = text
}

// Scales returns the scale requests received.
func (g *Gateway) Scales() []types.ScaleServiceRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]types.ScaleServiceRequest(nil), g.scales...)
}

// FailLists makes the next n function lists (GET /system/functions)
// answer 502, as a gateway whose provider is briefly down; they are not
// counted as reads.
func (g *Gateway) FailLists(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failLists = n
}

// StatusReads is how many function list and function status reads the
// gateway answered.
func (g *Gateway) StatusReads() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reads
}

// StatusEntries is how many function statuses those reads returned (a
// list returns every function of the namespace).
func (g *Gateway) StatusEntries() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.entries
}

// Asyncs returns the async invocations received.
func (g *Gateway) Asyncs() []Async {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Async(nil), g.asyncs...)
}

// Calls returns how many sync calls a function received.
func (g *Gateway) Calls(name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[name]
}

// MaxInFlight is the most sync calls the gateway answered at once.
func (g *Gateway) MaxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxFlight
}

// TestChainKey is the chain key a new fake gateway's Env provisions.
const TestChainKey = "gwtest-chain-key-0123456789abcdef"

// Keys is ChainKey parsed: what the functions under test sign and verify
// with.
func (g *Gateway) Keys(t testing.TB) chainauth.Keys {
	t.Helper()
	k, err := chainauth.ParseKeys(g.ChainKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Env points a function's environment at this gateway and natsURL, with
// the basic-auth secrets and the chain key (ChainKey, unless empty) written
// to a temporary secret_mount_path.
func (g *Gateway) Env(t *testing.T, natsURL string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"basic-auth-user": g.User, "basic-auth-password": g.Password + "\n"}
	if g.ChainKey != "" {
		files[chainauth.SecretName] = g.ChainKey + "\n"
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("secret_mount_path", dir)
	t.Setenv("gateway_url", g.URL)
	t.Setenv("NATS_URL", natsURL)
}

// Metrics renders gateway metrics text for one function.
func Metrics(function string, ok200, err500, started float64, replicas int, latencySum float64, buckets map[string]float64) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\n") }
	w("# TYPE gateway_function_invocation_total counter")
	w(`gateway_function_invocation_total{code="200",function_name="` + function + `"} ` + f(ok200))
	if err500 > 0 {
		w(`gateway_function_invocation_total{code="500",function_name="` + function + `"} ` + f(err500))
	}
	w("# TYPE gateway_function_invocation_started counter")
	w(`gateway_function_invocation_started{function_name="` + function + `"} ` + f(started))
	w("# TYPE gateway_service_count gauge")
	w(`gateway_service_count{function_name="` + function + `"} ` + f(float64(replicas)))
	w("# TYPE gateway_functions_seconds histogram")
	for _, le := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"} {
		w(`gateway_functions_seconds_bucket{code="200",function_name="` + function + `",le="` + le + `"} ` + f(buckets[le]))
	}
	w(`gateway_functions_seconds_bucket{code="200",function_name="` + function + `",le="+Inf"} ` + f(ok200+err500))
	w(`gateway_functions_seconds_sum{code="200",function_name="` + function + `"} ` + f(latencySum))
	w(`gateway_functions_seconds_count{code="200",function_name="` + function + `"} ` + f(ok200+err500))
	return b.String()
}

func f(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
