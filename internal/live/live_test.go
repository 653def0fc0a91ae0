package live

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/clock"
	"github.com/prescale/prescale/internal/sim"
)

const metricsText = `# HELP gateway_function_invocation_started The total number of function HTTP requests started.
# TYPE gateway_function_invocation_started counter
gateway_function_invocation_started{function_name="hello-python"} 12
gateway_function_invocation_started{function_name="other"} 99
# HELP gateway_function_invocation_total Function metrics
# TYPE gateway_function_invocation_total counter
gateway_function_invocation_total{code="200",function_name="hello-python"} 9
gateway_function_invocation_total{code="503",function_name="hello-python"} 1
# HELP gateway_functions_seconds Function time taken
# TYPE gateway_functions_seconds histogram
gateway_functions_seconds_bucket{code="200",function_name="hello-python",le="+Inf"} 9
gateway_functions_seconds_sum{code="200",function_name="hello-python"} 2.5
gateway_functions_seconds_count{code="200",function_name="hello-python"} 9
gateway_functions_seconds_bucket{code="503",function_name="hello-python",le="+Inf"} 1
gateway_functions_seconds_sum{code="503",function_name="hello-python"} 0.5
gateway_functions_seconds_count{code="503",function_name="hello-python"} 1
# HELP prescale_plugin_cold_start_waits_total x
# TYPE prescale_plugin_cold_start_waits_total counter
prescale_plugin_cold_start_waits_total{function_name="hello-python"} 3
# TYPE prescale_plugin_start_waits_total counter
prescale_plugin_start_waits_total{function_name="hello-python"} 5
`

func TestParseMetrics(t *testing.T) {
	s, err := ParseMetrics([]byte(metricsText), "hello-python")
	if err != nil {
		t.Fatal(err)
	}
	want := Sample{Started: 12, Completed: 10, LatencySum: 3, ColdWaits: 5, NoneReadyWaits: 3}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	if s.InFlight() != 2 {
		t.Fatalf("in flight %d, want 2", s.InFlight())
	}
	if _, err := ParseMetrics([]byte("not{ metrics"), "x"); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestViewWindows(t *testing.T) {
	h := &History{}
	// 2 req/s arrive, each completes after 1 s of 0.5 s latency; 1 ready of 2 desired, then 2.
	for i := 0; i <= 10; i++ {
		ready := 1
		if i >= 5 {
			ready = 2
		}
		h.Add(Sample{T: float64(i), Started: float64(2 * i), Completed: float64(max(0, 2*(i-1))), LatencySum: 0.5 * float64(max(0, 2*(i-1))),
			Replicas: 2, Ready: ready, Concurrency: 1})
	}
	v := ViewOf(h)
	checks := []struct {
		what      string
		got, want float64
	}{
		{"now", v.Now(), 10},
		{"arrivals 5s", v.Arrivals(5), 10},
		{"arrivals clamped to the start", v.Arrivals(100), 20},
		{"completions 5s", v.Completions(5), 10},
		{"latency sum 5s", v.LatencySum(5), 5},
		{"in flight", float64(v.InFlight()), 2},
		{"queued", float64(v.Queued()), 0},
		{"ready seconds 10s", v.ReadySeconds(10), 5*1 + 5*2},
		{"in-flight seconds 10s", v.InFlightSeconds(10), 0*1 + 9*2}, // sample 0 has none in flight, 1..9 have 2
		{"busy seconds 10s", v.BusySeconds(10), 0 + 4*1 + 5*2},      // min(in flight, ready slots)
		{"starting", float64(v.Starting()), 0},
		{"need ahead", float64(v.NeedAhead(30)), -1},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s: %g, want %g", c.what, c.got, c.want)
		}
	}
}

// fakeGateway serves scripted arrivals: rate req/s start and complete at once.
type fakeGateway struct {
	mu       sync.Mutex
	clk      *clock.Fake
	start    time.Time
	rate     float64
	replicas int
	scales   []int
}

func (g *fakeGateway) Observe(context.Context, string) (Sample, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.rate * g.clk.Now().Sub(g.start).Seconds()
	return Sample{Started: n, Completed: n, LatencySum: 0.2 * n, Replicas: g.replicas, Ready: g.replicas, Concurrency: 1}, nil
}

func (g *fakeGateway) Scale(_ context.Context, _ string, r int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.replicas = r
	g.scales = append(g.scales, r)
	return nil
}

// littleCtl asks for ceil(arrival rate × mean latency) every 5 s, lag 2 s.
type littleCtl struct{ decisions []float64 }

func (*littleCtl) Period() int { return 5 }
func (*littleCtl) Lag() int    { return 2 }
func (c *littleCtl) Decide(v sim.View) int {
	c.decisions = append(c.decisions, v.Now())
	if v.Completions(5) == 0 {
		return sim.Keep
	}
	return int(math.Ceil(v.Arrivals(5) / 5 * v.LatencySum(5) / v.Completions(5)))
}

func TestRunDecidesOnPeriodAndAppliesAfterLag(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	g := &fakeGateway{clk: clk, start: clk.Now(), rate: 20, replicas: 1}
	ctl := &littleCtl{}
	var applied []float64
	cfg := Config{Function: "f", Duration: 12 * time.Second, Min: 0, Max: 3, Clock: clk,
		OnDecision: func(at float64, _, _ int, err error) {
			if err != nil {
				t.Errorf("scale: %v", err)
			}
			applied = append(applied, at)
		}}
	done := make(chan error, 1)
	var h *History
	go func() {
		var err error
		h, err = Run(context.Background(), g, ctl, cfg)
		done <- err
	}()
	for range 12 {
		if err := clk.BlockUntil(context.Background(), clock.Has(time.Second)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(ctl.decisions) != 2 || ctl.decisions[0] != 5 || ctl.decisions[1] != 10 {
		t.Fatalf("decisions at %v, want [5 10]", ctl.decisions)
	}
	// 20 req/s × 0.2 s = 4 replicas, clamped to Max 3; applied at 5+2 = 7 s once (10 s repeats 3).
	if len(g.scales) != 1 || g.scales[0] != 3 || len(applied) != 1 || applied[0] != 7 {
		t.Fatalf("scales %v at %v, want [3] at [7]", g.scales, applied)
	}
	s := Summarize(h)
	if s.PeakReplicas != 3 || s.Requests != 240 || math.Abs(s.ReplicaSeconds-(8*1+4*3)) > 1e-9 {
		t.Fatalf("summary %+v: want peak 3, 240 requests, 20 replica-seconds (the 7 s scale is first observed at 8 s)", s)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Duration: time.Hour * 48, Observe: time.Millisecond, Max: 0}.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"function is empty", "allowed 1s..24h", "allowed 100ms..10s", "1 <= max <= 100"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not state %q", err, want)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}

func TestPlotWritesPNG(t *testing.T) {
	h := &History{}
	for i := 0; i <= 5; i++ {
		h.Add(Sample{T: float64(i), Started: float64(3 * i), Replicas: 1 + i/2})
	}
	path := filepath.Join(t.TempDir(), "p.png")
	if err := Plot(path, "t", []Named{{"prescale", h}, {"hpa", h}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatalf("not a PNG: %v, %d bytes", err, len(b))
	}
	if err := Plot(path, "t", nil); err == nil {
		t.Fatal("no runs accepted")
	}
}
