package autoscaler

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/sim"
)

// zeroRun simulates one function with real arrival instants (seconds),
// 1 s of service each, a fixed 3 s cold start, from zero replicas.
func zeroRun(t *testing.T, p sim.Policy, minutes int, times ...float64) sim.Metrics {
	t.Helper()
	cfg := sim.DefaultConfig()
	cold, err := sim.ParseDist("fixed:3s")
	if err != nil {
		t.Fatal(err)
	}
	cfg.ColdStart, cfg.MinReplicas, cfg.Workers = cold, 0, 1
	fn := sim.FunctionSpec{Name: "f", Counts: make([]float64, minutes), Service: sim.FixedService(1), Times: times}
	for _, x := range times {
		fn.Counts[int(x/60)]++
		fn.Durations = append(fn.Durations, 1)
	}
	r, err := sim.Run(context.Background(), cfg, []sim.FunctionSpec{fn}, p)
	if err != nil {
		t.Fatal(err)
	}
	return r.Metrics
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// Fixed keep-alive 120 s, checked every 5 s: arrivals at 10, 100, 400 s.
// 10: cold (ready 13, done 14); 100: warm; release at the tick of 220
// (100 + 120); 400: cold, released at 520. Replica time 210 + 120 = 330 s,
// of which 3 s serve requests.
func TestKeepAliveTimeline(t *testing.T) {
	m := zeroRun(t, KeepAlive{Duration: 120}, 10, 10, 100, 400)
	if m.ColdInvocations != 2 || !near(m.ReplicaSeconds, 330) || !near(m.WastedSeconds, 327) {
		t.Fatalf("cold %d, replica-seconds %g, wasted %g; want 2, 330, 327", m.ColdInvocations, m.ReplicaSeconds, m.WastedSeconds)
	}
}

// Knative with scale to zero: one request at 10 s, in flight 10..14 s. The
// 60 s stable window first sees no concurrency at the tick of 74 s
// ((14, 74]); the grace period of 30 s ends at the tick of 104 s.
func TestKPAZeroTimeline(t *testing.T) {
	m := zeroRun(t, KPAZero{Config: DefaultKPA(), Grace: 30}, 5, 10)
	if m.ColdInvocations != 1 || !near(m.ReplicaSeconds, 94) {
		t.Fatalf("cold %d, replica-seconds %g; want 1, 94", m.ColdInvocations, m.ReplicaSeconds)
	}
}

// Hybrid histogram on hand-computed histograms.
func TestHybridWindows(t *testing.T) {
	h := newHybridLayer(DefaultHybrid())
	h.arrived(0) // no idle time yet: standard keep-alive over the range
	h.window()
	if h.pre != 0 || h.keep != 4*3600 {
		t.Fatalf("no history: pre %g keep %g", h.pre, h.keep)
	}
	// 20 idle times of 5.5 min (bin 5) and one of 30.5 min (bin 30): the
	// head (5 %) is bin 5 → pre-warm at 5 × 60 × 0.9 = 270 s; the tail
	// (99 %: 20/21 < 0.99) is bin 30 → keep alive to 31 × 60 × 1.1 = 2046 s.
	now := 0.0
	for range 20 {
		now += 330
		h.arrived(now)
	}
	now += 1830
	h.arrived(now)
	h.window()
	if h.cv() < 2 || !near(h.pre, 270) || !near(h.keep, 2046) {
		t.Fatalf("cv %g pre %g keep %g; want > 2, 270, 2046", h.cv(), h.pre, h.keep)
	}
	for _, c := range []struct {
		e    float64
		want int
	}{{100, 0}, {254, 0}, {255, 1}, {2045, 1}, {2047, 0}} {
		if got := h.floor(&fakeView{now: now + c.e}); got != c.want {
			t.Errorf("%g s after the last call: floor %d, want %d", c.e, got, c.want)
		}
	}
	// Not representative: one idle time in every bin → CV 0 → keep-alive.
	u := newHybridLayer(DefaultHybrid())
	now = 0
	u.arrived(now)
	for b := range 240 {
		now += float64(b)*60 + 30
		u.arrived(now)
	}
	u.window()
	if u.cv() >= 2 || u.pre != 0 || u.keep != 4*3600 {
		t.Fatalf("uniform: cv %g pre %g keep %g", u.cv(), u.pre, u.keep)
	}
	// Out of range (all idle times ≥ 4 h): the time series — the mean of
	// the last three (5 h, 5 h, 6 h) = 19200 s, windows ±15 %.
	o := newHybridLayer(DefaultHybrid())
	now = 0
	for _, it := range []float64{0, 5 * 3600, 5 * 3600, 6 * 3600} {
		now += it
		o.arrived(now)
	}
	o.window()
	if !near(o.pre, 19200*0.85) || !near(o.keep, 19200*1.15) {
		t.Fatalf("out of range: pre %g keep %g", o.pre, o.keep)
	}
}

// A timer every 15 min, longer than the keep-alive prescale uses while the
// model is not confident (zero-duration 10m here): the fixed keep-alive meets every
// call cold; prescale is cold until it has seen three burst starts whose
// two gaps agree (a timer: decide's detectTimer), then pre-warms each call
// (15 s lead + up to one 5 s tick + the 2 s lag ahead).
func TestPrescaleZeroPrewarmsATimer(t *testing.T) {
	var times []float64
	for k := range 12 {
		times = append(times, 30+float64(k)*900)
	}
	ka := zeroRun(t, KeepAlive{Duration: 600}, 180, times...)
	p := DefaultPrescaleZero()
	p.Settings.KeepAlive = 10 * time.Minute
	pz := zeroRun(t, p, 180, times...)
	if ka.ColdInvocations != 12 {
		t.Fatalf("keep-alive: %d cold, want 12", ka.ColdInvocations)
	}
	if pz.ColdInvocations != 3 {
		t.Fatalf("prescale: %d cold, want 3 (the calls before the period is known)", pz.ColdInvocations)
	}
	// After detection each call costs at most 15 + 5 + 1 s of waiting.
	if pz.WastedSeconds >= ka.WastedSeconds {
		t.Fatalf("prescale wasted %g s, keep-alive %g s", pz.WastedSeconds, ka.WastedSeconds)
	}
}

// With prediction off (prescale.zero-predict: "false") prescale is the
// fixed keep-alive, at the resolution of its 5 s counters: the call at
// 100 s is counted in the tick (100, 105] and placed at its middle, 102.5 s,
// so the replica goes at the tick of 225 s (102.5 + 120); the one at 400 s
// at 525 s. Replica time 215 + 125 = 340 s.
func TestPrescaleZeroWithoutPrediction(t *testing.T) {
	p := DefaultPrescaleZero()
	p.Settings.Predict, p.Settings.KeepAlive, p.Lag = false, 120*time.Second, 0
	m := zeroRun(t, p, 10, 10, 100, 400)
	if m.ColdInvocations != 2 || !near(m.ReplicaSeconds, 340) {
		t.Fatalf("cold %d, replica-seconds %g; want 2, 340", m.ColdInvocations, m.ReplicaSeconds)
	}
}

// The oracle in the zero regime never meets a cold start.
func TestOracleZero(t *testing.T) {
	m := zeroRun(t, Oracle{}, 30, 10, 100, 400, 1500)
	if m.ColdInvocations != 0 || m.ReplicaSeconds > 4*(11+1+1) {
		t.Fatalf("cold %d, replica-seconds %g", m.ColdInvocations, m.ReplicaSeconds)
	}
}

// prescale as the chain runs it makes the same zero decisions as the
// zero-regime prescale: on the 15-minute timer, the same three cold starts
// before the period is known, and less waste than the fixed keep-alive.
func TestPrescaleChainPrewarmsATimer(t *testing.T) {
	var times []float64
	for k := range 12 {
		times = append(times, 30+float64(k)*900)
	}
	ka := zeroRun(t, KeepAlive{Duration: 600}, 180, times...)
	p := NewPrescaleChain(DefaultPrescale())
	p.Zero.KeepAlive = 10 * time.Minute
	m := zeroRun(t, p, 180, times...)
	if m.ColdInvocations != 3 || m.WastedSeconds >= ka.WastedSeconds {
		t.Fatalf("chain: %d cold (want 3), wasted %g s (keep-alive %g s)", m.ColdInvocations, m.WastedSeconds, ka.WastedSeconds)
	}
}

// Beyond one replica the chain's forecast load policy decides (through
// decide.WithZero), and when the calls stop the zero decision releases
// the last replica: four minutes of 8 calls a second, 1 s each, need
// several replicas; ten silent minutes later (zero-duration 2m) none is
// left.
func TestPrescaleChainScalesUpAndToZero(t *testing.T) {
	cfg := sim.DefaultConfig()
	cold, err := sim.ParseDist("fixed:3s")
	if err != nil {
		t.Fatal(err)
	}
	cfg.ColdStart, cfg.MinReplicas, cfg.Workers = cold, 0, 1
	fn := sim.FunctionSpec{Name: "f", Counts: make([]float64, 16), Service: sim.FixedService(1)}
	for m := 1; m < 5; m++ {
		fn.Counts[m] = 480
	}
	p := NewPrescaleChain(DefaultPrescale())
	p.Zero.KeepAlive = 2 * time.Minute
	res, err := sim.Run(context.Background(), cfg, []sim.FunctionSpec{fn}, p)
	if err != nil {
		t.Fatal(err)
	}
	peak := 0.0
	for _, r := range res.Replicas {
		peak = math.Max(peak, r)
	}
	if peak < 2 || res.Replicas[len(res.Replicas)-1] != 0 {
		t.Fatalf("mean replicas per minute %v: want a peak of 2 or more and none in the last minute", res.Replicas)
	}
}
