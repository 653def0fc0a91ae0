package live

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/plugin/runtime"
)

// Gateway is what the runner needs from an OpenFaaS gateway.
type Gateway interface {
	// Observe returns a function's counters and replicas now (T unset).
	Observe(ctx context.Context, function string) (Sample, error)
	// Scale sets the function's desired replicas.
	Scale(ctx context.Context, function string, replicas int) error
}

// HTTPGateway talks to a gateway over HTTP: /metrics for the counters,
// /system/function/{name} for replicas, /system/scale-function/{name} to scale.
type HTTPGateway struct {
	URL         string        // e.g. http://127.0.0.1:8080
	User, Pass  string        // basic auth for /system/*
	Concurrency int           // max_inflight of the functions (slots per replica), 1 if 0
	Client      *http.Client  // default http.DefaultClient
	Timeout     time.Duration // bounds each request (default DefaultRequestTimeout)
}

// DefaultRequestTimeout is HTTPGateway.Timeout's default: a hung request
// becomes a failed observation the runner retries, not a stalled run.
const DefaultRequestTimeout = 10 * time.Second

func (g *HTTPGateway) client() *http.Client {
	if g.Client != nil {
		return g.Client
	}
	return http.DefaultClient
}

func (g *HTTPGateway) do(ctx context.Context, method, path string, body []byte, auth bool) ([]byte, error) {
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(g.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if auth {
		req.SetBasicAuth(g.User, g.Pass)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

// Observe scrapes /metrics and reads the function's status.
func (g *HTTPGateway) Observe(ctx context.Context, function string) (Sample, error) {
	b, err := g.do(ctx, http.MethodGet, "/metrics", nil, false)
	if err != nil {
		return Sample{}, err
	}
	s, err := ParseMetrics(b, function)
	if err != nil {
		return Sample{}, err
	}
	b, err = g.do(ctx, http.MethodGet, "/system/function/"+url.PathEscape(function), nil, true)
	if err != nil {
		return Sample{}, err
	}
	var st struct {
		Replicas          uint64 `json:"replicas"`
		AvailableReplicas uint64 `json:"availableReplicas"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return Sample{}, fmt.Errorf("status of %s: %w", function, err)
	}
	s.Replicas, s.Ready = int(st.Replicas), int(st.AvailableReplicas)
	s.Concurrency = max(1, g.Concurrency)
	return s, nil
}

// Scale posts the desired replicas.
func (g *HTTPGateway) Scale(ctx context.Context, function string, replicas int) error {
	body, _ := json.Marshal(map[string]any{"serviceName": function, "replicas": replicas})
	_, err := g.do(ctx, http.MethodPost, "/system/scale-function/"+url.PathEscape(function), body, true)
	return err
}

// ParseMetrics reads a function's counters from the gateway's /metrics text:
// started, completed (every code), the latency sum and the plugin's
// waits for a replica start. Absent series are 0 (no request yet).
func ParseMetrics(text []byte, function string) (Sample, error) {
	fams, err := source.ParseText(bytes.NewReader(text))
	if err != nil {
		return Sample{}, fmt.Errorf("gateway metrics: %w", err)
	}
	var s Sample
	sum := func(name string, f func(m *dto.Metric) float64) float64 {
		var t float64
		fam, ok := fams[name]
		if !ok {
			return 0
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if (l.GetName() == "function_name" || l.GetName() == "function") && matches(l.GetValue(), function) {
					t += f(m)
				}
			}
		}
		return t
	}
	s.Started = sum("gateway_function_invocation_started", func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
	s.Completed = sum("gateway_function_invocation_total", func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
	s.LatencySum = sum("gateway_functions_seconds", func(m *dto.Metric) float64 { return m.GetHistogram().GetSampleSum() })
	s.ColdWaits = sum(runtime.StartWaitsMetric, func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
	s.NoneReadyWaits = sum(runtime.ColdStartWaitsMetric, func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
	return s, nil
}

// matches accepts the plain name and name.namespace.
func matches(label, function string) bool {
	return label == function || strings.HasPrefix(label, function+".")
}
