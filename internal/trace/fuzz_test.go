package trace

import (
	"bytes"
	"math"
	"sort"
	"testing"
)

// FuzzRead: any input is a trace whose every number is within the bounds
// (counts finite in 0..MaxCount, at most MaxMinutes minutes, start times
// sorted within the span, one duration per start) or an error, never a
// panic or an allocation sized by a number in the input; Window and Select
// work on whatever Read returns.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"HashOwner,HashApp,HashFunction,Trigger,480,481,482\no,a,h1,http,1,2,3\no,a,h2,timer,0,0,5\n",
		"HashFunction,Trigger,1,2\n0,timer,4,0\n",
		"requests\n3\n4\n\n5\n",
		"HashFunction,HashApp,HashOwner,minute_1,minute_2\nh9,h9,h9,0,7\n",
		"app,func,end_timestamp,duration\na,f,1.5,0.1\na,f,61,0.2\na,g,10,1\na,f,62,0.1\n",
		"app,func,end_timestamp,duration\na,f,1e300,0\n",
		"app,func,end_timestamp,duration\na,f,1e12,0\n",
		"\ufeffHashFunction,Trigger,-3\nh,t,1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fns, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(fns) == 0 {
			t.Fatal("no error and no functions")
		}
		for _, fn := range fns {
			checkFunction(t, fn)
			w := fn.Window(1, 3)
			checkFunction(t, w)
		}
		if _, err := Select(fns, len(fns)-1, ""); err != nil {
			t.Fatal(err)
		}
	})
}

func checkFunction(t *testing.T, fn Function) {
	t.Helper()
	if len(fn.Counts) > MaxMinutes || fn.FirstMinute < 0 || fn.FirstMinute > 2*MaxMinutes {
		t.Fatalf("%d minutes from %d", len(fn.Counts), fn.FirstMinute)
	}
	for i, c := range fn.Counts {
		if math.IsNaN(c) || c < 0 || c > MaxCount {
			t.Fatalf("count %d = %v", i, c)
		}
	}
	if tot := fn.Total(); math.IsNaN(tot) || math.IsInf(tot, 0) {
		t.Fatalf("total %v", tot)
	}
	if fn.Times == nil {
		return
	}
	if len(fn.Times) != len(fn.Durations) {
		t.Fatalf("%d times, %d durations", len(fn.Times), len(fn.Durations))
	}
	if !sort.Float64sAreSorted(fn.Times) {
		t.Fatal("times not sorted")
	}
	span := float64(len(fn.Counts) * 60)
	for i, at := range fn.Times {
		if at < 0 || at >= span || fn.Durations[i] < 0 || fn.Durations[i] > MaxInvocationSeconds {
			t.Fatalf("invocation %d at %v for %v s, span %v s", i, at, fn.Durations[i], span)
		}
	}
	var n float64
	for _, c := range fn.Counts {
		n += c
	}
	if int(n) != len(fn.Times) {
		t.Fatalf("counts sum to %v, %d times", n, len(fn.Times))
	}
}

// FuzzParseDurations: any input is a durations table with every field
// finite within the bounds, or an error wrapping ErrBounds for a number
// out of them.
func FuzzParseDurations(f *testing.F) {
	head := "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n"
	f.Add([]byte(head + "o,a,h,1,2,3,4,5,6,7,8,9,10,11\n"))
	f.Add([]byte(head + "o,a,h,1,2,3,Inf,5,6,7,8,9,10,11\n"))
	f.Add([]byte("HashFunction,HashApp,HashOwner,Count,Average,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\nh,a,o,10,5,1,9,1,1,2,5,7,9,9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := ParseDurations(bytes.NewReader(data))
		if err != nil {
			return
		}
		for h, d := range ds {
			if d.Hash != h {
				t.Fatalf("key %q, hash %q", h, d.Hash)
			}
			for _, k := range d.Percentiles() {
				if math.IsNaN(k[1]) || k[1] < 0 || k[1] > MaxDurationMS {
					t.Fatalf("%q: percentile %v = %v", h, k[0], k[1])
				}
			}
			for _, v := range []float64{d.Average, d.Minimum, d.Maximum} {
				if math.IsNaN(v) || v < 0 || v > MaxDurationMS {
					t.Fatalf("%q: %+v", h, d)
				}
			}
			if math.IsNaN(d.Count) || d.Count < 0 || d.Count > MaxDurationsCount {
				t.Fatalf("%q: count %v", h, d.Count)
			}
		}
	})
}
