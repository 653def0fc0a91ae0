package autoscaler

import (
	"testing"

	"github.com/prescale/prescale/internal/sim"
)

// OpenFaaS CE alert rule on a hand-computed timeline: evaluations every 5 s,
// for: 5s, group_wait 5 s, group_interval 10 s, repeat_interval 30 s,
// step ceil(5 × 10/100) = 1, cap 5, resolved → min.
func TestCEAlertTimeline(t *testing.T) {
	c := CEAlert{Config: DefaultCEAlert()}.NewController(info()).(*ceCtl)
	cur := 1
	steps := []struct {
		now  float64
		rate float64
		want int
	}{
		{5, 10, sim.Keep},  // pending since 5
		{10, 10, sim.Keep}, // firing (10−5 ≥ 5); first notification at 10+5
		{15, 10, 2},        // notified: 1 + 1
		{25, 10, sim.Keep}, // flush at 25, last notification 10 s ago < 30 s repeat
		{35, 10, sim.Keep},
		{45, 10, 3}, // 45 − 15 = 30 s → repeat: 2 + 1
		{50, 4, sim.Keep},
		{55, 4, 1}, // flush after resolution → min
		{60, 4, sim.Keep},
	}
	for _, s := range steps {
		got := c.step(s.now, cur, s.rate)
		if got != s.want {
			t.Fatalf("t=%v rate %g: got %d, want %d", s.now, s.rate, got, s.want)
		}
		if got != sim.Keep {
			cur = got
		}
	}
}

func TestCEAlertCapAndFactor(t *testing.T) {
	cases := []struct {
		name     string
		factor   float64
		max, cur int
		want     int
	}{
		{"CE caps at 5 whatever max is", 10, 100, 5, 5},
		{"factor 100 jumps to the cap", 100, 100, 1, 5},
		{"factor 50, max 4 → step ceil(2) = 2", 50, 4, 1, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultCEAlert()
			cfg.Factor = tc.factor
			f := info()
			f.Max = tc.max
			c := CEAlert{Config: cfg}.NewController(f).(*ceCtl)
			c.step(0, tc.cur, 10)
			c.step(5, tc.cur, 10)
			if got := c.step(10, tc.cur, 10); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCEAlertReadsCompletedRate(t *testing.T) {
	c := CEAlert{Config: DefaultCEAlert()}.NewController(info())
	v := &fakeView{replicas: 1, completions: 60} // 60 in 10 s = 6 rps > 5
	for _, now := range []float64{5, 10} {
		v.now = now
		c.Decide(v)
	}
	v.now = 15
	if got := c.Decide(v); got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
}
