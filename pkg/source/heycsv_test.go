package source_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/source"
)

const heyHeader = "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n"

func TestReadHeyCSV(t *testing.T) {
	got, err := source.ReadHeyCSV(strings.NewReader(heyHeader +
		"0.0012,0.0003,0.0000,0.0000,0.0008,0.0000,200,0.0011\n" +
		"0.0000,0.0000,0.0000,0.0000,0.0000,0.0000,500,0.0020\n" + // a fast response rounds to 0
		"1.2500,0.0000,0.0000,0.0000,1.2400,0.0000,429,0.0031\n"))
	want := []source.HeyResponse{{Latency: 0.0012, Status: 200}, {Latency: 0, Status: 500}, {Latency: 1.25, Status: 429}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	for _, in := range []string{"", heyHeader} {
		if rows, err := source.ReadHeyCSV(strings.NewReader(in)); err != nil || len(rows) != 0 {
			t.Errorf("%q: %v, %v; want no rows", in, rows, err)
		}
	}
	for name, tc := range map[string]struct{ in, want string }{
		"no header":           {"0.1,0,0,0,0,0,200,0\n", "line 1: want the header"},
		"short row":           {heyHeader + "0.1,0,0\n", "line 2: 3 columns"},
		"bad latency":         {heyHeader + "0.1,0,0,0,0,0,200,0\nfast,0,0,0,0,0,200,0\n", `line 3: response-time "fast"`},
		"negative latency":    {heyHeader + "-0.1,0,0,0,0,0,200,0\n", `response-time "-0.1"`},
		"NaN latency":         {heyHeader + "NaN,0,0,0,0,0,200,0\n", `response-time "NaN"`},
		"bad status":          {heyHeader + "0.1,0,0,0,0,0,OK,0\n", `status-code "OK"`},
		"status out of range": {heyHeader + "0.1,0,0,0,0,0,0,0\n", `status-code "0"`},
		"broken quoting":      {heyHeader + "\"0.1,0\n", "hey csv"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := source.ReadHeyCSV(strings.NewReader(tc.in))
			if !errors.Is(err, source.ErrHeyCSV) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want ErrHeyCSV with %q", err, tc.want)
			}
		})
	}
}

// ParseHeyCSV counts what hey did not print (failed requests) as errors.
func TestParseHeyCSVSample(t *testing.T) {
	s, err := source.ParseHeyCSV("f", testNow, 2e9, 4, strings.NewReader(heyHeader+
		"0.0100,0,0,0,0,0,200,0\n0.0300,0,0,0,0,0,503,0\n0.0200,0,0,0,0,0,404,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Status200 != 1 || s.Status500 != 2 || s.ErrorRate != 0.75 || s.RPS != 2 || s.P50 != 0.02 || s.P99 != 0.03 {
		t.Fatalf("sample %+v", s)
	}
	if _, err := source.ParseHeyCSV("f", testNow, 2e9, 4, strings.NewReader(heyHeader)); err == nil || !strings.Contains(err.Error(), "none of 4 requests") {
		t.Fatalf("no responses: %v", err)
	}
}

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
