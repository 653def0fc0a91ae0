package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"
	sdk "github.com/openfaas/go-sdk"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/pkg/source/promsrc"
	"github.com/prescale/prescale/pkg/state"
)

type config struct {
	gateway        *url.URL
	natsURL        string
	namespace      string
	source         string
	metricsURL     string
	historyLen     int
	payloadHistory int
	predictor      string
	callback       string
	probe          source.Probe
	prom           promsrc.Config // source=prometheus
	promBootstrap  int            // steps of history fetched by range queries when a function has none
}

func readConfig() (config, error) {
	var c config
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	c.gateway, err = fnutil.GatewayURL()
	if err != nil {
		return c, err
	}
	c.natsURL = fnutil.Env(fnutil.EnvNATS, fnutil.DefaultNATS)
	c.namespace = fnutil.Env(fnutil.EnvNS, "")
	c.source = fnutil.Env("source", "gateway")
	switch c.source {
	case "gateway", "probe":
	case "prometheus":
		c.prom, err = promConfig()
		add(err)
	default:
		add(fmt.Errorf("env source=%q: must be gateway, prometheus or probe", c.source))
	}
	c.promBootstrap, err = fnutil.EnvInt("prometheus_bootstrap", 60, 0, promsrc.MaxHistoryPoints)
	add(err)
	c.metricsURL = fnutil.Env("metrics_url", c.gateway.JoinPath("metrics").String())
	c.historyLen, err = fnutil.EnvInt("history_length", 360, 1, 100000)
	add(err)
	c.payloadHistory, err = fnutil.EnvInt("payload_history", 120, 1, 1000)
	add(err)
	c.predictor = fnutil.Env("predictor", "predictor")
	c.callback = fnutil.Env("callback_url", c.gateway.JoinPath("function", "scaler").String())
	if u, err := url.Parse(c.callback); err != nil || u.Scheme == "" || u.Host == "" {
		add(fmt.Errorf("env callback_url=%q: must be an absolute URL", c.callback))
	}
	c.probe = source.DefaultProbe(c.gateway.String())
	c.probe.Requests, err = fnutil.EnvInt("probe_requests", c.probe.Requests, 1, source.ProbeMaxRequests)
	add(err)
	c.probe.Concurrency, err = fnutil.EnvInt("probe_concurrency", c.probe.Concurrency, 1, source.ProbeMaxConcurrency)
	add(err)
	c.probe.QPS, err = fnutil.EnvFloat("probe_qps", c.probe.QPS, 0, source.ProbeMaxQPS)
	add(err)
	c.probe.Timeout, err = fnutil.EnvDuration("probe_timeout", c.probe.Timeout, time.Second, source.ProbeMaxTimeout)
	add(err)
	return c, errors.Join(errs...)
}

// promConfig reads the Prometheus source's settings (the keys of the chart's
// prescale-settings Secret): prometheus_url (required), prometheus_window,
// metrics_label_suffix.
func promConfig() (promsrc.Config, error) {
	c := promsrc.DefaultConfig()
	c.URL = fnutil.Env("prometheus_url", "")
	if c.URL == "" {
		return c, errors.New("env prometheus_url: required with source=prometheus, an absolute http(s) URL such as http://prometheus.openfaas:9090")
	}
	var err error
	c.Window, err = fnutil.EnvDuration("prometheus_window", c.Window, promsrc.MinWindow, time.Hour)
	if err != nil {
		return c, err
	}
	c.LabelSuffix = fnutil.Env(fnutil.EnvLabelSuffix, "")
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("env prometheus_url=%q, prometheus_window=%q, %s=%q: %w",
			c.URL, fnutil.Env("prometheus_window", ""), fnutil.EnvLabelSuffix, c.LabelSuffix, err)
	}
	return c, nil
}

// ObservePrometheus is load-probe's observation with source=prometheus, as
// Handle runs it: the configuration from the environment (prometheus_url,
// prometheus_window, metrics_label_suffix, prometheus_bootstrap), then, when
// the function has no history yet (known == 0), its history bootstrapped by
// range queries, and last the sample for the window ending at now. The
// samples are what Handle appends to the function's history.
func ObservePrometheus(ctx context.Context, function string, now time.Time, known int) ([]decide.Sample, error) {
	cfg, err := readConfig()
	if err != nil {
		return nil, err
	}
	if cfg.source != "prometheus" {
		return nil, fmt.Errorf("env source=%q: ObservePrometheus needs source=prometheus", cfg.source)
	}
	src, err := promsrc.New(cfg.prom, nil)
	if err != nil {
		return nil, err
	}
	return observeProm(ctx, cfg, src, function, now, known)
}

// observeProm bootstraps (when known == 0) and observes function.
func observeProm(ctx context.Context, cfg config, src *promsrc.Source, function string, now time.Time, known int) ([]decide.Sample, error) {
	var out []decide.Sample
	if steps := min(cfg.promBootstrap, cfg.historyLen-1); known == 0 && steps > 0 {
		w := cfg.prom.Window
		// Steps tile (now-(steps+1)·w, now-w]; the current sample covers the last window.
		hist, err := src.History(ctx, function, now.Add(-time.Duration(steps+1)*w), now.Add(-w), w)
		if err != nil {
			return nil, fmt.Errorf("bootstrap history: %w", err)
		}
		out = append(out, hist...)
	}
	s, err := src.Observe(ctx, function, now)
	if err != nil {
		return nil, err
	}
	return append(out, s), nil
}

// Result is load-probe's answer: what it observed and sent, per function.
type Result struct {
	At        time.Time      `json:"at"`
	Source    string         `json:"source"`
	Functions []FunctionRun  `json:"functions"`
	Skipped   []string       `json:"skipped,omitempty"` // not opted in
	Errors    map[string]any `json:"errors,omitempty"`
}

// FunctionRun is one function's probe.
type FunctionRun struct {
	Function string        `json:"function"`
	Sample   decide.Sample `json:"sample"`
	History  int           `json:"history"`
	CallID   string        `json:"call_id,omitempty"`
	Note     string        `json:"note,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// Handle is invoked by the cron connector (any body is ignored); GET
// …/metrics answers with load-probe's Prometheus metrics instead of a run.
func Handle(req handler.Request) (handler.Response, error) {
	m := processMetrics()
	if fnutil.IsMetricsRequest(req) {
		return fnutil.Metrics(m.reg)
	}
	res, err := run(req)
	m.record(res.StatusCode, time.Now())
	return res, err
}

func run(req handler.Request) (handler.Response, error) {
	cfg, err := readConfig()
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "load-probe configuration: %v", err)
	}
	client, _, err := fnutil.Gateway()
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "load-probe: %v", err)
	}
	ctx, cancel := context.WithTimeout(fnutil.Context(req), 60*time.Second)
	defer cancel()
	store, nc, err := state.Connect(ctx, cfg.natsURL, stateConfig(cfg))
	if err != nil {
		return fnutil.Error(http.StatusServiceUnavailable, "load-probe: state store: %v", err)
	}
	defer nc.Close()
	p := probe{cfg: cfg, gw: client, store: store, http: fnutil.HTTPClient()}
	res, status, err := p.run(ctx, time.Now().UTC())
	if err != nil {
		return fnutil.Error(status, "load-probe: %v", err)
	}
	return fnutil.JSON(status, res)
}

func stateConfig(cfg config) state.Config {
	sc := state.DefaultConfig()
	sc.HistoryLen = cfg.historyLen
	return sc
}

type probe struct {
	cfg   config
	gw    *sdk.Client
	store *state.Store
	http  *http.Client
}

func (p probe) run(ctx context.Context, now time.Time) (Result, int, error) {
	res := Result{At: now, Source: p.cfg.source, Errors: map[string]any{}}
	fns, err := p.gw.GetFunctions(ctx, p.cfg.namespace)
	if err != nil {
		return res, http.StatusBadGateway, fmt.Errorf("list functions through the gateway: %w", err)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	var targets []types.FunctionStatus
	for _, f := range fns {
		if f.Labels != nil && strings.EqualFold(strings.TrimSpace((*f.Labels)[decide.LabelEnabled]), "true") {
			targets = append(targets, f)
		} else {
			res.Skipped = append(res.Skipped, f.Name)
		}
	}
	var observe func(ctx context.Context, fn string) ([]decide.Sample, error)
	single := func(f func(ctx context.Context, fn string) (decide.Sample, error)) func(ctx context.Context, fn string) ([]decide.Sample, error) {
		return func(ctx context.Context, fn string) ([]decide.Sample, error) {
			s, err := f(ctx, fn)
			return []decide.Sample{s}, err
		}
	}
	switch p.cfg.source {
	case "probe":
		observe = single(func(ctx context.Context, fn string) (decide.Sample, error) { return p.cfg.probe.Observe(ctx, fn, now) })
	case "prometheus":
		src, err := promsrc.New(p.cfg.prom, p.http.Transport)
		if err != nil {
			return res, http.StatusInternalServerError, err
		}
		observe = func(ctx context.Context, fn string) ([]decide.Sample, error) {
			known, err := p.store.History(ctx, fn)
			if err != nil {
				return nil, err
			}
			return observeProm(ctx, p.cfg, src, fn, now, len(known))
		}
	default:
		g := source.Gateway{MetricsURL: p.cfg.metricsURL, Client: p.http, Store: p.store}
		var snaps map[string]source.Snapshot
		if len(targets) > 0 {
			snaps, err = g.Scrape(ctx, now)
			if err != nil {
				return res, http.StatusBadGateway, err
			}
		}
		observe = single(func(ctx context.Context, fn string) (decide.Sample, error) { return g.ObserveFrom(ctx, snaps, fn, now) })
	}
	failed := 0
	for _, f := range targets {
		run := p.one(ctx, f, observe, now)
		if run.Error != "" {
			failed++
			res.Errors[f.Name] = run.Error
			fmt.Fprintf(os.Stderr, "load-probe: %s: %s\n", f.Name, run.Error)
		}
		res.Functions = append(res.Functions, run)
	}
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	if failed > 0 && failed == len(targets) {
		return res, http.StatusBadGateway, nil
	}
	return res, http.StatusOK, nil
}

func (p probe) one(ctx context.Context, f types.FunctionStatus, observe func(context.Context, string) ([]decide.Sample, error), now time.Time) FunctionRun {
	run := FunctionRun{Function: f.Name}
	samples, err := observe(ctx, f.Name)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	if len(samples) == 0 {
		run.Error = "no sample observed"
		return run
	}
	for i := range samples {
		samples[i].Function = f.Name
	}
	s := &samples[len(samples)-1]
	if s.Replicas == 0 {
		s.Replicas = int(f.Replicas)
	}
	s.AvailableReplicas = int(f.AvailableReplicas)
	run.Sample = *s
	if len(samples) > 1 {
		run.Note = fmt.Sprintf("history bootstrapped with %d samples from Prometheus", len(samples)-1)
	}
	hist, err := p.store.AppendHistory(ctx, f.Name, samples...)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	run.History = len(hist)
	if run.Sample.Interval <= 0 {
		run.Note = "baseline recorded; rates from the next run"
		return run
	}
	if len(hist) > p.cfg.payloadHistory {
		hist = hist[len(hist)-p.cfg.payloadHistory:]
	}
	labels := map[string]string{}
	if f.Labels != nil {
		labels = *f.Labels
	}
	payload := chain.ProbePayload{
		Function: f.Name, Namespace: f.Namespace, At: now, Source: p.cfg.source,
		History: hist, Features: decide.FeaturesOf(run.Sample), Labels: labels,
		Replicas: int(f.Replicas), AvailableReplicas: int(f.AvailableReplicas),
	}
	body, err := json.Marshal(payload)
	if err != nil {
		run.Error = fmt.Sprintf("encode payload: %v", err)
		return run
	}
	run.CallID, err = fnutil.InvokeAsync(ctx, p.http, p.cfg.gateway, p.cfg.predictor, body, p.cfg.callback)
	if err != nil {
		run.Error = err.Error()
	}
	return run
}
