package dist

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFromHistogram(t *testing.T) {
	// 10 observations: 2 in (1, 2], 8 in (3, 4]; none above.
	d, err := FromHistogram([]float64{1, 2, 3, 4, math.Inf(1)}, []float64{0, 2, 2, 10, 10})
	if err != nil {
		t.Fatal(err)
	}
	if d.Max() != 4 {
		t.Errorf("Max = %v, want 4", d.Max())
	}
	r := rand.New(rand.NewPCG(1, 2))
	low := 0
	const n = 20000
	for range n {
		x := d.Sample(r)
		switch {
		case x > 1 && x <= 2:
			low++
		case x > 3 && x <= 4:
		default:
			t.Fatalf("sample %v outside the buckets with observations", x)
		}
	}
	if share := float64(low) / n; share < 0.18 || share > 0.22 {
		t.Errorf("%.3f of the samples in (1, 2], want 0.2", share)
	}
	// Observations only in +Inf: its lower bound.
	inf, err := FromHistogram([]float64{5, math.Inf(1)}, []float64{0, 3})
	if err != nil || inf.Sample(r) != 5 || inf.Max() != 5 {
		t.Fatalf("+Inf only: %v, %v", inf, err)
	}
	for _, bad := range []struct{ b, c []float64 }{
		{[]float64{1, 2}, []float64{0, 0}},          // no observations
		{[]float64{2, 1}, []float64{1, 2}},          // bounds not increasing
		{[]float64{1, 2}, []float64{3, 2}},          // counts decrease
		{[]float64{1}, []float64{1, 2}},             // lengths differ
		{[]float64{math.NaN()}, []float64{1}},       // NaN bound
		{[]float64{1, 2}, []float64{math.NaN(), 1}}, // NaN count
	} {
		if _, err := FromHistogram(bad.b, bad.c); err == nil {
			t.Errorf("FromHistogram(%v, %v) accepted", bad.b, bad.c)
		}
	}
}
