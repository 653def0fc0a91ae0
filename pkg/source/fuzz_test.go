package source

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
)

const exposition = `# HELP gateway_function_invocation_total x
# TYPE gateway_function_invocation_total counter
gateway_function_invocation_total{code="200",function_name="hello-python"} 12
gateway_function_invocation_total{code="500",function_name="hello-python"} 1
# TYPE gateway_function_invocation_started counter
gateway_function_invocation_started{function_name="hello-python"} 14
# TYPE gateway_service_count gauge
gateway_service_count{function_name="hello-python"} 2
# TYPE gateway_functions_seconds histogram
gateway_functions_seconds_bucket{code="200",function_name="hello-python",le="0.005"} 0
gateway_functions_seconds_bucket{code="200",function_name="hello-python",le="0.1"} 10
gateway_functions_seconds_bucket{code="200",function_name="hello-python",le="+Inf"} 12
gateway_functions_seconds_sum{code="200",function_name="hello-python"} 0.9
gateway_functions_seconds_count{code="200",function_name="hello-python"} 12
`

// FuzzParseMetrics: any exposition gives snapshots whose every number is
// finite within 0..MaxMetricValue, from which Delta makes samples with
// finite, non-negative fields, or an error wrapping ErrMetrics.
func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte(exposition))
	f.Add([]byte(strings.ReplaceAll(exposition, "} 12\n", "} NaN\n")))
	f.Add([]byte(strings.ReplaceAll(exposition, `} 2`, `} 1e300`)))
	f.Add([]byte(strings.ReplaceAll(exposition, `le="0.1"`, `le="-1"`)))
	f.Add([]byte("gateway_service_count{function_name=\"a\"} -Inf\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		t0 := time.Unix(1000, 0)
		a, err := ParseMetrics(bytes.NewReader(data), t0)
		if err != nil {
			if !errors.Is(err, ErrMetrics) {
				t.Fatalf("error %v does not wrap ErrMetrics", err)
			}
			return
		}
		b, err := ParseMetrics(bytes.NewReader(data), t0.Add(5*time.Second))
		if err != nil {
			t.Fatalf("second parse: %v", err)
		}
		for fn, s := range a {
			for _, v := range append([]float64{s.Started, s.Count, s.Sum, s.Completed()}, s.Replicas) {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < -1 {
					t.Fatalf("%s: snapshot %+v", fn, s)
				}
			}
			for _, bk := range s.Buckets {
				if math.IsNaN(bk.UpperBound) || bk.UpperBound < 0 || math.IsNaN(bk.Count) || bk.Count < 0 {
					t.Fatalf("%s: bucket %+v", fn, bk)
				}
			}
			for _, smp := range []decide.Sample{Delta(fn, Snapshot{}, s), Delta(fn, s, b[fn]), Delta(fn, b[fn], s)} {
				checkSample(t, smp)
			}
			if _, ok := Lookup(a, fn); !ok {
				t.Fatalf("Lookup(%q) misses a parsed function", fn)
			}
		}
	})
}

func checkSample(t *testing.T, s decide.Sample) {
	t.Helper()
	for i, v := range []float64{s.Interval, s.RPS, s.InFlight, s.P50, s.P90, s.P99, s.MeanLatency, s.ErrorRate, s.Status200, s.Status500} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("sample field %d = %v: %+v", i, v, s)
		}
	}
	if s.Replicas < 0 || s.ErrorRate > 1 {
		t.Fatalf("sample %+v", s)
	}
}

// FuzzReadHeyCSV: any input is hey's CSV (latencies finite ≥ 0, statuses
// 100..599) or an error wrapping ErrHeyCSV.
func FuzzReadHeyCSV(f *testing.F) {
	f.Add([]byte("response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n0.0123,0.001,0,0,0.01,0,200,0.5\n0.5,0,0,0,0,0,500,1\n"))
	f.Add([]byte("response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\nNaN,0,0,0,0,0,200,0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ReadHeyCSV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrHeyCSV) {
				t.Fatalf("error %v does not wrap ErrHeyCSV", err)
			}
			return
		}
		for _, r := range rs {
			if math.IsNaN(r.Latency) || math.IsInf(r.Latency, 0) || r.Latency < 0 || r.Status < 100 || r.Status > 599 {
				t.Fatalf("response %+v", r)
			}
		}
	})
}
