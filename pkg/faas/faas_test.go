package faas_test

import (
	"errors"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/faas"
)

func TestParseDuration(t *testing.T) {
	ok := map[string]time.Duration{
		"0": 0, "30": 30 * time.Second, " 90 ": 90 * time.Second, "+5": 5 * time.Second,
		"500ms": 500 * time.Millisecond, "1m30s": 90 * time.Second, "0s": 0,
		strconv.FormatInt(math.MaxInt64/int64(time.Second), 10): time.Duration(math.MaxInt64/int64(time.Second)) * time.Second,
	}
	for in, want := range ok {
		got, err := faas.ParseDuration("exec_timeout", in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                      "empty",
		"   ":                   "empty",
		"18446744074":           "too large", // × 1e9 ns wraps around to 290ms in int64 arithmetic
		"9223372037":            "too large", // one second past the largest Duration
		"99999999999999999999":  "too large", // past int64 itself
		"-1":                    "negative",
		"-99999999999999999999": "negative",
		"-5s":                   "negative",
		"NaN":                   "not a duration",
		"Inf":                   "not a duration",
		"+Inf":                  "not a duration",
		"1.5":                   "not a duration",
		"10 s":                  "not a duration",
		"forever":               "not a duration",
		"3000000h":              "not a duration", // time.ParseDuration overflow
	}
	for in, want := range bad {
		d, err := faas.ParseDuration("exec_timeout", in)
		var de *faas.DurationError
		if !errors.As(err, &de) || !errors.Is(err, faas.ErrDuration) {
			t.Errorf("ParseDuration(%q) = %s, %v; want a *DurationError", in, d, err)
			continue
		}
		if de.Field != "exec_timeout" || de.Value != in || !strings.Contains(de.Reason, want) ||
			!strings.HasPrefix(err.Error(), "exec_timeout=") {
			t.Errorf("ParseDuration(%q): %v (%+v); want field exec_timeout and %q", in, err, de, want)
		}
	}
}

func TestSplitName(t *testing.T) {
	for in, want := range map[string][2]string{
		"fn":             {"fn", ""},
		"fn.openfaas-fn": {"fn", "openfaas-fn"},
		"my.fn.staging":  {"my.fn", "staging"}, // the last dot, as faasd
		".openfaas-fn":   {".openfaas-fn", ""},
		"fn.":            {"fn.", ""},
		"":               {"", ""},
	} {
		fn, ns := faas.SplitName(in)
		if fn != want[0] || ns != want[1] {
			t.Errorf("SplitName(%q) = %q, %q; want %q, %q", in, fn, ns, want[0], want[1])
		}
	}
	for in, want := range map[string]string{
		"fn": "fn", "fn.openfaas-fn": "fn", "fn.other": "fn.other", ".openfaas-fn": ".openfaas-fn",
	} {
		if got := faas.BaseName(in, faas.DefaultNamespace); got != want {
			t.Errorf("BaseName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCopyHeaders(t *testing.T) {
	src := http.Header{
		"Connection":        {"keep-alive, X-Secret-Hop"},
		"Keep-Alive":        {"timeout=5"},
		"Transfer-Encoding": {"chunked"},
		"Upgrade":           {"h2c"},
		"Te":                {"trailers"},
		"X-Secret-Hop":      {"1"},
		"X-Call-Id":         {"abc"},
		"Content-Type":      {"application/json"},
	}
	dst := http.Header{"Content-Type": {"text/plain"}, "X-Kept": {"yes"}}
	faas.CopyHeaders(dst, src)
	want := http.Header{"X-Call-Id": {"abc"}, "Content-Type": {"application/json"}, "X-Kept": {"yes"}}
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("got %v, want %v", dst, want)
	}
	src["X-Call-Id"][0] = "changed"
	if dst.Get("X-Call-Id") != "abc" {
		t.Fatal("CopyHeaders shares value slices with src")
	}
	h := faas.HopHeaders()
	h[0] = "changed"
	if faas.HopHeaders()[0] != "Connection" {
		t.Fatal("HopHeaders returns shared state")
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		name, ns, fn, wantNS, key string
		err                       bool
	}{
		{"hello", "", "hello", "", "hello", false},
		{"hello", "openfaas-fn", "hello", "openfaas-fn", "hello", false},
		{"hello.openfaas-fn", "", "hello", "openfaas-fn", "hello", false},
		{"hello.openfaas-fn", "openfaas-fn", "hello", "openfaas-fn", "hello", false},
		{"hello.staging", "", "hello", "staging", "hello.staging", false},
		{"hello", "staging", "hello", "staging", "hello.staging", false},
		{"hello.staging", "openfaas-fn", "", "", "", true},
		{"", "", "", "", "", true},
	} {
		fn, ns, key, err := faas.Canonical(tc.name, tc.ns, faas.DefaultNamespace)
		if (err != nil) != tc.err || fn != tc.fn || ns != tc.wantNS || key != tc.key {
			t.Errorf("Canonical(%q, %q) = %q, %q, %q, %v; want %q, %q, %q, error %v", tc.name, tc.ns, fn, ns, key, err, tc.fn, tc.wantNS, tc.key, tc.err)
		}
	}
}
