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
	if c.source != "gateway" && c.source != "probe" {
		add(fmt.Errorf("env source=%q: must be gateway or probe (prometheus: see pkg/source/promsrc)", c.source))
	}
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

// Handle is invoked by the cron connector (any body is ignored).
func Handle(req handler.Request) (handler.Response, error) {
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
	var observe func(ctx context.Context, fn string) (decide.Sample, error)
	switch p.cfg.source {
	case "probe":
		observe = func(ctx context.Context, fn string) (decide.Sample, error) { return p.cfg.probe.Observe(ctx, fn, now) }
	default:
		g := source.Gateway{MetricsURL: p.cfg.metricsURL, Client: p.http, Store: p.store}
		var snaps map[string]source.Snapshot
		if len(targets) > 0 {
			snaps, err = g.Scrape(ctx, now)
			if err != nil {
				return res, http.StatusBadGateway, err
			}
		}
		observe = func(ctx context.Context, fn string) (decide.Sample, error) { return g.ObserveFrom(ctx, snaps, fn, now) }
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

func (p probe) one(ctx context.Context, f types.FunctionStatus, observe func(context.Context, string) (decide.Sample, error), now time.Time) FunctionRun {
	run := FunctionRun{Function: f.Name}
	s, err := observe(ctx, f.Name)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	s.Function = f.Name
	if s.Replicas == 0 {
		s.Replicas = int(f.Replicas)
	}
	s.AvailableReplicas = int(f.AvailableReplicas)
	run.Sample = s
	hist, err := p.store.AppendHistory(ctx, f.Name, s)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	run.History = len(hist)
	if s.Interval <= 0 {
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
		History: hist, Features: decide.FeaturesOf(s), Labels: labels,
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
