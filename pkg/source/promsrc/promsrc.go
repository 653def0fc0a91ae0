package promsrc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/prescale/prescale/pkg/decide"
)

// Config configures the source. Start from DefaultConfig.
type Config struct {
	// URL is the Prometheus server's base URL, e.g. http://prometheus.openfaas:9090.
	URL string
	// LabelName is the label carrying the function's name (function_name on the gateway metrics).
	LabelName string
	// LabelSuffix is appended to the function's name in the matcher: "" matches
	// function_name="fn" (the plugin, faasd), ".openfaas-fn" matches a Kubernetes
	// gateway with function_namespace set.
	LabelSuffix string
	// Window is the interval one Observe sample covers (the rate window); at
	// least twice the scrape interval.
	Window time.Duration
	// Timeout bounds each query (also sent to Prometheus as its evaluation timeout).
	Timeout time.Duration
}

// Defaults.
const (
	DefaultLabelName = "function_name"
	DefaultWindow    = time.Minute
	DefaultTimeout   = 10 * time.Second
	// MinWindow is the shortest window or step accepted.
	MinWindow = time.Second
	// MaxHistoryPoints bounds a History call (Prometheus itself refuses more than 11,000).
	MaxHistoryPoints = 11000
)

// DefaultConfig returns the defaults; URL must still be set.
func DefaultConfig() Config {
	return Config{LabelName: DefaultLabelName, Window: DefaultWindow, Timeout: DefaultTimeout}
}

var (
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	// Function names as OpenFaaS accepts them (DNS-1123), optionally with ".namespace".
	functionRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// Validate reports the first invalid setting, naming the allowed values.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("prometheus URL %q: want an absolute http(s) URL such as http://prometheus.openfaas:9090", c.URL)
	}
	if !labelNameRE.MatchString(c.LabelName) {
		return fmt.Errorf("label name %q: want a Prometheus label name matching %s", c.LabelName, labelNameRE)
	}
	if c.LabelSuffix != "" && (!strings.HasPrefix(c.LabelSuffix, ".") || !functionRE.MatchString("x"+c.LabelSuffix)) {
		return fmt.Errorf("label suffix %q: want empty or \".<namespace>\" (DNS-1123 label)", c.LabelSuffix)
	}
	if c.Window < MinWindow {
		return fmt.Errorf("window %s: want at least %s (and at least twice the scrape interval)", c.Window, MinWindow)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("timeout %s: want more than 0", c.Timeout)
	}
	return nil
}

// Source reads gateway metrics from Prometheus. It is safe for concurrent use.
type Source struct {
	cfg Config
	api v1.API
}

// New returns a Source. rt is the HTTP transport (nil: http.DefaultTransport).
func New(cfg Config, rt http.RoundTripper) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("promsrc: %w", err)
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("promsrc: client for %s: %w", cfg.URL, err)
	}
	return &Source{cfg: cfg, api: v1.NewAPI(client)}, nil
}

// query is one PromQL expression and where its value goes in a Sample.
type query struct {
	name string
	expr string
	set  func(*decide.Sample, float64)
}

// Matcher returns the label matcher for function, e.g. function_name="fn.openfaas-fn".
func (s *Source) Matcher(function string) (string, error) {
	if !functionRE.MatchString(function) {
		return "", fmt.Errorf("function name %q: want a DNS-1123 name such as hello-python", function)
	}
	return fmt.Sprintf("%s=%q", s.cfg.LabelName, function+s.cfg.LabelSuffix), nil
}

func promDuration(d time.Duration) string {
	return model.Duration(d).String()
}

// queries builds the expressions for matcher m over window w.
func queries(m string, w time.Duration) []query {
	win := promDuration(w)
	total := fmt.Sprintf("sum(rate(gateway_function_invocation_total{%s}[%s]))", m, win)
	quantile := func(q string) string {
		return fmt.Sprintf("histogram_quantile(%s, sum by (le) (rate(gateway_functions_seconds_bucket{%s}[%s])))", q, m, win)
	}
	return []query{
		{"rps", total, func(s *decide.Sample, v float64) { s.RPS = v }},
		{"p50", quantile("0.5"), func(s *decide.Sample, v float64) { s.P50 = v }},
		{"p90", quantile("0.9"), func(s *decide.Sample, v float64) { s.P90 = v }},
		{"p99", quantile("0.99"), func(s *decide.Sample, v float64) { s.P99 = v }},
		{"mean_latency", fmt.Sprintf("sum(rate(gateway_functions_seconds_sum{%[1]s}[%[2]s])) / sum(rate(gateway_functions_seconds_count{%[1]s}[%[2]s]))", m, win),
			func(s *decide.Sample, v float64) { s.MeanLatency = v }},
		{"error_rate", fmt.Sprintf(`sum(rate(gateway_function_invocation_total{%s,code!~"2.."}[%s])) / %s`, m, win, total),
			func(s *decide.Sample, v float64) { s.ErrorRate = v }},
		{"status_200", fmt.Sprintf(`sum(increase(gateway_function_invocation_total{%s,code="200"}[%s]))`, m, win),
			func(s *decide.Sample, v float64) { s.Status200 = v }},
		{"status_500", fmt.Sprintf(`sum(increase(gateway_function_invocation_total{%s,code=~"5.."}[%s]))`, m, win),
			func(s *decide.Sample, v float64) { s.Status500 = v }},
		{"in_flight", fmt.Sprintf("clamp_min(sum(gateway_function_invocation_started{%[1]s}) - sum(gateway_function_invocation_total{%[1]s}), 0)", m),
			func(s *decide.Sample, v float64) { s.InFlight = v }},
		{"replicas", fmt.Sprintf("max(gateway_service_count{%s})", m),
			func(s *decide.Sample, v float64) { s.Replicas = int(math.Round(v)); s.AvailableReplicas = s.Replicas }},
	}
}

// Expressions returns the PromQL the source runs for function over window (for docs and dashboards).
func (s *Source) Expressions(function string, window time.Duration) (map[string]string, error) {
	m, err := s.Matcher(function)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, q := range queries(m, window) {
		out[q.name] = q.expr
	}
	return out, nil
}

// Observe implements source.Source: function over the Window ending at now.
func (s *Source) Observe(ctx context.Context, function string, now time.Time) (decide.Sample, error) {
	m, err := s.Matcher(function)
	if err != nil {
		return decide.Sample{}, fmt.Errorf("promsrc: %w", err)
	}
	now = now.Truncate(time.Millisecond)
	sample := decide.Sample{Function: function, At: now, Interval: s.cfg.Window.Seconds()}
	for _, q := range queries(m, s.cfg.Window) {
		v, err := s.instant(ctx, q.expr, now)
		if err != nil {
			return decide.Sample{}, fmt.Errorf("promsrc: %s of %s: %w", q.name, function, err)
		}
		q.set(&sample, v)
	}
	return sample, nil
}

func (s *Source) instant(ctx context.Context, expr string, at time.Time) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	val, _, err := s.api.Query(ctx, expr, at, v1.WithTimeout(s.cfg.Timeout))
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", expr, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return 0, fmt.Errorf("query %s: got a %s, want a vector", expr, val.Type())
	}
	switch len(vec) {
	case 0:
		return 0, nil
	case 1:
		return finite(float64(vec[0].Value)), nil
	default:
		return 0, fmt.Errorf("query %s: %d series, want 1 (is the matcher too broad?)", expr, len(vec))
	}
}

// ErrRange reports an invalid History range.
var ErrRange = errors.New("invalid history range")

// History returns one sample per step in (from, to]: each covers the step
// before its timestamp, so the samples tile the range. Steps with no data at
// all (before the function existed) are returned with zero values.
func (s *Source) History(ctx context.Context, function string, from, to time.Time, step time.Duration) ([]decide.Sample, error) {
	m, err := s.Matcher(function)
	if err != nil {
		return nil, fmt.Errorf("promsrc: %w", err)
	}
	if step < MinWindow {
		return nil, fmt.Errorf("promsrc: %w: step %s, want at least %s", ErrRange, step, MinWindow)
	}
	if !to.After(from) {
		return nil, fmt.Errorf("promsrc: %w: to %s is not after from %s", ErrRange, to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	n := int(to.Sub(from) / step)
	if n == 0 {
		return nil, fmt.Errorf("promsrc: %w: range %s is shorter than one step %s", ErrRange, to.Sub(from), step)
	}
	if n > MaxHistoryPoints {
		return nil, fmt.Errorf("promsrc: %w: %d steps, want at most %d (use a larger step)", ErrRange, n, MaxHistoryPoints)
	}
	from = from.Truncate(time.Millisecond) // Prometheus works in milliseconds
	// Timestamps from+step, from+2·step, … ≤ to.
	start := from.Add(step)
	end := from.Add(time.Duration(n) * step)
	samples := make([]decide.Sample, n)
	index := map[int64]int{}
	for i := range samples {
		at := start.Add(time.Duration(i) * step)
		samples[i] = decide.Sample{Function: function, At: at, Interval: step.Seconds()}
		index[at.UnixMilli()] = i
	}
	r := v1.Range{Start: start, End: end, Step: step}
	for _, q := range queries(m, step) {
		if err := s.ranged(ctx, q, r, samples, index); err != nil {
			return nil, fmt.Errorf("promsrc: %s of %s: %w", q.name, function, err)
		}
	}
	return samples, nil
}

func (s *Source) ranged(ctx context.Context, q query, r v1.Range, samples []decide.Sample, index map[int64]int) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	val, _, err := s.api.QueryRange(ctx, q.expr, r, v1.WithTimeout(s.cfg.Timeout))
	if err != nil {
		return fmt.Errorf("range query %s: %w", q.expr, err)
	}
	mat, ok := val.(model.Matrix)
	if !ok {
		return fmt.Errorf("range query %s: got a %s, want a matrix", q.expr, val.Type())
	}
	if len(mat) > 1 {
		return fmt.Errorf("range query %s: %d series, want 1 (is the matcher too broad?)", q.expr, len(mat))
	}
	if len(mat) == 0 {
		return nil
	}
	for _, p := range mat[0].Values {
		i, ok := index[int64(p.Timestamp)]
		if !ok {
			return fmt.Errorf("range query %s: point at %s is off the %s grid", q.expr, p.Timestamp.Time().UTC().Format(time.RFC3339), r.Step)
		}
		q.set(&samples[i], finite(float64(p.Value)))
	}
	return nil
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
