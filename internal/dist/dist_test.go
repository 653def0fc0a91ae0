package dist

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestParseDelay(t *testing.T) {
	good := map[string]float64{"3s": 3, "0s": 0, " 800ms ": 0.8, "lognormal:2.5s,0.35,10s": 10, "uniform:1s,2s": 2, "fixed:4s": 4}
	r := rand.New(rand.NewPCG(7, 8))
	for in, max := range good {
		d, err := ParseDelay(in, 10*time.Second)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if d.Max() != max {
			t.Fatalf("%q: max %g, want %g", in, d.Max(), max)
		}
		for range 500 {
			if x := Duration(d, r); x < 0 || x > 10*time.Second {
				t.Fatalf("%q: sample %s outside [0, 10s]", in, x)
			}
		}
	}
	bad := map[string]string{
		"-1s":                     "out of range",
		"11s":                     "out of range",
		"soon":                    "want a Go duration",
		"lognormal:2.5s,0.35,20s": "above the allowed",
		"lognormal:2.5s,5,10s":    "sigma",
		"gamma:1,2":               "unknown kind",
		"fixed:1e300":             "too large",
		"uniform:0,18446744074":   "too large",
		"fixed:NaN":               "finite",
	}
	for in, want := range bad {
		_, err := ParseDelay(in, 10*time.Second)
		if strings.Contains(in, "e300") || strings.Contains(in, "1844") || strings.Contains(in, "NaN") {
			_, err = ParseDist(in) // unbounded by a max: the parser's own bound
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", in, err, want)
		}
	}
}

func TestSamplesDeterministicPerSeed(t *testing.T) {
	d, err := ParseDist(DefaultColdStart)
	if err != nil {
		t.Fatal(err)
	}
	a, b := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	for range 100 {
		if x, y := d.Sample(a), d.Sample(b); x != y {
			t.Fatalf("same seed, samples %g and %g", x, y)
		}
	}
}
