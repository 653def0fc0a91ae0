package function

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/gwtest"
	"github.com/prescale/prescale/pkg/natstest"
)

// fakeProm is Prometheus's HTTP API at the seam: the request-rate query
// answers rps (instant) or rangeRPS (every range point); every other
// expression answers an empty result.
type fakeProm struct {
	*httptest.Server
	rps, rangeRPS float64
	mu            sync.Mutex
	instant       []string
	ranged        []string
}

func newFakeProm(t *testing.T) *fakeProm {
	f := &fakeProm{rps: 12.5, rangeRPS: 3}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func isRate(expr string) bool {
	return strings.HasPrefix(expr, "sum(rate(gateway_function_invocation_total{") && !strings.Contains(expr, "code")
}

func (f *fakeProm) serve(w http.ResponseWriter, r *http.Request) {
	expr := r.FormValue("query")
	w.Header().Set("Content-Type", "application/json")
	var result []map[string]any
	switch r.URL.Path {
	case "/api/v1/query":
		f.mu.Lock()
		f.instant = append(f.instant, expr)
		f.mu.Unlock()
		if isRate(expr) {
			at, _ := strconv.ParseFloat(r.FormValue("time"), 64)
			result = append(result, map[string]any{"metric": map[string]string{}, "value": []any{at, strconv.FormatFloat(f.rps, 'f', -1, 64)}})
		}
		fmt.Fprint(w, envelope("vector", result))
	case "/api/v1/query_range":
		f.mu.Lock()
		f.ranged = append(f.ranged, expr)
		f.mu.Unlock()
		start, _ := strconv.ParseFloat(r.FormValue("start"), 64)
		end, _ := strconv.ParseFloat(r.FormValue("end"), 64)
		step, _ := strconv.ParseFloat(r.FormValue("step"), 64)
		if isRate(expr) && step > 0 {
			var values [][]any
			for ms := math.Round(start * 1000); ms <= math.Round(end*1000); ms += math.Round(step * 1000) {
				values = append(values, []any{ms / 1000, strconv.FormatFloat(f.rangeRPS, 'f', -1, 64)})
			}
			result = append(result, map[string]any{"metric": map[string]string{}, "values": values})
		}
		fmt.Fprint(w, envelope("matrix", result))
	default:
		http.NotFound(w, r)
	}
}

func envelope(kind string, result []map[string]any) string {
	if result == nil {
		result = []map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": kind, "result": result}})
	return string(b)
}

func (f *fakeProm) counts() (int, int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.instant), len(f.ranged), append([]string(nil), f.instant...)
}

func TestPrometheusSourceBootstrapsAndInvokes(t *testing.T) {
	gw := gwtest.New(t)
	ns := natstest.Start(t)
	gw.Env(t, ns.ClientURL())
	prom := newFakeProm(t)
	t.Setenv("source", "prometheus")
	t.Setenv("prometheus_url", prom.URL)
	t.Setenv("prometheus_window", "10s")
	t.Setenv("metrics_label_suffix", ".openfaas-fn")
	t.Setenv("prometheus_bootstrap", "5")
	gw.SetFunction("hello-python", 2, map[string]string{decide.LabelEnabled: "true"})

	for run, want := range []struct{ history, ranged int }{{6, 10}, {7, 10}} {
		res, _ := call(t)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("run %d: status %d: %s", run, res.StatusCode, res.Body)
		}
		as := gw.Asyncs()
		if len(as) != run+1 {
			t.Fatalf("run %d: %d async calls, want %d (a Prometheus sample covers a window: no baseline run)", run, len(as), run+1)
		}
		var b chain.ProbeBatch
		if err := json.Unmarshal(as[run].Body, &b); err != nil || len(b.Items) != 1 {
			t.Fatalf("batch %s: %v", as[run].Body, err)
		}
		p := b.Items[0]
		_, ranged, instant := prom.counts()
		if len(p.History) != want.history || ranged != want.ranged || p.Source != "prometheus" {
			t.Fatalf("run %d: history %d (want %d), range queries %d (want %d: only the first run bootstraps), source %q",
				run, len(p.History), want.history, ranged, want.ranged, p.Source)
		}
		last := p.History[len(p.History)-1]
		if last.RPS != 12.5 || last.Interval != 10 || last.Replicas != 2 || p.History[0].RPS != 3 || p.History[0].Function != "hello-python" {
			t.Fatalf("run %d: samples first %+v last %+v", run, p.History[0], last)
		}
		if run == 0 {
			// Bootstrap tiles the windows before the current one.
			if got := last.At.Sub(p.History[4].At); got != 10*time.Second {
				t.Fatalf("bootstrap ends %s before the current sample, want 10s", got)
			}
		}
		if !strings.Contains(instant[0], `function_name="hello-python.openfaas-fn"`) || !strings.Contains(instant[0], "[10s]") {
			t.Fatalf("query %s", instant[0])
		}
	}
}

func TestPrometheusSourceErrors(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		status int
		want   string
	}{
		{"missing url", map[string]string{"prometheus_url": ""}, 500, "prometheus_url: required with source=prometheus"},
		{"relative url", map[string]string{"prometheus_url": "prometheus:9090"}, 500, "want an absolute http(s) URL"},
		{"bad window", map[string]string{"prometheus_url": "http://127.0.0.1:9", "prometheus_window": "0s"}, 500, "prometheus_window=0s: must be a duration"},
		{"bad suffix", map[string]string{"prometheus_url": "http://127.0.0.1:9", "metrics_label_suffix": "openfaas-fn"}, 500, "label suffix"},
		{"bad bootstrap", map[string]string{"prometheus_url": "http://127.0.0.1:9", "prometheus_bootstrap": "-1"}, 500, "prometheus_bootstrap"},
		{"prometheus down", map[string]string{"prometheus_url": "http://127.0.0.1:1"}, 502, "bootstrap history"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw := gwtest.New(t)
			ns := natstest.Start(t)
			gw.Env(t, ns.ClientURL())
			gw.SetFunction("hello-python", 1, map[string]string{decide.LabelEnabled: "true"})
			t.Setenv("source", "prometheus")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			res, _ := call(t)
			if res.StatusCode != tc.status || !strings.Contains(string(res.Body), tc.want) {
				t.Fatalf("status %d body %s; want %d with %q", res.StatusCode, res.Body, tc.status, tc.want)
			}
			if len(gw.Asyncs()) != 0 {
				t.Fatal("predictor invoked despite the error")
			}
		})
	}
}
