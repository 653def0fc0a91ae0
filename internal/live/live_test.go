package live

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/clock"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/pkg/eventually"
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
	step(t, clk, repeat(12, time.Second)...)
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

// step waits, for each d in turn, until the runner has armed a timer of d
// and steps the clock past it (the safety net turns a runner that ended
// early, so never arms it, into a failure).
func step(t *testing.T, clk *clock.Fake, ds ...time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.SafetyNet)
	defer cancel()
	for _, d := range ds {
		if err := clk.BlockUntil(ctx, clock.Has(d)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(d)
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

var errFlaky = errors.New("connection reset (scripted)")

// flakyGateway fails the observations whose number (from 0) fail says.
type flakyGateway struct {
	fakeGateway
	calls int
	fail  func(call int) bool
}

func (g *flakyGateway) Observe(ctx context.Context, fn string) (Sample, error) {
	g.calls++
	if g.fail(g.calls - 1) {
		return Sample{}, errFlaky
	}
	return g.fakeGateway.Observe(ctx, fn)
}

func sampleTimes(h *History) []float64 {
	var out []float64
	for _, s := range h.Samples() {
		out = append(out, s.T)
	}
	return out
}

func TestRunRetriesAFailedObservation(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	g := &flakyGateway{fakeGateway: fakeGateway{clk: clk, start: clk.Now(), rate: 1, replicas: 1},
		fail: func(call int) bool { return call == 2 }}
	done := make(chan error, 1)
	var h *History
	go func() {
		var err error
		h, err = Run(context.Background(), g, nil, Config{Function: "f", Duration: 5 * time.Second, Max: 1, Clock: clk})
		done <- err
	}()
	// samples at 0 and 1 s; the 2 s one fails and is retried 100 ms later; then every second until 5 s
	step(t, clk, time.Second, time.Second, 100*time.Millisecond, time.Second, time.Second, time.Second)
	if err := <-done; err != nil {
		t.Fatalf("one failed observation ended the run: %v", err)
	}
	if got, want := sampleTimes(h), []float64{0, 1, 2.1, 3.1, 4.1, 5.1}; !slices.EqualFunc(got, want, func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }) {
		t.Errorf("samples at %v, want %v", got, want)
	}
	if gaps := h.Gaps(); len(gaps) != 1 || gaps[0].T != 2 || !errors.Is(gaps[0].Err, errFlaky) {
		t.Errorf("gaps %+v, want the one at 2 s", gaps)
	}
	if s := Summarize(h); s.Gaps != 1 || math.Abs(s.Requests-5.1) > 1e-9 {
		t.Errorf("summary %+v, want 1 gap, 5.1 requests", s)
	}
}

func TestRunEndsAfterFailAfterFailuresInARow(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	g := &flakyGateway{fakeGateway: fakeGateway{clk: clk, start: clk.Now(), rate: 1, replicas: 1},
		fail: func(call int) bool { return call >= 1 }}
	done := make(chan error, 1)
	var h *History
	go func() {
		var err error
		h, err = Run(context.Background(), g, nil, Config{Function: "f", Duration: time.Minute, Max: 1, FailAfter: 3, Clock: clk})
		done <- err
	}()
	// the 1 s observation fails, then its retries after 100 ms and 200 ms: the third ends the run
	step(t, clk, time.Second, 100*time.Millisecond, 200*time.Millisecond)
	err := <-done
	if !errors.Is(err, errFlaky) || !strings.Contains(err.Error(), "3 observations in a row failed") {
		t.Fatalf("err %v, want the third failure in a row to end the run", err)
	}
	if h.Len() != 1 || len(h.Gaps()) != 3 || g.calls != 4 {
		t.Errorf("%d samples, %d gaps, %d calls; want 1, 3, 4", h.Len(), len(h.Gaps()), g.calls)
	}
}

func TestRetryAfterDoublesUpToTheObservePeriod(t *testing.T) {
	for _, c := range []struct {
		failed int
		want   time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {5, time.Second}, {100, time.Second}} {
		if got := retryAfter(c.failed, time.Second); got != c.want {
			t.Errorf("retryAfter(%d, 1s) = %s, want %s", c.failed, got, c.want)
		}
	}
}

func TestHTTPGatewayTimesOutARequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hangs until the client gives up
	}))
	defer srv.Close()
	g := &HTTPGateway{URL: srv.URL, Timeout: 50 * time.Millisecond}
	if _, err := g.Observe(context.Background(), "f"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the request's deadline", err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Duration: time.Hour * 48, Observe: time.Millisecond, Max: 0, FailAfter: -1}.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"function is empty", "allowed 1s..24h", "allowed 100ms..10s", "1 <= max <= 100", "allowed 1..100 consecutive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not state %q", err, want)
		}
	}
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
