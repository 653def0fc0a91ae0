package source

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParseMetricsBounds: NaN, Inf, negative and absurd gateway values are
// errors naming the metric and the function (they flowed into samples as
// NaN rates and wrapped-around replica counts); the expfmt parser's panic
// on a nameless label block is an error too.
func TestParseMetricsBounds(t *testing.T) {
	for in, want := range map[string]string{
		`gateway_function_invocation_total{code="200",function_name="f"} NaN`:                                                       `gateway_function_invocation_total{function_name="f"} value NaN`,
		`gateway_function_invocation_started{function_name="g"} -3`:                                                                 `gateway_function_invocation_started{function_name="g"} value -3`,
		`gateway_service_count{function_name="h"} 1e300`:                                                                            `gateway_service_count{function_name="h"} value 1e+300`,
		"# TYPE gateway_functions_seconds histogram\n" + `gateway_functions_seconds_sum{code="200",function_name="i"} +Inf`:         `sum +Inf`,
		"# TYPE gateway_functions_seconds histogram\n" + `gateway_functions_seconds_bucket{code="200",function_name="j",le="-1"} 1`: `bucket bound le -1`,
		"#0\n{}0": "the text parser failed",
	} {
		_, err := ParseMetrics(strings.NewReader(in+"\n"), time.Unix(1, 0))
		if !errors.Is(err, ErrMetrics) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want ErrMetrics mentioning %q", in, err, want)
		}
	}
	if _, err := ParseMetrics(strings.NewReader(exposition), time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
}
