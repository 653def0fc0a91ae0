package cron

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openfaas/connector-sdk/types"
	sdk "github.com/openfaas/go-sdk"
	"github.com/prometheus/client_golang/prometheus"
	robfig "github.com/robfig/cron/v3"
)

// Topic is the annotation value that opts a function in.
const (
	Topic              = "cron-function"
	TopicAnnotation    = "topic"
	ScheduleAnnotation = "schedule"
	ConnectorName      = "cron-connector"
	DefaultUserAgent   = "prescale/cron-connector"
)

// Config configures a Connector. Zero values take the defaults.
type Config struct {
	// GatewayURL is the OpenFaaS gateway to list and invoke. Required.
	GatewayURL string
	// Username and Password are the gateway's basic auth (empty: none).
	Username, Password string
	// Async invokes /async-function/ instead of /function/.
	Async bool
	// RebuildInterval is how often the function set is re-read (10s).
	RebuildInterval time.Duration
	// RebuildTimeout bounds one listing (5s).
	RebuildTimeout time.Duration
	// InvokeTimeout bounds one invocation (60s).
	InvokeTimeout time.Duration
	// Location is the default time zone of schedules (local time).
	Location   *time.Location
	UserAgent  string
	Logger     *log.Logger
	HTTPClient *http.Client
	// Subscriber, if set, receives every invocation's result.
	Subscriber types.ResponseSubscriber
}

func (c Config) withDefaults() Config {
	if c.RebuildInterval == 0 {
		c.RebuildInterval = 10 * time.Second
	}
	if c.RebuildTimeout == 0 {
		c.RebuildTimeout = 5 * time.Second
	}
	if c.InvokeTimeout == 0 {
		c.InvokeTimeout = 60 * time.Second
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Logger == nil {
		c.Logger = log.New(os.Stderr, "cron: ", log.LstdFlags)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second}}
	}
	return c
}

// Validate reports invalid fields with their allowed ranges.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.GatewayURL); c.GatewayURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("GatewayURL %q: must be an absolute http(s) URL of the gateway", c.GatewayURL))
	}
	rng := func(field string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s %v: must be %v..%v", field, v, lo, hi))
		}
	}
	rng("RebuildInterval", c.RebuildInterval, 10*time.Millisecond, time.Hour)
	rng("RebuildTimeout", c.RebuildTimeout, time.Millisecond, 10*time.Minute)
	rng("InvokeTimeout", c.InvokeTimeout, time.Millisecond, 24*time.Hour)
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("Username and Password: set both for basic auth, or neither"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("cron config: %w", errors.Join(errs...))
	}
	return nil
}

// Job is one scheduled function; its identity is all three fields.
type Job struct {
	Name, Namespace, Schedule string
}

// target is the function path segment: name.namespace, as cron-connector.
func (j Job) target() string {
	if j.Namespace == "" {
		return j.Name
	}
	return j.Name + "." + j.Namespace
}

// Connector schedules cron-annotated functions.
type Connector struct {
	cfg    Config
	client *sdk.Client
	parser robfig.Parser
	cron   *robfig.Cron

	fires    *prometheus.CounterVec
	failures *prometheus.CounterVec

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	jobs      map[Job]robfig.EntryID
	badLogged map[Job]bool
	started   bool
}

// New validates cfg and builds a connector; Start runs it.
func New(cfg Config) (*Connector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gw, _ := url.Parse(cfg.GatewayURL)
	var auth sdk.ClientAuth
	if cfg.Username != "" {
		auth = &sdk.BasicAuth{Username: cfg.Username, Password: cfg.Password}
	}
	listClient := *cfg.HTTPClient
	listClient.Timeout = cfg.RebuildTimeout
	c := &Connector{
		cfg:    cfg,
		client: sdk.NewClient(gw, auth, &listClient),
		parser: robfig.NewParser(robfig.Minute | robfig.Hour | robfig.Dom | robfig.Month | robfig.Dow | robfig.Descriptor),
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_cron_fires_total",
			Help: "Scheduled invocations started by the cron connector.",
		}, []string{"function_name"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prescale_cron_failures_total",
			Help: "Scheduled invocations that failed (connection error or non-2xx).",
		}, []string{"function_name"}),
		jobs:      map[Job]robfig.EntryID{},
		badLogged: map[Job]bool{},
	}
	c.cron = robfig.New(robfig.WithLocation(cfg.Location), robfig.WithParser(c.parser))
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Start reads the function set once, starts the scheduler and re-reads the
// set every RebuildInterval until ctx is done or Close is called. A failed
// first listing is logged, not fatal (the gateway may still be starting).
func (c *Connector) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("cron connector already started")
	}
	c.started = true
	c.mu.Unlock()
	if err := c.Sync(ctx); err != nil {
		c.cfg.Logger.Printf("%v", err)
	}
	c.cron.Start()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(c.cfg.RebuildInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				c.cancel()
				return
			case <-c.ctx.Done():
				return
			case <-t.C:
				if err := c.Sync(c.ctx); err != nil && c.ctx.Err() == nil {
					c.cfg.Logger.Printf("%v", err)
				}
			}
		}
	}()
	return nil
}

// Close stops scheduling, cancels running invocations and waits for them.
func (c *Connector) Close(ctx context.Context) error {
	c.cancel()
	c.wg.Wait()
	select {
	case <-c.cron.Stop().Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cron close: invocations still running: %w", ctx.Err())
	}
}

// Jobs returns the scheduled jobs, sorted.
func (c *Connector) Jobs() []Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Job, 0, len(c.jobs))
	for j := range c.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Namespace != out[b].Namespace {
			return out[a].Namespace < out[b].Namespace
		}
		if out[a].Name != out[b].Name {
			return out[a].Name < out[b].Name
		}
		return out[a].Schedule < out[b].Schedule
	})
	return out
}

// Sync re-reads the gateway's function set and reconciles the jobs. On a
// listing error the affected jobs are kept and the error is returned.
func (c *Connector) Sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RebuildTimeout)
	defer cancel()
	namespaces, err := c.client.GetNamespaces(ctx)
	if err != nil {
		return fmt.Errorf("cron: list namespaces: %w (keeping %d jobs)", err, len(c.Jobs()))
	}
	want := map[Job]robfig.Schedule{}
	failedNS := map[string]bool{}
	var errs []error
	for _, ns := range namespaces {
		fns, err := c.client.GetFunctions(ctx, ns)
		if err != nil {
			failedNS[ns] = true
			errs = append(errs, fmt.Errorf("cron: list functions in namespace %q: %w", ns, err))
			continue
		}
		for _, fn := range fns {
			if fn.Annotations == nil {
				continue
			}
			ann := *fn.Annotations
			if ann[TopicAnnotation] != Topic {
				continue
			}
			if fn.Namespace == "" {
				fn.Namespace = ns
			}
			j := Job{Name: fn.Name, Namespace: fn.Namespace, Schedule: ann[ScheduleAnnotation]}
			sched, err := c.parser.Parse(j.Schedule)
			if err != nil {
				c.mu.Lock()
				if !c.badLogged[j] {
					c.badLogged[j] = true
					c.cfg.Logger.Printf("function %s: invalid schedule %q skipped: %v", j.target(), j.Schedule, err)
				}
				c.mu.Unlock()
				continue
			}
			want[j] = sched
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, id := range c.jobs {
		if _, ok := want[j]; ok || failedNS[j.Namespace] {
			continue
		}
		c.cron.Remove(id)
		delete(c.jobs, j)
		c.cfg.Logger.Printf("function %s: unscheduled %q", j.target(), j.Schedule)
	}
	for j, sched := range want {
		if _, ok := c.jobs[j]; ok {
			continue
		}
		c.jobs[j] = c.cron.Schedule(sched, robfig.FuncJob(func() { c.fire(j) }))
		c.cfg.Logger.Printf("function %s: scheduled %q", j.target(), j.Schedule)
	}
	return errors.Join(errs...)
}

// fire invokes j once.
func (c *Connector) fire(j Job) {
	fn := j.target()
	c.fires.WithLabelValues(fn).Inc()
	route := "/function/"
	if c.cfg.Async {
		route = "/async-function/"
	}
	u := strings.TrimRight(c.cfg.GatewayURL, "/") + route + fn
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.InvokeTimeout)
	defer cancel()
	start := time.Now()
	res := types.InvokerResponse{Context: ctx, Topic: Topic, Function: fn}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(nil))
	if err == nil {
		req.Header.Set("X-Topic", Topic)
		req.Header.Set("X-Connector", ConnectorName)
		req.Header.Set("User-Agent", c.cfg.UserAgent)
		var resp *http.Response
		if resp, err = c.cfg.HTTPClient.Do(req); err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			resp.Body.Close()
			res.Status, res.Header, res.Body = resp.StatusCode, &resp.Header, &body
			switch {
			case rerr != nil:
				err = fmt.Errorf("read response: %w", rerr)
			case resp.StatusCode < 200 || resp.StatusCode > 299:
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
	}
	res.Duration = time.Since(start)
	if err != nil {
		res.Error = fmt.Errorf("invoke %s: %w", fn, err)
		c.failures.WithLabelValues(fn).Inc()
		if c.ctx.Err() == nil {
			c.cfg.Logger.Printf("function %s: %v", fn, res.Error)
		}
	}
	if c.cfg.Subscriber != nil {
		c.cfg.Subscriber.Response(res)
	}
}

// Describe implements prometheus.Collector.
func (c *Connector) Describe(ch chan<- *prometheus.Desc) {
	c.fires.Describe(ch)
	c.failures.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Connector) Collect(ch chan<- prometheus.Metric) {
	c.fires.Collect(ch)
	c.failures.Collect(ch)
}
