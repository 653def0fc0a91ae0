package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/internal/trace"
)

// script is a test controller: at each control instant it returns the
// replicas scripted for that second, or Keep.
type script struct {
	period, lag int
	at          map[int]int
}

func (s script) Name() string                          { return "script" }
func (s script) NewController(FunctionInfo) Controller { return s }
func (s script) Period() int                           { return s.period }
func (s script) Lag() int                              { return s.lag }
func (s script) Decide(v View) int {
	if n, ok := s.at[int(v.Now())]; ok {
		return n
	}
	return Keep
}

func testConfig(cold string) Config {
	c := DefaultConfig()
	d, err := ParseDist(cold)
	if err != nil {
		panic(err)
	}
	c.ColdStart, c.Concurrency, c.Arrivals, c.Workers = d, 1, "uniform", 1
	return c
}

func run(t *testing.T, cfg Config, p Policy, fns ...FunctionSpec) Result {
	t.Helper()
	r, err := Run(context.Background(), cfg, fns, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNoQueueWhenCapacitySuffices(t *testing.T) {
	// 60 requests a minute evenly spaced (one a second), 0.5 s each, one slot.
	fn := FunctionSpec{Name: "f", Counts: []float64{60, 60, 60}, Service: FixedService(0.5)}
	r := run(t, testConfig("fixed:3s"), script{}, fn)
	m := r.Metrics
	if m.Requests != 180 || m.Queued != 0 || m.ColdDelayed != 0 || m.OverSLO != 0 || m.Actions != 0 {
		t.Fatalf("metrics %+v: want 180 requests, nothing queued", m)
	}
	if math.Abs(m.ReplicaSeconds-180) > 1e-9 {
		t.Fatalf("replica-seconds %g, want 180 (one replica for 3 minutes)", m.ReplicaSeconds)
	}
	if q := m.Latency.Quantile(0.99); math.Abs(q-0.5)/0.5 > 0.02 {
		t.Fatalf("p99 %g, want 0.5 s", q)
	}
	if r.Load[1] != 60 || math.Abs(r.Replicas[2]-1) > 1e-9 {
		t.Fatalf("series load %v replicas %v", r.Load, r.Replicas)
	}
}

// TestBucket: with Bucket 10 each count covers 10 s (a replay at speed 6):
// 10 requests per bucket evenly spaced are one a second again.
func TestBucket(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{10, 10, 10}, Service: FixedService(0.5), Bucket: 10}
	r := run(t, testConfig("fixed:3s"), script{}, fn)
	m := r.Metrics
	if m.Requests != 30 || m.Queued != 0 || math.Abs(m.ReplicaSeconds-30) > 1e-9 {
		t.Fatalf("metrics %+v: want 30 requests, none queued, 30 replica-seconds (one replica for 30 s)", m)
	}
	if len(r.Load) != 3 || r.Load[1] != 10 || math.Abs(r.Replicas[2]-1) > 1e-9 {
		t.Fatalf("series per bucket: load %v replicas %v", r.Load, r.Replicas)
	}
}

// Two requests (uniform: at 15 s and 45 s) of 40 s on one slot. At t=42 the
// controller asks for 2 replicas; the new one is ready at 47 (fixed 5 s cold
// start), so the request of t=45 waits 2 s for it: one cold-start-delayed,
// queued and over-SLO request, latency 42 s; replica-seconds 60 + 18.
func TestColdStartDelay(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{2}, Service: FixedService(40)}
	r := run(t, testConfig("fixed:5s"), script{period: 42, at: map[int]int{42: 2}}, fn)
	m := r.Metrics
	if m.Requests != 2 || m.ColdDelayed != 1 || m.Queued != 1 || m.OverSLO != 1 || m.Actions != 1 {
		t.Fatalf("metrics %+v", m)
	}
	if math.Abs(m.ReplicaSeconds-78) > 1e-9 {
		t.Fatalf("replica-seconds %g, want 78", m.ReplicaSeconds)
	}
	if got := m.Latency.Quantile(1); math.Abs(got-42)/42 > 0.02 {
		t.Fatalf("max latency %g, want 42", got)
	}
}

// With a lag the decision lands later: asked at 20 for ready at 20+20+5 = 45
// (exactly the arrival time is avoided by asking at 21: ready at 46).
func TestControlLag(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{2}, Service: FixedService(40)}
	r := run(t, testConfig("fixed:5s"), script{period: 21, lag: 20, at: map[int]int{21: 2}}, fn)
	m := r.Metrics
	// scale call at 41, ready at 46: the t=45 request waits 1 s (not over the 1 s SLO)
	if m.ColdDelayed != 1 || m.OverSLO != 0 || math.Abs(m.ReplicaSeconds-(60+19)) > 1e-9 {
		t.Fatalf("metrics %+v", m)
	}
}

// Idle replicas are removed at once; a starting replica is cancelled first.
func TestScaleDown(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{0}, Service: FixedService(1)}
	r := run(t, testConfig("fixed:0s"), script{period: 10, at: map[int]int{10: 3, 20: 1}}, fn)
	if m := r.Metrics; m.Actions != 2 || math.Abs(m.ReplicaSeconds-(60+2*10)) > 1e-9 {
		t.Fatalf("metrics %+v: want 2 actions and 80 replica-seconds", m)
	}
	r = run(t, testConfig("fixed:30s"), script{period: 10, at: map[int]int{10: 2, 20: 1}}, fn)
	if m := r.Metrics; math.Abs(m.ReplicaSeconds-70) > 1e-9 {
		t.Fatalf("cancelled start: replica-seconds %g, want 70", m.ReplicaSeconds)
	}
}

// A busy replica removed by a scale-down drains: it finishes its request
// (counted in replica-seconds) and takes no new one.
func TestScaleDownDrains(t *testing.T) {
	// uniform 2 a minute: t=15 and t=45, 20 s each; replicas: 2 from t=10 (cold 0), 1 at t=20.
	fn := FunctionSpec{Name: "f", Counts: []float64{2}, Service: FixedService(20)}
	r := run(t, testConfig("fixed:0s"), script{period: 10, at: map[int]int{10: 2, 20: 1}}, fn)
	m := r.Metrics
	// t=15 goes to replica 0 (the older one); at t=20 the idle replica 1 is removed.
	if m.Queued != 0 || math.Abs(m.ReplicaSeconds-70) > 1e-9 {
		t.Fatalf("metrics %+v: want no queueing and 70 replica-seconds", m)
	}
}

func TestDeterministicAndSeeded(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{300, 900, 50, 1200}, Service: FixedService(0.2)}
	cfg := DefaultConfig()
	cfg.Concurrency = 2
	p := script{period: 7, at: map[int]int{7: 3, 63: 1, 120: 6}}
	a, b := run(t, cfg, p, fn, fn), run(t, cfg, p, fn, fn)
	if a.Metrics.Latency.Mean() != b.Metrics.Latency.Mean() || a.Metrics.ColdDelayed != b.Metrics.ColdDelayed {
		t.Fatal("two runs with one seed differ")
	}
	cfg.Seed = 99
	c := run(t, cfg, p, fn, fn)
	if c.Metrics.Latency.Mean() == a.Metrics.Latency.Mean() {
		t.Fatal("another seed gave identical latencies")
	}
	if a.Metrics.Requests != 2*2450 || c.Metrics.Requests != 2*2450 {
		t.Fatalf("requests %d/%d, want %d (the trace's counts)", a.Metrics.Requests, c.Metrics.Requests, 2*2450)
	}
}

// computeNeed agrees with a brute-force count of the requests in service.
func TestComputeNeedBruteForce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Concurrency = 3
	fn := FunctionSpec{Name: "f", Counts: []float64{120, 40, 400}, Service: ServiceFromDurations(trace.Durations{P0: 10, P1: 50, P25: 300, P50: 800, P75: 1500, P99: 4000, P100: 9000})}
	need := computeNeed(&cfg, 0, &fn)
	g := newArrivalGen(&cfg, 0, &fn)
	var reqs [][2]float64
	for {
		a, s, ok := g.next()
		if !ok {
			break
		}
		reqs = append(reqs, [2]float64{a, a + s})
	}
	for sec := range need {
		peak := 0
		// the peak within [sec, sec+1) is at the second's start or right after an arrival
		points := []float64{float64(sec)}
		for _, r := range reqs {
			if r[0] >= float64(sec) && r[0] < float64(sec+1) {
				points = append(points, r[0])
			}
		}
		for _, p := range points {
			n := 0
			for _, r := range reqs {
				if r[0] <= p && r[1] > p {
					n++
				}
			}
			peak = max(peak, n)
		}
		want := max(cfg.MinReplicas, (peak+2)/3)
		if int(need[sec]) != want {
			t.Fatalf("second %d: need %d, brute force %d", sec, need[sec], want)
		}
	}
}

type oraclePolicy struct{}

func (oraclePolicy) Name() string { return "oracle" }
func (oraclePolicy) NewController(f FunctionInfo) Controller {
	return oracleCtl{h: int(math.Ceil(f.ColdStartMax)) + 1}
}

type oracleCtl struct{ h int }

func (oracleCtl) UsesFuture()         {}
func (oracleCtl) Period() int         { return 1 }
func (oracleCtl) Lag() int            { return 0 }
func (o oracleCtl) Decide(v View) int { return v.NeedAhead(o.h) }

// Foresight on a real trace: no request waits for a cold start.
func TestOracleOnSharedTrace(t *testing.T) {
	ld, err := LoadTrace(testenv.Trace(t, "dirigent_azure2019_500fn_8h_invocations.csv"), LoadOptions{Functions: 20, Minutes: 30}, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ld.Functions) != 20 || ld.Minutes != 30 || ld.WithDurations != 20 {
		t.Fatalf("loaded %d functions (%d with durations), %d minutes", len(ld.Functions), ld.WithDurations, ld.Minutes)
	}
	cfg := DefaultConfig()
	r := run(t, cfg, oraclePolicy{}, ld.Functions...)
	if r.Metrics.Requests == 0 || r.Metrics.Pct(r.Metrics.ColdDelayed) > 0.01 {
		t.Fatalf("oracle: %d requests, %d cold-start delayed", r.Metrics.Requests, r.Metrics.ColdDelayed)
	}
	st := run(t, cfg, script{}, ld.Functions...)
	if st.Metrics.Requests != r.Metrics.Requests {
		t.Fatalf("policies saw different requests: %d vs %d", st.Metrics.Requests, r.Metrics.Requests)
	}
}

func TestLoadTraceBusiestFirst(t *testing.T) {
	path := testenv.Trace(t, "invitro_azure2019_fullday_10fn_invocations.csv")
	all, err := trace.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := LoadTrace(path, LoadOptions{Functions: 3, From: 100, Minutes: 10}, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	var tots []float64
	for _, f := range all {
		tots = append(tots, f.Window(100, 110).Total())
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(tots)))
	for i, f := range ld.Functions {
		var s float64
		for _, c := range f.Counts {
			s += c
		}
		if s != tots[i] || len(f.Counts) != 10 {
			t.Fatalf("function %d: total %g over %d minutes, want %g over 10", i, s, len(f.Counts), tots[i])
		}
	}
	if _, err := LoadTrace(path, LoadOptions{From: 5000}, 0.1); err == nil {
		t.Fatal("--from past the end accepted")
	}
}

func TestParseDist(t *testing.T) {
	good := []struct {
		in     string
		max    float64
		lo, hi float64
	}{
		{"fixed:3s", 3, 3, 3},
		{"fixed:0.5", 0.5, 0.5, 0.5},
		{"uniform:1s,4s", 4, 1, 4},
		{"lognormal:2.5s,0.35,10s", 10, 0, 10},
		{DefaultColdStart, 10, 0, 10},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range good {
		d, err := ParseDist(g.in)
		if err != nil {
			t.Fatalf("%s: %v", g.in, err)
		}
		if d.Max() != g.max {
			t.Fatalf("%s: max %g, want %g", g.in, d.Max(), g.max)
		}
		for range 1000 {
			if x := d.Sample(r); x < g.lo || x > g.hi {
				t.Fatalf("%s: sample %g outside [%g, %g]", g.in, x, g.lo, g.hi)
			}
		}
	}
	for _, bad := range []string{"", "3s", "fixed:", "fixed:-1s", "uniform:4s,1s", "lognormal:0s,0.3", "lognormal:2s,9", "gamma:1,2", "lognormal:2s,0.3,1s"} {
		if _, err := ParseDist(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestServiceInverseCDF(t *testing.T) {
	s := ServiceFromDurations(trace.Durations{P0: 0, P1: 10, P25: 20, P50: 30, P75: 40, P99: 100, P100: 1000})
	cases := map[float64]float64{0: 0, 0.01: 0.010, 0.5: 0.030, 0.625: 0.035, 0.99: 0.1, 1: 1}
	for u, want := range cases {
		if got := s.Quantile(u); math.Abs(got-want) > 1e-12 {
			t.Errorf("Quantile(%g) = %g, want %g", u, got, want)
		}
	}
	// mean: 0.01·5 + 0.24·15 + 0.25·25 + 0.25·35 + 0.24·70 + 0.01·550 ms
	want := (0.01*5 + 0.24*15 + 0.25*25 + 0.25*35 + 0.24*70 + 0.01*550) / 1000
	if math.Abs(s.Mean()-want) > 1e-12 {
		t.Fatalf("mean %g, want %g", s.Mean(), want)
	}
}

func TestHistQuantiles(t *testing.T) {
	var h Hist
	var xs []float64
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		x := math.Exp(r.NormFloat64()*2 - 3)
		xs = append(xs, x)
		h.Add(x)
	}
	sort.Float64s(xs)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		exact := xs[int(math.Ceil(q*float64(len(xs))))-1]
		if got := h.Quantile(q); math.Abs(got-exact)/exact > 0.02 {
			t.Errorf("q%g: %g, exact %g", q, got, exact)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Concurrency = 0 },
		func(c *Config) { c.ColdStart = nil },
		func(c *Config) { c.SLO = 0 },
		func(c *Config) { c.Arrivals = "bursty" },
		func(c *Config) { c.MinReplicas = -1 },
		func(c *Config) { c.MinReplicas = 200 },
		func(c *Config) { c.Workers = 0 },
	}
	for i, f := range bad {
		c := DefaultConfig()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	if _, err := Run(context.Background(), Config{}, nil, script{}); err == nil {
		t.Fatal("Run accepted an invalid config")
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fn := FunctionSpec{Name: "f", Counts: []float64{6000, 6000}, Service: FixedService(0.1)}
	if _, err := Run(ctx, DefaultConfig(), []FunctionSpec{fn}, script{}); err == nil {
		t.Fatal("a cancelled run returned no error")
	}
}
