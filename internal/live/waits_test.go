package live

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/clock"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/plugin/runtime"
)

const waitsText = `# HELP prescale_plugin_start_wait_seconds x
# TYPE prescale_plugin_start_wait_seconds histogram
prescale_plugin_start_wait_seconds_bucket{function_name="f",le="1"} 1
prescale_plugin_start_wait_seconds_bucket{function_name="f",le="2"} 1
prescale_plugin_start_wait_seconds_bucket{function_name="f",le="4"} 3
prescale_plugin_start_wait_seconds_bucket{function_name="f",le="+Inf"} 4
prescale_plugin_start_wait_seconds_sum{function_name="f"} 70
prescale_plugin_start_wait_seconds_count{function_name="f"} 4
prescale_plugin_start_wait_seconds_bucket{function_name="g",le="1"} 9
prescale_plugin_start_wait_seconds_bucket{function_name="g",le="2"} 9
prescale_plugin_start_wait_seconds_bucket{function_name="g",le="4"} 9
prescale_plugin_start_wait_seconds_bucket{function_name="g",le="+Inf"} 9
prescale_plugin_start_wait_seconds_sum{function_name="g"} 1
prescale_plugin_start_wait_seconds_count{function_name="g"} 9
`

func TestParseStartWaitsAndQuantile(t *testing.T) {
	w, err := ParseStartWaits([]byte(waitsText), "f")
	if err != nil {
		t.Fatal(err)
	}
	if w.Count != 4 || w.Sum != 70 || len(w.Bounds) != 4 || w.Cum[2] != 3 {
		t.Fatalf("parsed %+v: want f's 4 waits only", w)
	}
	for _, c := range []struct{ q, total, want float64 }{
		{0.99, 4, 4},      // rank 3.96: in +Inf, its lower bound 4
		{0.5, 4, 3},       // rank 2: half way through (2, 4], which holds 2
		{0.25, 4, 1},      // rank 1: the top of the first bucket
		{0.5, 100, 0},     // 96 requests did not wait: the median is 0
		{0.97, 100, 1},    // rank 97 = the 1st wait: (0, 1] holds it, at its top
		{0.975, 100, 2.5}, // rank 97.5: the 1.5th wait, a quarter into (2, 4], which holds waits 2 and 3
		{0.99, 2, 4},      // fewer requests than waits: taken as 4
		{0.99, 1000, 0},   // 996 zeros: rank 990 is a zero
		{math.NaN(), 4, 0},
	} {
		if got := w.Quantile(c.q, c.total); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", c.q, c.total, got, c.want)
		}
	}
	none, err := ParseStartWaits([]byte("# TYPE other counter\nother 1\n"), "f")
	if err != nil || none.Count != 0 || none.Quantile(0.99, 10) != 0 {
		t.Fatalf("absent histogram: %+v, %v", none, err)
	}
	if _, err := ParseStartWaits([]byte("not { metrics"), "f"); err == nil {
		t.Fatal("bad text accepted")
	}
	if got := w.Of(0.5); got != 3 { // rank 2 of f's own 4
		t.Errorf("Of(0.5) = %v, want 3", got)
	}
}

func TestParseReplicaStarts(t *testing.T) {
	text := strings.ReplaceAll(waitsText, "prescale_plugin_start_wait_seconds", runtime.ReplicaStartMetric)
	r, err := ParseReplicaStarts([]byte(text), "g")
	if err != nil || r.Count != 9 || r.Of(0.5) != 0.5 {
		t.Fatalf("replica starts of g: %+v (median %v), %v; want 9, median 0.5 (rank 4.5 of 9 in (0, 1])", r, r.Of(0.5), err)
	}
	if w, _ := ParseStartWaits([]byte(text), "g"); w.Count != 0 {
		t.Fatalf("start waits read from the replica-start metric: %+v", w)
	}
}

// arrivalCtl records Arrived calls and never decides.
type arrivalCtl struct{ at []float64 }

func (*arrivalCtl) Period() int          { return 0 }
func (*arrivalCtl) Lag() int             { return 0 }
func (*arrivalCtl) Decide(sim.View) int  { return sim.Keep }
func (c *arrivalCtl) Arrived(v sim.View) { c.at = append(c.at, v.Now()) }

// A sim.ArrivalObserver (a zero-mode policy) hears of every request that
// started since the previous sample, at that sample.
func TestRunTellsArrivals(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	g := &fakeGateway{clk: clk, start: clk.Now(), rate: 2, replicas: 1}
	ctl := &arrivalCtl{}
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), g, ctl, Config{Function: "f", Duration: 3 * time.Second, Max: 1, Clock: clk})
		done <- err
	}()
	for range 3 {
		if err := clk.BlockUntil(context.Background(), clock.Has(time.Second)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// 2 req/s: samples at 0 (the baseline), 1, 2, 3 s → 2 arrivals at each of 1, 2, 3.
	want := []float64{1, 1, 2, 2, 3, 3}
	if len(ctl.at) != len(want) {
		t.Fatalf("arrivals at %v, want %v", ctl.at, want)
	}
	for i := range want {
		if ctl.at[i] != want[i] {
			t.Fatalf("arrivals at %v, want %v", ctl.at, want)
		}
	}
}

// Window integrals cover exactly (now-w, now] when the samples do not fall
// on now-w: samples 1.1 s apart with one request in flight give 2
// in-flight seconds over 2 s, not the 2.2 s back to the sample before.
func TestViewIntegralsAreExactOverTheWindow(t *testing.T) {
	h := &History{}
	for i := 0; i <= 3; i++ {
		h.Add(Sample{T: 1.1 * float64(i), Started: 1, Completed: 0, Ready: 2, Replicas: 2, Concurrency: 1})
	}
	v := ViewOf(h)
	for name, got := range map[string]float64{"in-flight": v.InFlightSeconds(2), "busy": v.BusySeconds(2), "ready/2": v.ReadySeconds(2) / 2} {
		if got != 2 { // exactly: a controller's ceil(2/2) must be 1
			t.Errorf("%s seconds over the last 2 s = %v, want exactly 2", name, got)
		}
		if math.Ceil(got/2) != 1 {
			t.Errorf("%s seconds over the last 2 s = %v, want 2", name, got)
		}
	}
	// A window longer than the history is clamped to its start (3.3 s).
	if got := v.InFlightSeconds(10); math.Abs(got-3.3) > 1e-9 {
		t.Errorf("in-flight seconds over 10 s = %v, want the 3.3 s observed", got)
	}
	if (&History{}).integral(5, nil, inflightOf) != 0 {
		t.Error("an empty history integrates to non-zero")
	}
}

func TestWaitHistAdd(t *testing.T) {
	var w WaitHist
	w.Add(WaitHist{Bounds: []float64{1, 4, math.Inf(1)}, Cum: []float64{1, 3, 4}, Count: 4, Sum: 9})
	w.Add(WaitHist{Bounds: []float64{1, 4, math.Inf(1)}, Cum: []float64{0, 2, 2}, Count: 2, Sum: 5})
	if w.Count != 6 || w.Sum != 14 || len(w.Bounds) != 3 || w.Cum[0] != 1 || w.Cum[1] != 5 || w.Cum[2] != 6 {
		t.Fatalf("sum of two histograms: %+v", w)
	}
}
