package sim

import (
	"math"
	"testing"
)

func zeroConfig() Config {
	c := testConfig("fixed:3s")
	c.MinReplicas = 0
	return c
}

// Hand-computed timeline: uniform arrivals at 30 s and 150 s (one per
// minute in minutes 0 and 2), 0.5 s each, cold start 3 s, starting at zero.
func TestScaleFromZero(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{1, 0, 1}, Service: FixedService(0.5)}
	// Never scaled by the policy: the platform's scale from zero at 30 s
	// starts the only replica, which then stays.
	m := run(t, zeroConfig(), script{}, fn).Metrics
	if m.Arrivals != 2 || m.ColdInvocations != 1 || m.ColdDelayed != 1 || m.Actions != 1 {
		t.Fatalf("metrics %+v", m)
	}
	if math.Abs(m.ReplicaSeconds-150) > 1e-9 || math.Abs(m.WastedSeconds-149) > 1e-9 {
		t.Fatalf("replica-seconds %g (want 150), wasted %g (want 149)", m.ReplicaSeconds, m.WastedSeconds)
	}
	if math.Abs(m.Latency.Mean()-2) > 0.05 { // 3.5 s and 0.5 s
		t.Fatalf("mean latency %g, want 2", m.Latency.Mean())
	}
	// Scaled to zero at 60 s: the second arrival is a cold start too.
	r := run(t, zeroConfig(), script{period: 60, at: map[int]int{60: 0}}, fn)
	m = r.Metrics
	if m.ColdInvocations != 2 || m.ColdDelayed != 2 || m.Actions != 3 {
		t.Fatalf("metrics %+v", m)
	}
	if math.Abs(m.ReplicaSeconds-60) > 1e-9 || math.Abs(m.WastedSeconds-59) > 1e-9 {
		t.Fatalf("replica-seconds %g (want 60), wasted %g (want 59)", m.ReplicaSeconds, m.WastedSeconds)
	}
	if len(r.PerFn) != 1 || r.PerFn[0] != (FnStat{Arrivals: 2, Cold: 2, Wasted: 59}) {
		t.Fatalf("per function %+v", r.PerFn)
	}
}

// A scale to zero under a request in flight keeps the last replica.
func TestNoZeroUnderLoad(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{1, 0}, Service: FixedService(40)}
	// arrival at 30 s, served 33..73 s; zero asked at 60 s is refused.
	m := run(t, zeroConfig(), script{period: 60, at: map[int]int{60: 0}}, fn).Metrics
	if m.Requests != 1 || math.Abs(m.ReplicaSeconds-90) > 1e-9 {
		t.Fatalf("metrics %+v", m)
	}
}

// Real arrival instants are used as they are.
func TestRealArrivalTimes(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{2, 1}, Service: FixedService(9),
		Times: []float64{10, 10.5, 70}, Durations: []float64{1, 1, 1}}
	cfg := testConfig("fixed:3s")
	m := run(t, cfg, script{}, fn).Metrics
	// 10 → 11; 10.5 waits to 11 → 12 (1.5 s); 70 → 71.
	if m.Requests != 3 || m.Queued != 1 || math.Abs(m.Latency.Mean()-3.5/3) > 0.02 {
		t.Fatalf("metrics %+v mean %g", m, m.Latency.Mean())
	}
}

// The start-wait rule is the plugin's: a request counts in ColdDelayed when
// the replica that serves it became ready after it arrived, whether it took
// the request at that moment or later from the queue. From zero, calls at
// 10, 11 and 20 s of 5 s each, a fixed 3 s cold start, one slot: the
// replica is ready at 13 s and takes the 10 s call (counted), at 18 s the
// 11 s call (counted: it arrived before the replica was ready), at 23 s the
// 20 s call (not: the replica was ready when it arrived, it only queued).
func TestColdDelayedCountsQueuedBeforeReady(t *testing.T) {
	fn := FunctionSpec{Name: "f", Counts: []float64{3}, Times: []float64{10, 11, 20}, Durations: []float64{5, 5, 5}}
	m := run(t, zeroConfig(), script{}, fn).Metrics
	if m.Requests != 3 || m.ColdDelayed != 2 || m.ColdInvocations != 2 || m.Queued != 3 {
		t.Fatalf("metrics %+v: want 3 requests, 2 cold-start delayed, 2 arriving with no ready replica, 3 queued", m)
	}
	if got := m.Latency.Quantile(1); math.Abs(got-12)/12 > 0.02 { // 11 s call: 18 + 5 - 11
		t.Fatalf("max latency %g, want 12", got)
	}
}
