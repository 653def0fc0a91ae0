package autoscaler

import "testing"

func TestHPAReplicasFormula(t *testing.T) {
	// target 0.5, tolerance 0.1
	cases := []struct {
		name                string
		cur, ready, unready int
		util                float64
		want                int
	}{
		{"scale up: ceil(4 × 0.75/0.5) = 6", 4, 4, 0, 0.75, 6},
		{"within tolerance: ratio 1.08 → keep", 4, 4, 0, 0.54, 4},
		{"just outside tolerance: ratio 1.12 → ceil(4.48) = 5", 4, 4, 0, 0.56, 5},
		{"scale down: ceil(4 × 0.2/0.5) = 2", 4, 4, 0, 0.2, 2},
		{"unready pods at 0 % flip the direction → keep", 4, 2, 2, 0.9, 4},
		{"unready pods at 0 %: ratio 1.0·2/(0.5·3) → ceil(4.0) = 4", 3, 2, 1, 1.0, 4},
		{"unready pods ignored on scale down: ceil(2 × 0.1/0.5) = 1", 4, 2, 2, 0.1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := hpaReplicas(c.cur, c.ready, c.unready, c.util, 0.5, 0.1); got != c.want {
				t.Fatalf("hpaReplicas(cur %d, ready %d, unready %d, util %g) = %d, want %d", c.cur, c.ready, c.unready, c.util, got, c.want)
			}
		})
	}
}

// One 15 s sync after another on a hand-computed timeline: a burst at
// t=15 takes the HPA up (rate-limited), the load then vanishes, and the
// scale-down waits for the 300 s stabilization window.
func TestHPATimelineStabilizationAndRateLimit(t *testing.T) {
	h := HPA{Config: DefaultHPA()}.NewController(info())
	v := &fakeView{replicas: 1, ready: 1}
	type step struct {
		now             float64
		replicas, ready int
		util            float64
		want            int
	}
	steps := []step{
		// util 1.0 on 1 replica → ceil(1×2) = 2 (limit max(1+4, 2) = 5 allows it)
		{15, 1, 1, 1.0, 2},
		// util 1.0 on 2 ready → 4; events: +1 at 15 is not within (15,30] → start 2, limit max(6,4) → 4
		{30, 2, 2, 1.0, 4},
		// util 5.0 (saturated, queue) on 4 → 40; start 4 (event at 30 not after 30) → limit max(8, 8) = 8
		{45, 4, 4, 5.0, 8},
		// idle from now on: recommendation 1, but the 300 s window holds 8 (from t=45)
		{60, 8, 8, 0.0, 8},
		{330, 8, 8, 0.0, 8},
		// t=345: the t=45 recommendation is no longer after 345−300 = 45 → scale down to 1
		{345, 8, 8, 0.0, 1},
	}
	for _, s := range steps {
		v.now, v.replicas, v.ready = s.now, s.replicas, s.ready
		v.readySec = float64(s.ready) * 15
		v.busy = s.util * v.readySec * 10
		got := h.Decide(v)
		if got != s.want {
			t.Fatalf("t=%v (replicas %d, util %g): got %d, want %d", s.now, s.replicas, s.util, got, s.want)
		}
	}
}

func TestHPANoMetricsKeepsReplicas(t *testing.T) {
	h := HPA{Config: DefaultHPA()}.NewController(info())
	v := &fakeView{now: 15, replicas: 3, ready: 0, starting: 3}
	if got := h.Decide(v); got != 3 {
		t.Fatalf("no ready pods: got %d, want 3 (no change)", got)
	}
}

func TestHPAConfigValidate(t *testing.T) {
	bad := []func(*HPAConfig){
		func(c *HPAConfig) { c.TargetUtilization = 0 },
		func(c *HPAConfig) { c.Tolerance = 1 },
		func(c *HPAConfig) { c.SyncPeriod = 0 },
		func(c *HPAConfig) { c.DownStabilization = -1 },
	}
	if err := DefaultHPA().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for i, f := range bad {
		c := DefaultHPA()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: invalid config accepted: %+v", i, c)
		}
	}
}
