package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/types"
	sdk "github.com/openfaas/go-sdk"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/pkg/source/promsrc"
	"github.com/prescale/prescale/pkg/state"
)

// ObservePrometheus is load-probe's observation with source=prometheus, as
// Handle runs it: the configuration from the environment (prometheus_url,
// prometheus_window, metrics_label_suffix, prometheus_bootstrap), then, when
// the function has no history yet (known == 0), its history bootstrapped by
// range queries, and last the sample for the window ending at now. The
// samples are what Handle appends to the function's history.
func ObservePrometheus(ctx context.Context, function string, now time.Time, known int) ([]decide.Sample, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	if cfg.source != sourcePrometheus {
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
	cfg, err := loadConfig()
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "load-probe configuration: %v", err)
	}
	client, err := fnutil.Gateway(cfg.Gateway)
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "load-probe: %v", err)
	}
	keys, err := fnutil.ChainKeys()
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "load-probe: the chain's payloads are signed: %v", err)
	}
	ctx, cancel := context.WithTimeout(fnutil.Context(req), 60*time.Second)
	defer cancel()
	store, nc, err := state.Connect(ctx, cfg.NATS, stateConfig(cfg))
	if err != nil {
		return fnutil.Error(http.StatusServiceUnavailable, "load-probe: state store: %v", err)
	}
	defer nc.Close()
	p := probe{cfg: cfg, gw: client, store: store, http: fnutil.HTTPClient(), keys: keys}
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
	keys  chainauth.Keys // signs every payload (secret prescale-chain-key)
}

func (p probe) run(ctx context.Context, now time.Time) (Result, int, error) {
	res := Result{At: now, Source: p.cfg.source, Errors: map[string]any{}}
	fns, err := p.gw.GetFunctions(ctx, p.cfg.Namespace)
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
	case sourceProbe:
		// One active probe at a time, whatever workers is: each sends
		// probe_concurrency requests of its own, and probes run together
		// would measure each other's load (on a small machine, the
		// latency they report would be the sum of theirs).
		var one sync.Mutex
		observe = single(func(ctx context.Context, fn string) (decide.Sample, error) {
			one.Lock()
			defer one.Unlock()
			return p.cfg.probe.Observe(ctx, fn, now)
		})
	case sourcePrometheus:
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
	runs := make([]FunctionRun, len(targets))
	payloads := make([]*chain.ProbePayload, len(targets))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(p.cfg.workers, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				runs[i], payloads[i] = p.one(ctx, targets[i], observe, now)
			}
		}()
	}
	for i := range targets {
		work <- i
	}
	close(work)
	wg.Wait()
	p.send(ctx, now, runs, payloads)
	failed := 0
	for i, run := range runs {
		if run.Error != "" {
			failed++
			res.Errors[targets[i].Name] = run.Error
			fmt.Fprintf(os.Stderr, "load-probe: %s: %s\n", targets[i].Name, run.Error)
		}
	}
	res.Functions = runs
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	if failed > 0 && failed == len(targets) {
		return res, http.StatusBadGateway, nil
	}
	return res, http.StatusOK, nil
}

// one observes f and records the sample; the payload for predictor is nil
// when there is nothing to send (a baseline, an overlapping run, an error).
func (p probe) one(ctx context.Context, f types.FunctionStatus, observe func(context.Context, string) ([]decide.Sample, error), now time.Time) (FunctionRun, *chain.ProbePayload) {
	run := FunctionRun{Function: f.Name}
	samples, err := observe(ctx, f.Name)
	if errors.Is(err, source.ErrOverlap) {
		run.Note = "skipped: " + err.Error()
		return run, nil
	}
	if err != nil {
		run.Error = err.Error()
		return run, nil
	}
	if len(samples) == 0 {
		run.Error = "no sample observed"
		return run, nil
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
	if errors.Is(err, state.ErrOutOfOrder) {
		// An overlapping, later run stored a newer sample: it invokes
		// predictor, this one does not.
		run.Note = "skipped (overlapping run): " + err.Error()
		return run, nil
	}
	if err != nil {
		run.Error = err.Error()
		return run, nil
	}
	run.History = len(hist)
	if run.Sample.Interval <= 0 {
		run.Note = "baseline recorded; rates from the next run"
		return run, nil
	}
	labels := map[string]string{}
	if f.Labels != nil {
		labels = *f.Labels
	}
	arrivals, err := p.arrivals(ctx, f.Name, labels, run.Sample, now)
	if err != nil {
		run.Error = err.Error()
		return run, nil
	}
	if len(hist) > p.cfg.payloadHistory {
		hist = hist[len(hist)-p.cfg.payloadHistory:]
	}
	return run, &chain.ProbePayload{
		Function: f.Name, Namespace: f.Namespace, At: now, Source: p.cfg.source,
		History: hist, Features: decide.FeaturesOf(run.Sample), Labels: labels,
		Replicas: int(f.Replicas), AvailableReplicas: int(f.AvailableReplicas), Arrivals: arrivals,
	}
}

// batchOverhead bounds the bytes a batch adds to its items' (at, source,
// auth, brackets and commas are far fewer).
const batchOverhead = 1024

// send packs the payloads into shards of at most batch_size items and
// batch_max_bytes of body, signs each shard once and invokes predictor
// asynchronously once per shard; every run of a shard gets the shard's
// call id, or its error.
func (p probe) send(ctx context.Context, now time.Time, runs []FunctionRun, payloads []*chain.ProbePayload) {
	var idx []int
	var sizes []int
	for i, pl := range payloads {
		if pl == nil {
			continue
		}
		b, err := json.Marshal(pl)
		if err != nil {
			runs[i].Error = fmt.Sprintf("encode payload: %v", err)
			continue
		}
		idx = append(idx, i)
		sizes = append(sizes, len(b)+1)
	}
	for _, sh := range shards(sizes, p.cfg.batchSize, p.cfg.batchMaxBytes-batchOverhead) {
		members := idx[sh[0]:sh[1]]
		batch := chain.ProbeBatch{At: now, Source: p.cfg.source, Items: make([]chain.ProbePayload, 0, len(members))}
		for _, i := range members {
			batch.Items = append(batch.Items, *payloads[i])
		}
		callID, err := p.invoke(ctx, batch)
		for _, i := range members {
			if err != nil {
				runs[i].Error = err.Error()
			} else {
				runs[i].CallID = callID
			}
		}
	}
}

// invoke signs batch and posts it to predictor's async route.
func (p probe) invoke(ctx context.Context, batch chain.ProbeBatch) (string, error) {
	nonce, err := chainauth.NewID()
	if err == nil {
		err = batch.Sign(p.keys, time.Now().UTC(), nonce)
	}
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return "", fmt.Errorf("encode batch: %w", err)
	}
	return fnutil.InvokeAsync(ctx, p.http, p.cfg.Gateway, p.cfg.predictor, body, p.cfg.callback)
}

// shards splits items of the given encoded sizes, in order, into ranges
// [from, to) of at most maxItems items whose sizes sum to at most
// maxBytes; an item larger than maxBytes alone is a shard of its own.
func shards(sizes []int, maxItems, maxBytes int) [][2]int {
	var out [][2]int
	from, bytes := 0, 0
	for i, n := range sizes {
		if i > from && (i-from >= maxItems || bytes+n > maxBytes) {
			out = append(out, [2]int{from, i})
			from, bytes = i, 0
		}
		bytes += n
	}
	if from < len(sizes) {
		out = append(out, [2]int{from, len(sizes)})
	}
	return out
}

// arrivals feeds a scale-to-zero function's arrival model with the
// invocations of the interval s covers (the requests that arrived in it,
// s.Arrivals: the gateway's started counter, which counts a function also
// while it is at zero replicas, and counts a request when it arrives, not
// when it completes after a replica start) and returns it; nil
// for a function without scale to zero. Bad scale-to-zero labels are the
// scaler's to report (it answers 422 and changes nothing): here they only
// leave the model unfed.
func (p probe) arrivals(ctx context.Context, fn string, labels map[string]string, s decide.Sample, now time.Time) (*decide.ArrivalState, error) {
	set, err := decide.ParseZeroSettings(labels, decide.DefaultZeroSettings())
	if err != nil || !set.Enabled {
		return nil, nil
	}
	n := math.Round(s.Arrivals)
	t1 := s.At
	if t1.IsZero() {
		t1 = now
	}
	t0 := t1.Add(-time.Duration(s.Interval * float64(time.Second)))
	st, err := p.store.UpdateArrivals(ctx, fn, func(st *decide.ArrivalState) error {
		st.Configure(set)
		st.Update(n, t0, t1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("arrival model: %w", err)
	}
	return &st, nil
}
