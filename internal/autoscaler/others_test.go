package autoscaler

import (
	"math"
	"testing"

	"github.com/prescale/prescale/internal/sim"
)

func TestProRPS(t *testing.T) {
	cases := []struct {
		rps, target float64
		want        int
	}{
		{100, 10, 12}, // ceil(100 / 9) = 12
		{9, 10, 1},
		{0, 10, 1},     // min
		{1e6, 10, 100}, // max
		{45, 50, 1},    // 45/(45) = 1
		{45.1, 50, 2},
	}
	for _, c := range cases {
		if got := proReplicas(c.rps, c.target, 0.9, 1, 100); got != c.want {
			t.Errorf("proReplicas(%g, %g) = %d, want %d", c.rps, c.target, got, c.want)
		}
	}
	// Derived target: 10 slots / 0.1 s = 100 rps per replica; 30 s window of 5400 arrivals = 180 rps → ceil(2) = 2.
	p := ProRPS{Config: DefaultProRPS()}.NewController(info())
	if got := p.Decide(&fakeView{now: 30, arrivals: 5400}); got != 2 {
		t.Fatalf("derived target: got %d, want 2", got)
	}
}

func TestHoltWinters(t *testing.T) {
	flat := make([]float64, 24)
	for i := range flat {
		flat[i] = 3
	}
	if got := holtWinters(flat, 6, 0.9, 0.9, 0.9, 1); math.Abs(got-3) > 1e-9 {
		t.Fatalf("constant series: got %g, want 3", got)
	}
	var seasonal []float64
	for i := 0; i < 24; i++ {
		v := 1.0
		if i%6 == 4 {
			v = 5
		}
		seasonal = append(seasonal, v)
	}
	// the next value (position 0 of a season) is 1; two ahead is 1; five ahead is the peak 5
	if got := holtWinters(seasonal, 6, 0.9, 0.9, 0.9, 1); math.Abs(got-1) > 0.5 {
		t.Fatalf("seasonal one ahead: got %g, want ≈1", got)
	}
	if got := holtWinters(seasonal, 6, 0.9, 0.9, 0.9, 5); math.Abs(got-5) > 0.5 {
		t.Fatalf("seasonal five ahead: got %g, want ≈5", got)
	}
}

// PHPA takes the larger of the HPA's calculation and the model's prediction
// once it holds 4 seasons of 6 periods: after four seasons whose 5th period
// needs 6 replicas, the model sees the peak coming while the HPA alone,
// at 2 on the current load, holds what it has.
func TestPHPAUsesModelByMaximum(t *testing.T) {
	decide := func(ctl interface {
		Decide(sim.View) int
	}) int {
		v := &fakeView{}
		got := 0
		for i := 0; i < 28; i++ {
			v.now = float64(15 * (i + 1))
			v.replicas, v.ready = 1, 1
			util := 1.0 // HPA: ceil(1 × 1.0/0.5) = 2
			if i%6 == 4 && i < 24 {
				util = 3.0 // HPA: 6
			}
			if i == 27 {
				v.replicas, v.ready = 4, 4 // position 3; the next period is the peak
			}
			v.readySec = float64(v.ready) * 15
			v.busy = util * v.readySec * 10
			if i == 27 {
				v.busy = 0.5 * v.readySec * 10 // exactly on target: HPA wants 4
			}
			got = ctl.Decide(v)
		}
		return got
	}
	hpa := decide(HPA{Config: DefaultHPA()}.NewController(info()))
	phpa := decide(PHPA{Config: DefaultPHPA()}.NewController(info()))
	if hpa != 4 {
		t.Fatalf("HPA alone: got %d, want 4 (on target)", hpa)
	}
	if phpa < 5 {
		t.Fatalf("PHPA: got %d, want >= 5 (the model foresees the 6-replica peak)", phpa)
	}
}

func TestOracleAsksForColdStartHorizon(t *testing.T) {
	o := Oracle{}.NewController(info())
	if _, ok := o.(sim.Foresighted); !ok {
		t.Fatal("oracle must be Foresighted")
	}
	v := &fakeView{need: 7}
	if got := o.Decide(v); got != 7 || v.askedH != 11 {
		t.Fatalf("got %d with horizon %d, want 7 with horizon 11 (10 s cold start + 1)", got, v.askedH)
	}
}

func TestParse(t *testing.T) {
	ps, err := Parse("", DefaultOptions())
	if err != nil || len(ps) != len(Names()) {
		t.Fatalf("all: %d policies, %v", len(ps), err)
	}
	for i, p := range ps {
		if p.Name() != Names()[i] {
			t.Errorf("policy %d is %q, want %q", i, p.Name(), Names()[i])
		}
	}
	if _, err := Parse("hpa,nope", DefaultOptions()); err == nil {
		t.Fatal("unknown policy accepted")
	}
	bad := DefaultOptions()
	bad.Prescale.Period = 0
	if _, err := Parse("prescale", bad); err == nil {
		t.Fatal("invalid prescale period accepted")
	}
}
