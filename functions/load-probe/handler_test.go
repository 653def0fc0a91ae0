package function

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/natstest"
	"github.com/prescale/prescale/pkg/state"
)

func call(t *testing.T) (handler.Response, map[string]any) {
	t.Helper()
	res, err := Handle(handler.Request{Method: http.MethodPost})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, res.Body)
	}
	return res, body
}

func TestProbeChain(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello-python", 1, map[string]string{decide.LabelEnabled: "true", decide.LabelMax: "4"})
	gw.SetFunction("not-me", 1, nil)
	gw.SetMetrics(gwtest.Metrics("hello-python", 100, 0, 100, 1, 5, map[string]float64{"0.05": 100, "0.1": 100}))

	res, body := call(t)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	if len(gw.Asyncs()) != 0 || !strings.Contains(string(res.Body), "baseline recorded") || !strings.Contains(string(res.Body), "not-me") {
		t.Fatalf("first run must record a baseline only: %s", res.Body)
	}

	gw.SetMetrics(gwtest.Metrics("hello-python", 160, 4, 170, 2, 5+64*0.2, map[string]float64{"0.05": 100, "0.1": 120, "0.25": 164}))
	res, body = call(t)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	as := gw.Asyncs()
	if len(as) != 1 || as[0].Function != "predictor" || as[0].Callback != gw.URL+"/function/scaler" {
		t.Fatalf("async calls %+v", as)
	}
	var b chain.ProbeBatch
	if err := json.Unmarshal(as[0].Body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Auth == nil {
		t.Fatal("batch unsigned")
	}
	if err := b.Verify(gw.Keys(t), time.Now(), time.Minute); err != nil {
		t.Fatalf("batch signature: %v", err)
	}
	if len(b.Items) != 1 || b.Items[0].Auth != nil {
		t.Fatalf("batch items %+v", b.Items)
	}
	p := b.Items[0]
	s := p.History[len(p.History)-1]
	if p.Function != "hello-python" || len(p.History) != 2 || p.Labels[decide.LabelMax] != "4" || p.Replicas != 1 ||
		s.Status200 != 60 || s.Status500 != 4 || s.InFlight != 6 || s.Replicas != 2 || s.RPS <= 0 || p.Features.Status500 != 4 {
		t.Fatalf("payload %+v / sample %+v", p, s)
	}
	_ = body
}

func TestProbeErrors(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		status int
		want   string
	}{
		{"bad source", map[string]string{"source": "carrier-pigeon"}, 500, "gateway, prometheus or probe"},
		{"bad bound", map[string]string{"probe_requests": "100000"}, 500, "1..1000"},
		{"gateway down", map[string]string{"gateway_url": "http://127.0.0.1:1"}, 502, "list functions"},
		{"nats down", map[string]string{"NATS_URL": "nats://127.0.0.1:1"}, 503, "state store"},
		{"no secrets", map[string]string{"secret_mount_path": "/nonexistent"}, 500, "basic-auth-user"},
		{"no chain key", nil, 500, "secret prescale-chain-key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw := gwtest.New(t)
			ns := natstest.Start(t)
			if tc.name == "no chain key" {
				gw.ChainKey = ""
			}
			gw.Env(t, ns.ClientURL())
			gw.SetFunction("hello-python", 1, map[string]string{decide.LabelEnabled: "true"})
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			res, body := call(t)
			if res.StatusCode != tc.status || !strings.Contains(body["error"].(string), tc.want) {
				t.Fatalf("status %d body %s; want %d with %q", res.StatusCode, res.Body, tc.status, tc.want)
			}
			if len(gw.Asyncs()) != 0 {
				t.Fatal("predictor invoked despite the error")
			}
		})
	}
}

func TestActiveProbeSource(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	t.Setenv("source", "probe")
	t.Setenv("probe_requests", "6")
	t.Setenv("probe_qps", "0")
	gw.SetFunction("hello-python", 1, map[string]string{decide.LabelEnabled: "true"})
	res, _ := call(t)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	if n := gw.Calls("hello-python"); n != 6 {
		t.Fatalf("probe made %d calls, want 6", n)
	}
	if len(gw.Asyncs()) != 1 {
		t.Fatalf("asyncs %d", len(gw.Asyncs()))
	}
}

// TestActiveProbesOneAtATime: with several workers, the active probes
// still run one function at a time (each would measure the others' load).
func TestActiveProbesOneAtATime(t *testing.T) {
	gw := gwtest.New(t)
	gw.CallDelay = 5 * time.Millisecond
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	t.Setenv("source", "probe")
	t.Setenv("probe_requests", "4")
	t.Setenv("probe_concurrency", "1")
	t.Setenv("probe_qps", "0")
	t.Setenv("workers", "8")
	names := []string{"fn-a", "fn-b", "fn-c", "fn-d", "fn-e", "fn-f"}
	for _, n := range names {
		gw.SetFunction(n, 1, map[string]string{decide.LabelEnabled: "true"})
	}
	res, _ := call(t)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	for _, n := range names {
		if c := gw.Calls(n); c != 4 {
			t.Errorf("%s probed with %d calls, want 4", n, c)
		}
	}
	if m := gw.MaxInFlight(); m != 1 {
		t.Fatalf("%d probe calls at once with probe_concurrency 1, want 1", m)
	}
}

// TestMetricsScrapeDoesNotRun: the PodMonitor's GET /metrics must not start a
// probe run; it reports the runs made so far.
func TestMetricsScrapeDoesNotRun(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello-python", 1, map[string]string{decide.LabelEnabled: "true"})
	gw.SetMetrics(gwtest.Metrics("hello-python", 100, 0, 100, 1, 5, map[string]float64{"0.05": 100, "0.1": 100}))
	count := func() float64 {
		t.Helper()
		res, err := Handle(handler.Request{Method: http.MethodGet, Header: http.Header{fnutil.HeaderPath: {"/metrics"}}})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("scrape: %v %d %s", err, res.StatusCode, res.Body)
		}
		for _, line := range strings.Split(string(res.Body), "\n") {
			if v, ok := strings.CutPrefix(line, `prescale_load_probe_runs_total{code="200"} `); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		return 0
	}
	before := count()
	call(t) // baseline run
	call(t) // invokes predictor
	for i := 0; i < 3; i++ {
		if got := count(); got != before+2 {
			t.Fatalf("runs counted %v, want %v", got, before+2)
		}
	}
	if n := len(gw.Asyncs()); n != 1 {
		t.Fatalf("%d async invocations after 2 runs and 3 scrapes, want 1", n)
	}
}

// Overlapping runs: a run whose observation is older than one already
// stored (it started first, stored last) observes nothing and invokes
// nothing; the history holds each interval once, in time order.
func TestOverlappingRuns(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	gw.SetFunction("hello-python", 1, map[string]string{decide.LabelEnabled: "true"})
	gw.SetMetrics(gwtest.Metrics("hello-python", 100, 0, 100, 1, 5, map[string]float64{"0.05": 100, "0.1": 100}))
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	client, err := fnutil.Gateway(cfg.Gateway)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, nc, err := state.Connect(ctx, cfg.NATS, stateConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	p := probe{cfg: cfg, gw: client, store: store, http: fnutil.HTTPClient(), keys: gw.Keys(t)}
	t0 := time.Now().UTC().Add(-time.Minute)
	run := func(at time.Time) FunctionRun {
		t.Helper()
		res, status, err := p.run(ctx, at)
		if err != nil || status != http.StatusOK || len(res.Functions) != 1 || res.Functions[0].Error != "" {
			t.Fatalf("run at %s: %d %v %+v", at, status, err, res)
		}
		return res.Functions[0]
	}
	run(t0) // baseline
	gw.SetMetrics(gwtest.Metrics("hello-python", 200, 0, 200, 1, 10, map[string]float64{"0.05": 200, "0.1": 200}))
	if r := run(t0.Add(10 * time.Second)); r.CallID == "" {
		t.Fatalf("the later run did not invoke predictor: %+v", r)
	}
	late := run(t0.Add(5 * time.Second)) // began before the previous one, stores after it
	if late.CallID != "" || !strings.Contains(late.Note, "skipped") {
		t.Fatalf("the overlapping older run: %+v", late)
	}
	if n := len(gw.Asyncs()); n != 1 {
		t.Fatalf("%d predictor invocations, want 1", n)
	}
	h, err := store.History(ctx, "hello-python")
	if err != nil || len(h) != 2 || !h[1].At.After(h[0].At) || h[1].RPS != 10 {
		t.Fatalf("history %+v %v", h, err)
	}
}
