package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/internal/testenv"
)

// The live A/B itself takes minutes (two platform runs); `make bench-live`
// runs it. Here: bad input is refused before anything starts.
func TestBenchLiveRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"bench-live", "--after", "0"},
		{"bench-live", "--speed", "0"},
		{"bench-live", "--peak", "-1"},
		{"bench-live", "--startup-delay", "lognormal:2s,0.3,1h"},
		{"bench-live", "--policies", "hpa,nope"},
		{"bench-live", "--trace", "/nonexistent.csv"},
		{"bench-live", "--trace", "/nonexistent.csv", "extra"},
		{"bench-live", "--zero-speed", "100"}, // a trace minute in 0.6 s: finer than the 2 s period
		{"bench-live", "--zero-period", "0"},
		{"bench-live", "--windows", "burst,nope"},
		{"bench-live", "--zero-policies", "prescale,hpa"}, // hpa has no zero mode here
		{"bench-live", "--prewarm-lead", "-1s"},
		{"bench-live", "--zero-budget", "5"},
		{"bench-live", "--plan", "--zero-budget", "10", "--trace", testenv.Trace(t, "invitro_azure2021_first998_invocations.csv")}, // no timer fits in 10 s
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code == 0 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

func TestBurstWindowAndScale(t *testing.T) {
	w, err := burstWindow([]float64{5, 6, 5, 30, 8, 7, 9, 50}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	// rises: 1, -1, 25, -22, -1, 2, 41 (minute 7, but 7+2 > 8 minutes), so minute 3.
	if w != (window{from: 2, to: 5, burst: 3}) {
		t.Fatalf("window %+v, want minutes 2..4 around the burst at 3", w)
	}
	// the peak minute (30) at speed 6 lasts 10 s: 6 replicas × 1 s service = 6 req/s = 60 requests.
	got := scaleToPeak([]float64{5, 30, 8}, 6, 1, 6)
	if got[1] != 60 || got[0] != 10 || got[2] != 16 {
		t.Fatalf("scaled %v, want [10 60 16]", got)
	}
	if _, err := burstWindow([]float64{1}, 0, 1); err == nil {
		t.Fatal("a 1-minute series accepted")
	}
}

func TestSpread(t *testing.T) {
	if s := spread([]float64{3, 1, 2}, "%.0f"); s != "2 [1–3]" {
		t.Fatalf("spread %q", s)
	}
	if s := spread([]float64{4, 4}, "%.0f"); s != "4" {
		t.Fatalf("spread %q", s)
	}
}

// rollingGateway is a gateway whose PUT is a rolling update, as the
// plugin's: the old replica serves until the function is scaled; a replica
// started by a scale runs the spec of the moment.
type rollingGateway struct {
	mu      sync.Mutex
	calls   []string
	env     map[string]string
	gen     int // spec generation, 1 at deploy
	desired int
	serving []int // the generation of each ready replica
}

func (g *rollingGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/system/function/f":
		g.calls = append(g.calls, "status")
		json.NewEncoder(w).Encode(types.FunctionStatus{Name: "f", EnvVars: g.env, Labels: &map[string]string{"l": "v"},
			Replicas: uint64(g.desired), AvailableReplicas: uint64(len(g.serving))})
	case r.Method == http.MethodPut && r.URL.Path == "/system/functions":
		var fd types.FunctionDeployment
		if err := json.NewDecoder(r.Body).Decode(&fd); err != nil || fd.Labels == nil || (*fd.Labels)["l"] != "v" {
			http.Error(w, fmt.Sprintf("bad update %+v: %v", fd, err), http.StatusBadRequest)
			return
		}
		g.calls = append(g.calls, "update")
		g.env, g.gen = fd.EnvVars, g.gen+1 // the old replica keeps serving
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && r.URL.Path == "/system/scale-function/f":
		var req struct{ Replicas int }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.calls = append(g.calls, fmt.Sprintf("scale %d", req.Replicas))
		g.desired = req.Replicas
		for len(g.serving) > g.desired {
			g.serving = g.serving[1:]
		}
		for len(g.serving) < g.desired {
			g.serving = append(g.serving, g.gen)
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func TestUpdateReturnsWhenTheNewSpecServes(t *testing.T) {
	fake := &rollingGateway{env: map[string]string{"a": "1"}, gen: 1, desired: 1, serving: []int{1}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	gw := liveGateway{url: srv.URL}
	if err := gw.update(context.Background(), "f", func(fd *types.FunctionDeployment) { fd.EnvVars["a"] = "2" }); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if !slices.Equal(fake.serving, []int{2}) || fake.env["a"] != "2" {
		t.Fatalf("after update: replicas of generations %v serve, env %v; want one of generation 2, a=2", fake.serving, fake.env)
	}
	if want := []string{"status", "update", "scale 0", "scale 1", "status"}; !slices.Equal(fake.calls, want) {
		t.Fatalf("calls %q, want %q", fake.calls, want)
	}
}
