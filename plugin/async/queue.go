package async

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Queue is the async endpoint and its queue worker.
type Queue struct {
	cfg     Config
	names   Names
	metrics *metrics
	retry   map[int]bool

	emb    *Embedded
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	pools   map[string]*pool
	started bool
	closed  bool
}

// pool is one function's consumer and its workers.
type pool struct {
	fn      string
	cons    jetstream.Consumer
	workers []context.CancelFunc
}

// New validates cfg, starts (or connects to) NATS and creates the streams.
// Requests are accepted from now on; Start runs the workers.
func New(cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	q := &Queue{
		cfg:     cfg,
		names:   Names{Stream: cfg.Stream, Subject: cfg.Subject, DLQStream: cfg.DLQStream, DLQSubject: cfg.DLQSubject},
		metrics: newMetrics(),
		retry:   map[int]bool{},
		pools:   map[string]*pool{},
	}
	for _, c := range cfg.RetryCodes {
		q.retry[c] = true
	}
	var err error
	if cfg.NATSURL != "" {
		q.nc, err = Connect(cfg.NATSURL, "prescale-async")
	} else {
		if cfg.Token == "" {
			cfg.Token = NewToken()
		}
		q.emb, err = StartEmbedded(cfg.StoreDir, cfg.Host, cfg.Port, cfg.Token)
		if err == nil {
			q.nc, err = q.emb.Connect("prescale-async")
		}
	}
	if err != nil {
		q.shutdownNATS()
		return nil, err
	}
	q.js, err = jetstream.New(q.nc)
	if err != nil {
		q.shutdownNATS()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.PublishTimeout+10e9)
	defer cancel()
	if err := ensureStreams(ctx, q.js, q.names, limitsOf(cfg)); err != nil {
		q.shutdownNATS()
		return nil, fmt.Errorf("async: %w", err)
	}
	if q.stream, err = q.js.Stream(ctx, q.names.Stream); err != nil {
		q.shutdownNATS()
		return nil, fmt.Errorf("async: stream %s: %w", q.names.Stream, err)
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	return q, nil
}

// NATSTraffic is the embedded server's message counters; an error when the
// queue uses an external NATS (Config.NATSURL).
func (q *Queue) NATSTraffic() (Traffic, error) {
	if q.emb == nil {
		return Traffic{}, errors.New("async: an external NATS server: its counters are its own (monitoring port)")
	}
	return q.emb.Traffic()
}

// NATSURL is the URL functions use to reach the same NATS: for the
// embedded server, with its token (a secret: WithoutCredentials for show).
func (q *Queue) NATSURL() string {
	if q.emb != nil {
		return q.emb.ClientURL()
	}
	return q.cfg.NATSURL
}

// Start resumes every function's consumer found on the stream and runs the
// workers until ctx is done or Close is called.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return errClosed
	}
	if q.started {
		q.mu.Unlock()
		return errors.New("async queue already started")
	}
	q.started = true
	for _, p := range q.pools {
		q.resizeLocked(p)
	}
	q.mu.Unlock()
	if err := q.rescan(ctx); err != nil {
		return err
	}
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		q.rescanLoop(ctx)
	}()
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		select {
		case <-ctx.Done():
			q.cancel()
		case <-q.ctx.Done():
		}
	}()
	return nil
}

// Close stops accepting, stops the workers (unfinished messages stay on the
// stream and are redelivered later) and shuts NATS down.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("async close: workers still running: %w", ctx.Err())
	}
	q.shutdownNATS()
	return err
}

func (q *Queue) shutdownNATS() {
	if q.nc != nil {
		q.nc.Close()
	}
	if q.emb != nil {
		q.emb.Shutdown()
	}
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// ensurePool returns fn's pool, creating its durable consumer first.
func (q *Queue) ensurePool(ctx context.Context, fn string) (*pool, error) {
	q.mu.Lock()
	p := q.pools[fn]
	q.mu.Unlock()
	if p != nil {
		return p, nil
	}
	cons, err := q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       consumerName(fn),
		Description:   "prescale queue worker for " + fn,
		FilterSubject: q.names.subject(fn),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    q.cfg.MaxAttempts + q.cfg.DeadLetterRetries,
		MaxAckPending: 10000,
		MaxWaiting:    1024,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer for %s: %w", fn, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if p := q.pools[fn]; p != nil {
		return p, nil
	}
	p = &pool{fn: fn, cons: cons}
	q.pools[fn] = p
	if q.started && !q.closed {
		q.resizeLocked(p)
	}
	return p, nil
}

// concurrency is fn's worker count: the annotation, else Config.Concurrency.
func (q *Queue) concurrency(fn string) int {
	a, ok := q.cfg.Functions.(Annotations)
	if !ok {
		return q.cfg.Concurrency
	}
	v, ok := a.Annotations(fn)[ConcurrencyAnnotation]
	if !ok {
		return q.cfg.Concurrency
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 1000 {
		q.cfg.Logger.Printf("function %s: annotation %s=%q ignored: must be an integer 1..1000", fn, ConcurrencyAnnotation, v)
		return q.cfg.Concurrency
	}
	return n
}

// resizeLocked starts or stops workers so p has concurrency(fn) of them.
func (q *Queue) resizeLocked(p *pool) {
	want := q.concurrency(p.fn)
	for len(p.workers) < want {
		wctx, cancel := context.WithCancel(q.ctx)
		p.workers = append(p.workers, cancel)
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			q.work(wctx, p)
		}()
	}
	for len(p.workers) > want {
		last := len(p.workers) - 1
		p.workers[last]()
		p.workers = p.workers[:last]
	}
}

// rescan finds functions with consumers or waiting messages and applies
// concurrency changes.
func (q *Queue) rescan(ctx context.Context) error {
	fns := map[string]bool{}
	info, err := q.stream.Info(ctx, jetstream.WithSubjectFilter(q.names.Subject+".>"))
	if err != nil {
		return fmt.Errorf("async rescan: stream info: %w", err)
	}
	for subj := range info.State.Subjects {
		fns[strings.TrimPrefix(subj, q.names.Subject+".")] = true
	}
	lister := q.stream.ListConsumers(ctx)
	for ci := range lister.Info() {
		if f, ok := strings.CutPrefix(ci.Config.FilterSubject, q.names.Subject+"."); ok && strings.HasPrefix(ci.Name, "fn_") {
			fns[f] = true
		}
	}
	if err := lister.Err(); err != nil {
		return fmt.Errorf("async rescan: list consumers: %w", err)
	}
	for fn := range fns {
		if !ValidFunctionName(fn) {
			continue
		}
		if _, err := q.ensurePool(ctx, fn); err != nil {
			return fmt.Errorf("async rescan: %w", err)
		}
	}
	q.retireIdle(ctx)
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		for _, p := range q.pools {
			q.resizeLocked(p)
		}
	}
	return nil
}

// retireIdle stops the workers and deletes the consumer of every function
// that no longer exists and has nothing pending. A request accepted in the
// meantime stays on the stream (work-queue retention) and the next rescan
// recreates the consumer for it, so nothing is lost.
func (q *Queue) retireIdle(ctx context.Context) {
	q.mu.Lock()
	var gone []*pool
	for fn, p := range q.pools {
		if !q.cfg.Functions.Exists(fn) {
			gone = append(gone, p)
		}
	}
	q.mu.Unlock()
	for _, p := range gone {
		info, err := p.cons.Info(ctx)
		if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
			continue
		}
		q.mu.Lock()
		if q.pools[p.fn] == p {
			for _, stop := range p.workers {
				stop()
			}
			p.workers = nil
			delete(q.pools, p.fn)
		}
		q.mu.Unlock()
		if err := q.stream.DeleteConsumer(ctx, consumerName(p.fn)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			q.cfg.Logger.Printf("function %s: delete idle consumer: %v", p.fn, err)
		}
	}
}
