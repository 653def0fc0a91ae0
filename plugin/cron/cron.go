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

	"github.com/prescale/prescale/internal/clock"
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
	// Clock drives the schedules and the rebuilds (default: the wall
	// clock; tests give a clock.Fake). The invocations' HTTP timeouts and
	// durations stay on real time.
	Clock clock.Clock
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
	if c.Clock == nil {
		c.Clock = clock.Real()
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
	clock  clock.Clock
	client *sdk.Client
	parser robfig.Parser

	fires    *prometheus.CounterVec
	failures *prometheus.CounterVec

	ctx     context.Context // cancelled by shutdown: ends the loop and the invocations
	cancel  context.CancelFunc
	loop    sync.WaitGroup // the rebuild loop
	invokes sync.WaitGroup // running invocations

	mu        sync.Mutex
	jobs      map[Job]*entry
	badLogged map[Job]bool
	started   bool // Start was called: jobs are armed
	closed    bool // shutdown: no job is armed or fires again
}

// entry is one scheduled job. While the connector runs, an entry in jobs
// has at most one armed timer; its callback re-arms it, so fires of one
// job never double up. An entry that left jobs never fires again: its
// timer is stopped, and a callback already under way sees it gone.
type entry struct {
	job   Job
	sched robfig.Schedule
	timer clock.Timer // nil: not armed (not started, or never due)
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
		clock:  cfg.Clock,
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
		jobs:      map[Job]*entry{},
		badLogged: map[Job]bool{},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Start arms the jobs, reads the function set once, and re-reads it every
// RebuildInterval of the clock until ctx is done or Close is called; either
// stops every schedule. A failed first listing is logged, not fatal (the
// gateway may still be starting).
func (c *Connector) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("cron connector already started")
	}
	c.started = true
	now := c.clock.Now()
	for _, e := range c.jobs { // those of a Sync before Start
		c.armLocked(e, now)
	}
	c.mu.Unlock()
	if err := c.Sync(ctx); err != nil {
		c.cfg.Logger.Printf("%v", err)
	}
	c.loop.Add(1)
	go c.rebuildLoop(ctx, c.clock.Now().Add(c.cfg.RebuildInterval))
	return nil
}

// rebuildLoop runs Sync at next and every RebuildInterval after it; a
// rebuild that outlasts an interval skips the ticks it missed, as a
// time.Ticker drops them.
func (c *Connector) rebuildLoop(ctx context.Context, next time.Time) {
	defer c.loop.Done()
	for {
		t := c.clock.NewTimer(next.Sub(c.clock.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			c.shutdown()
			return
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		if err := c.Sync(c.ctx); err != nil && c.ctx.Err() == nil {
			c.cfg.Logger.Printf("%v", err)
		}
		if now := c.clock.Now(); !next.After(now) {
			next = next.Add((now.Sub(next)/c.cfg.RebuildInterval + 1) * c.cfg.RebuildInterval)
		}
	}
}

// shutdown stops every schedule and cancels the rebuild loop and the
// running invocations. It is idempotent.
func (c *Connector) shutdown() {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, e := range c.jobs {
		c.disarmLocked(e)
	}
}

// Close stops scheduling, cancels running invocations and waits for them.
func (c *Connector) Close(ctx context.Context) error {
	c.shutdown()
	c.loop.Wait()
	done := make(chan struct{})
	go func() {
		c.invokes.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cron close: invocations still running: %w", ctx.Err())
	}
}

// armLocked arms e (unarmed) for its first time after now, unless the
// connector is not running. A schedule that never falls due (such as
// "0 0 30 2 *": Next gives the zero time) stays unarmed. Next is strictly
// after now, so the timer's delay is positive and its callback never runs
// inside this call (where c.mu is held).
func (c *Connector) armLocked(e *entry, now time.Time) {
	if !c.started || c.closed {
		return
	}
	e.timer = nil
	next := e.sched.Next(now.In(c.cfg.Location))
	if next.IsZero() {
		return
	}
	e.timer = c.clock.AfterFunc(next.Sub(now), func() { c.due(e, next) })
}

func (c *Connector) disarmLocked(e *entry) {
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
}

// due is e's timer callback for its time at: it re-arms e for its next
// time after both at and now (a late timer fires once, it does not catch
// up; a clock set back does not fire at again) and starts the invocation.
// It returns at once, so a slow invocation delays no other job.
func (c *Connector) due(e *entry, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.jobs[e.job] != e {
		return // unscheduled while its timer fired
	}
	now := c.clock.Now()
	if now.Before(at) {
		now = at
	}
	c.armLocked(e, now)
	c.start(e.job)
}

// start counts a fire of j and invokes j on a goroutine of its own.
func (c *Connector) start(j Job) {
	c.fires.WithLabelValues(j.target()).Inc()
	c.invokes.Add(1)
	go func() {
		defer c.invokes.Done()
		c.invoke(j)
	}()
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
	c.applyLocked(want, failedNS)
	return errors.Join(errs...)
}

// applyLocked makes the jobs those of want, except that the jobs of the
// namespaces in failedNS are kept: a removed job's timer is stopped, a new
// one armed.
func (c *Connector) applyLocked(want map[Job]robfig.Schedule, failedNS map[string]bool) {
	for j, e := range c.jobs {
		if _, ok := want[j]; ok || failedNS[j.Namespace] {
			continue
		}
		c.disarmLocked(e)
		delete(c.jobs, j)
		c.cfg.Logger.Printf("function %s: unscheduled %q", j.target(), j.Schedule)
	}
	now := c.clock.Now()
	for j, sched := range want {
		if _, ok := c.jobs[j]; ok {
			continue
		}
		e := &entry{job: j, sched: sched}
		c.jobs[j] = e
		c.armLocked(e, now)
		c.cfg.Logger.Printf("function %s: scheduled %q", j.target(), j.Schedule)
	}
}

// invoke calls j once and reports the result.
func (c *Connector) invoke(j Job) {
	fn := j.target()
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
