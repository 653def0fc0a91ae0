package promsrc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/source"
)

var _ source.Source = (*Source)(nil)

// fakeProm is an httptest fake of Prometheus's HTTP API (/api/v1/query and
// /api/v1/query_range); answer maps a PromQL expression to the JSON "data"
// member, or to an error.
type fakeProm struct {
	mu      sync.Mutex
	queries []string
	answer  func(path, expr string, r *http.Request) (data string, status int)
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	expr := r.Form.Get("query")
	f.mu.Lock()
	f.queries = append(f.queries, expr)
	f.mu.Unlock()
	data, status := f.answer(r.URL.Path, expr, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status != http.StatusOK {
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%q}`, data)
		return
	}
	fmt.Fprintf(w, `{"status":"success","data":%s}`, data)
}

func start(t *testing.T, f *fakeProm, mutate func(*Config)) *Source {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := DefaultConfig()
	cfg.URL = srv.URL
	cfg.Timeout = 2 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func vector(values ...string) string {
	var parts []string
	for i, v := range values {
		parts = append(parts, fmt.Sprintf(`{"metric":{"i":"%d"},"value":[1700000000,%q]}`, i, v))
	}
	return `{"resultType":"vector","result":[` + strings.Join(parts, ",") + `]}`
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.URL = "http://prometheus.openfaas:9090"
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"defaults with URL", func(*Config) {}, ""},
		{"no URL", func(c *Config) { c.URL = "" }, "want an absolute http(s) URL"},
		{"relative URL", func(c *Config) { c.URL = "prometheus:9090" }, "want an absolute http(s) URL"},
		{"bad label", func(c *Config) { c.LabelName = "function-name" }, "want a Prometheus label name"},
		{"bad suffix", func(c *Config) { c.LabelSuffix = "openfaas-fn" }, `want empty or ".<namespace>"`},
		{"namespace suffix", func(c *Config) { c.LabelSuffix = ".openfaas-fn" }, ""},
		{"short window", func(c *Config) { c.Window = 500 * time.Millisecond }, "want at least 1s"},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, "want more than 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, err := New(c, nil); err == nil {
				t.Fatalf("New accepted an invalid config")
			}
		})
	}
}

func TestObserveMapsEveryQuery(t *testing.T) {
	// Each expression is recognised by a distinctive fragment and answered with a distinct value.
	values := []struct{ fragment, value string }{
		{"histogram_quantile(0.5,", "0.05"},
		{"histogram_quantile(0.9,", "0.09"},
		{"histogram_quantile(0.99,", "0.099"},
		{"gateway_functions_seconds_sum", "0.06"},
		{`code!~"2.."`, "0.25"},
		{`code="200"`, "300"},
		{`code=~"5.."`, "100"},
		{"gateway_function_invocation_started", "7"},
		{"gateway_service_count", "3"},
		{"sum(rate(gateway_function_invocation_total", "6.5"},
	}
	f := &fakeProm{answer: func(path, expr string, r *http.Request) (string, int) {
		if path != "/api/v1/query" {
			return "unexpected path " + path, http.StatusBadRequest
		}
		for _, v := range values {
			if strings.Contains(expr, v.fragment) {
				return vector(v.value), http.StatusOK
			}
		}
		return "unknown query " + expr, http.StatusBadRequest
	}}
	src := start(t, f, func(c *Config) { c.LabelSuffix = ".openfaas-fn"; c.Window = 30 * time.Second })
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := src.Observe(context.Background(), "hello-python", now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Function != "hello-python" || !s.At.Equal(now) || s.Interval != 30 {
		t.Errorf("identity %q %v %v", s.Function, s.At, s.Interval)
	}
	got := []float64{s.P50, s.P90, s.P99, s.MeanLatency, s.ErrorRate, s.Status200, s.Status500, s.InFlight, float64(s.Replicas), float64(s.AvailableReplicas), s.RPS}
	want := []float64{0.05, 0.09, 0.099, 0.06, 0.25, 300, 100, 7, 3, 3, 6.5}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sample fields %v, want %v", got, want)
	}
	if len(f.queries) != 10 {
		t.Errorf("%d queries, want 10", len(f.queries))
	}
	for _, q := range f.queries {
		if !strings.Contains(q, `function_name="hello-python.openfaas-fn"`) {
			t.Errorf("query lacks the matcher with suffix: %s", q)
		}
		if strings.Contains(q, "[") && !strings.Contains(q, "[30s]") {
			t.Errorf("query lacks the 30s window: %s", q)
		}
	}
}

func TestObserveEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		status  int
		wantErr string
		wantRPS float64
	}{
		{"no series is zero", vector(), http.StatusOK, "", 0},
		{"NaN is zero", vector("NaN"), http.StatusOK, "", 0},
		{"Inf is zero", vector("+Inf"), http.StatusOK, "", 0},
		{"two series", vector("1", "2"), http.StatusOK, "2 series, want 1", 0},
		{"matrix instead of vector", `{"resultType":"matrix","result":[]}`, http.StatusOK, "want a vector", 0},
		{"bad query", "parse error at char 3", http.StatusBadRequest, "parse error at char 3", 0},
		{"server error", "boom", http.StatusInternalServerError, "500", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProm{answer: func(string, string, *http.Request) (string, int) { return tc.data, tc.status }}
			src := start(t, f, nil)
			s, err := src.Observe(context.Background(), "fn", time.Now())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "rps of fn") {
					t.Errorf("error %v does not name the query and function", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.RPS != tc.wantRPS || s.P99 != 0 {
				t.Errorf("RPS %v P99 %v", s.RPS, s.P99)
			}
		})
	}
}

func TestObserveRejectsBadFunctionName(t *testing.T) {
	f := &fakeProm{answer: func(string, string, *http.Request) (string, int) { return vector("1"), http.StatusOK }}
	src := start(t, f, nil)
	for _, name := range []string{"", `fn"} or vector(1) #`, "Upper", "-lead"} {
		if _, err := src.Observe(context.Background(), name, time.Now()); err == nil || !strings.Contains(err.Error(), "DNS-1123") {
			t.Errorf("%q: error %v, want a DNS-1123 message", name, err)
		}
	}
	if len(f.queries) != 0 {
		t.Errorf("bad names reached Prometheus: %v", f.queries)
	}
}

func TestObservePrometheusDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cfg := DefaultConfig()
	cfg.URL = url
	src, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Observe(context.Background(), "fn", time.Now()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %v, want connection refused", err)
	}
}

func TestHistoryGrid(t *testing.T) {
	from := time.Unix(1700000000, 0).UTC()
	step := 10 * time.Second
	f := &fakeProm{}
	f.answer = func(path, expr string, r *http.Request) (string, int) {
		if path != "/api/v1/query_range" {
			return "unexpected path " + path, http.StatusBadRequest
		}
		if r.Form.Get("step") != "10" {
			return "step " + r.Form.Get("step"), http.StatusBadRequest
		}
		start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
		if start != 1700000010 {
			return "start " + r.Form.Get("start"), http.StatusBadRequest
		}
		if strings.HasPrefix(expr, "sum(rate(gateway_function_invocation_total") && strings.Contains(expr, "[10s]") {
			// Points for the 1st and 3rd steps only: the 2nd has no data.
			return `{"resultType":"matrix","result":[{"metric":{},"values":[[1700000010,"1.5"],[1700000030,"4"]]}]}`, http.StatusOK
		}
		return `{"resultType":"matrix","result":[]}`, http.StatusOK
	}
	src := start(t, f, nil)
	got, err := src.History(context.Background(), "fn", from, from.Add(35*time.Second), step)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d samples, want 3 (the range holds three whole steps)", len(got))
	}
	for i, want := range []float64{1.5, 0, 4} {
		if got[i].RPS != want || got[i].Interval != 10 || !got[i].At.Equal(from.Add(time.Duration(i+1)*step)) {
			t.Errorf("sample %d = rps %v interval %v at %v", i, got[i].RPS, got[i].Interval, got[i].At)
		}
	}
}

func TestHistoryErrors(t *testing.T) {
	from := time.Unix(1700000000, 0)
	tests := []struct {
		name     string
		to       time.Time
		step     time.Duration
		data     string
		wantErr  string
		wantKind error
	}{
		{"step too small", from.Add(time.Minute), time.Millisecond, "", "want at least 1s", ErrRange},
		{"to before from", from.Add(-time.Minute), time.Second, "", "is not after", ErrRange},
		{"shorter than a step", from.Add(5 * time.Second), 10 * time.Second, "", "shorter than one step", ErrRange},
		{"too many points", from.Add(24 * time.Hour), time.Second, "", "want at most 11000", ErrRange},
		{"off grid", from.Add(time.Minute), 10 * time.Second,
			`{"resultType":"matrix","result":[{"metric":{},"values":[[1700000015,"1"]]}]}`, "off the 10s grid", nil},
		{"two series", from.Add(time.Minute), 10 * time.Second,
			`{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[]},{"metric":{"a":"2"},"values":[]}]}`, "2 series", nil},
		{"vector instead of matrix", from.Add(time.Minute), 10 * time.Second, vector("1"), "want a matrix", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProm{answer: func(string, string, *http.Request) (string, int) { return tc.data, http.StatusOK }}
			src := start(t, f, nil)
			_, err := src.History(context.Background(), "fn", from, tc.to, tc.step)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if tc.wantKind != nil {
				if !errors.Is(err, tc.wantKind) {
					t.Errorf("error %v is not %v", err, tc.wantKind)
				}
				if len(f.queries) != 0 {
					t.Errorf("an invalid range reached Prometheus")
				}
			}
		})
	}
}

func TestExpressions(t *testing.T) {
	src := start(t, &fakeProm{}, func(c *Config) { c.LabelName = "fn" })
	ex, err := src.Expressions("a", 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 10 || ex["rps"] != `sum(rate(gateway_function_invocation_total{fn="a"}[2m]))` {
		t.Fatalf("expressions %v", ex)
	}
}
