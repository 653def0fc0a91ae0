package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prescale/prescale/internal/clock"
	"github.com/prescale/prescale/internal/dist"
	"github.com/prescale/prescale/pkg/faas"
)

// ErrNotFound is wrapped by every "no such function" error.
var ErrNotFound = errors.New("function not found")

// ErrClosed is returned once Close has been called.
var ErrClosed = errors.New("runtime is closed")

// DefaultNamespace is the only function namespace of the plugin.
const DefaultNamespace = faas.DefaultNamespace

// MinReplicasLabel is OpenFaaS's minimum-replicas label, the scale-from-zero target.
const MinReplicasLabel = "com.openfaas.scale.min"

// Manager runs every function's replicas (the lifecycle: this file,
// lifecycle.go, replica.go, process.go) and dispatches requests to them (one
// pool per function: pool.go, dispatch.go). All methods are safe for
// concurrent use. Lock order: Manager.mu, then a pool's mu, then the leaf
// locks (signal, logBuffer, the fake clock's); see doc.go.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	clk       clock.Clock
	runDir    string
	runLock   *os.File            // flock held while the Manager lives (rundir.go)
	uids      uint32              // per-function uids handed out (RunAsPerFunction)
	portFn    func() (int, error) // nil: loopbackPort (tests pick ports)
	probe     *http.Client
	transport *http.Transport

	ctx      context.Context // cancelled by Close: ends log followers
	cancel   context.CancelFunc
	hardStop chan struct{} // closed when Close's context expires: SIGKILL at once
	wg       sync.WaitGroup
	changed  signal // broadcast on every replica transition and dispatch change

	rngMu sync.Mutex // guards rng
	rng   *rand.Rand // Spec.StartupDist draws, seeded by Config.StartupSeed

	mu     sync.Mutex
	fns    map[string]*function
	closed bool
	dirSeq int // makes every replica's directory unique, even across re-deploys
}

// function is one deployed function. Fields are guarded by Manager.mu,
// except pool and logs (their own locks) and atZero (atomic).
type function struct {
	name      string
	spec      Spec
	gen       int
	desired   int
	atZero    atomic.Bool // desired == 0: read by Invoke without Manager.mu
	createdAt time.Time
	removed   bool

	replicas []*replica
	nextID   int
	uid      uint32 // with RunAsPerFunction: the function's own uid

	restarts        float64
	scaleFromZeroes float64
	// startHist: seconds from each replica's creation to its first ready.
	startHist waitHistogram

	pool *pool
	logs *logBuffer
}

func (fn *function) setDesired(n int) {
	fn.desired = n
	fn.atZero.Store(n == 0)
}

// New validates cfg (after defaults) and returns a Manager.
func New(cfg Config) (*Manager, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("runtime config: %w", err)
	}
	if err := os.MkdirAll(cfg.BaseDir, 0o755); err != nil {
		return nil, fmt.Errorf("runtime base dir: %w", err)
	}
	runDir, runLock, err := createRunDir(cfg.BaseDir, cfg.Logger, cfg.RunAs != nil || cfg.RunAsPerFunction)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Manager{
		cfg:       cfg,
		log:       cfg.Logger,
		clk:       cfg.Clock,
		runDir:    runDir,
		runLock:   runLock,
		probe:     &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		transport: tr,
		ctx:       ctx,
		cancel:    cancel,
		hardStop:  make(chan struct{}),
		fns:       map[string]*function{},
		rng:       rand.New(rand.NewPCG(cfg.StartupSeed, startupStream)),
	}, nil
}

// Deploy creates the function, or updates it when it exists.
func (m *Manager) Deploy(ctx context.Context, s Spec) error {
	if err := validateSpec(s); err != nil {
		return err
	}
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if fn, ok := m.fns[s.Name]; ok {
		m.updateLocked(fn, s)
		return nil
	}
	fn := &function{
		name:      s.Name,
		spec:      s,
		gen:       1,
		createdAt: m.clk.Now(),
		pool:      newPool(s.Name, m.clk, m.cfg.ColdStartWait, m.cfg.MaxQueued, m.changed.broadcast),
		logs:      newLogBuffer(m.cfg.LogLines, m.clk, m.changed.broadcast),
	}
	fn.setDesired(s.Replicas)
	m.uids++
	fn.uid = PerFunctionUIDBase + m.uids // a new uid even for a name deployed before and removed
	m.fns[s.Name] = fn
	m.log.Info("function deployed", "function", s.Name, "mode", s.Mode, "replicas", s.Replicas)
	m.reconcileLocked(fn)
	return nil
}

// Update replaces the function's spec with a rolling update: replicas of the
// new spec start, and each old replica stops only once enough new ones are
// ready. The desired replica count is kept, raised to Spec.Replicas if that
// is higher. ErrNotFound if absent.
func (m *Manager) Update(ctx context.Context, s Spec) error {
	if err := validateSpec(s); err != nil {
		return err
	}
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	fn, err := m.lookupLocked(s.Name)
	if err != nil {
		return err
	}
	m.updateLocked(fn, s)
	return nil
}

func (m *Manager) updateLocked(fn *function, s Spec) {
	fn.spec = s
	fn.gen++
	if s.Replicas > fn.desired {
		fn.setDesired(s.Replicas)
	}
	m.log.Info("function updated", "function", fn.name, "generation", fn.gen, "replicas", fn.desired)
	m.reconcileLocked(fn)
}

// Remove stops every replica of the function (draining in-flight requests)
// and forgets it. Queued requests get 503. ErrNotFound if absent.
func (m *Manager) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn, err := m.lookupLocked(name)
	if err != nil {
		return err
	}
	delete(m.fns, fn.name)
	fn.removed = true
	fn.setDesired(0)
	fn.pool.close()
	m.reconcileLocked(fn)
	fn.logs.close()
	m.log.Info("function removed", "function", fn.name)
	return nil
}

// Scale sets the desired replica count (0 allowed). ErrNotFound if absent.
func (m *Manager) Scale(ctx context.Context, name string, replicas int) error {
	if replicas < 0 || replicas > 1000 {
		return fmt.Errorf("replicas %d out of range (allowed 0..1000)", replicas)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fn, err := m.lookupLocked(name)
	if err != nil {
		return err
	}
	if fn.desired != replicas {
		m.log.Info("function scaled", "function", fn.name, "from", fn.desired, "to", replicas)
	}
	fn.setDesired(replicas)
	m.reconcileLocked(fn)
	return nil
}

// Status returns the function's desired and available replicas. ErrNotFound if absent.
func (m *Manager) Status(name string) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn, err := m.lookupLocked(name)
	if err != nil {
		return Status{}, err
	}
	return fn.statusLocked(), nil
}

// List returns every function's status, sorted by name.
func (m *Manager) List() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.fns))
	for _, fn := range m.fns {
		out = append(out, fn.statusLocked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out
}

func (fn *function) statusLocked() Status {
	return Status{
		Spec:              fn.spec,
		Replicas:          fn.desired,
		AvailableReplicas: fn.pool.available(),
		InvocationCount:   fn.pool.counters().invocations,
		CreatedAt:         fn.createdAt,
	}
}

// ReplicaStatus describes one replica (one OS process at a time).
type ReplicaStatus struct {
	ID         string // the logs' instance
	PID        int    // 0 while no process runs
	Port       int
	State      string // starting, ready, draining, restarting
	Phase      string // the state machine's state (doc.go): starting, probing, warming, ready, ...
	Inflight   int
	Requests   int64 // requests dispatched to this replica, over all its processes
	Restarts   int
	Generation int // spec generation; Update increments it
	StartedAt  time.Time
	ReadyAt    time.Time // zero until ready
}

// Replicas describes every live replica of the function, sorted by ID
// numerically. ErrNotFound if absent.
func (m *Manager) Replicas(name string) ([]ReplicaStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn, err := m.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	out := make([]ReplicaStatus, 0, len(fn.replicas))
	for _, r := range fn.replicas {
		st := fn.pool.stats(r.slot)
		out = append(out, ReplicaStatus{
			ID: r.id, PID: r.pid, Port: r.port, State: r.state.public(r.stopping), Phase: r.state.String(),
			Inflight: st.inflight, Requests: st.requests,
			Restarts: r.restarts, Generation: r.gen, StartedAt: r.startedAt, ReadyAt: r.readyAt,
		})
	}
	return out, nil
}

// WaitAvailable blocks until the function has at least n ready replicas, or
// ctx ends. ErrNotFound if the function is absent or removed meanwhile.
func (m *Manager) WaitAvailable(ctx context.Context, name string, n int) error {
	for {
		changed := m.changed.wait() // before the check: no change is missed
		st, err := m.Status(name)
		if err != nil {
			return err
		}
		if st.AvailableReplicas >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d available replicas of %s (have %d): %w", n, name, st.AvailableReplicas, ctx.Err())
		case <-changed:
		}
	}
}

// lookupLocked resolves "fn" or "fn.openfaas-fn" to the function.
func (m *Manager) lookupLocked(name string) (*function, error) {
	if fn, ok := m.fns[name]; ok {
		return fn, nil
	}
	if base, ns := faas.SplitName(name); ns != "" {
		if fn, ok := m.fns[base]; ok {
			if ns == fn.spec.Namespace || ns == DefaultNamespace {
				return fn, nil
			}
			return nil, fmt.Errorf("function %q: namespace %q is not served (allowed %q): %w", base, ns, fn.spec.Namespace, ErrNotFound)
		}
	}
	return nil, fmt.Errorf("function %q: %w", name, ErrNotFound)
}

// Close stops every replica (drain, SIGTERM, SIGKILL after StopGrace) and
// waits for every process and goroutine. When ctx ends first, the remaining
// processes are killed at once. Calling Close twice is harmless.
func (m *Manager) Close(ctx context.Context) error {
	m.cancel()
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		for _, fn := range m.fns {
			fn.pool.close()
			m.reconcileLocked(fn)
			fn.logs.close()
		}
	}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		m.mu.Lock()
		select {
		case <-m.hardStop:
		default:
			close(m.hardStop)
		}
		m.mu.Unlock()
		<-done
		err = fmt.Errorf("runtime close: replicas killed before draining: %w", ctx.Err())
	}
	m.transport.CloseIdleConnections()
	if rerr := os.RemoveAll(m.runDir); rerr != nil {
		m.log.Warn("removing run dir", "dir", m.runDir, "err", rerr)
	}
	m.runLock.Close()
	return err
}

// startupStream is the second PCG word of the startup-delay source.
const startupStream = 0x5eed

// startupDelay is how long a new replica of s stays unready once healthy:
// a draw from s.StartupDist, or the fixed s.StartupDelay.
func (m *Manager) startupDelay(s Spec) time.Duration {
	if s.StartupDist == nil {
		return s.StartupDelay
	}
	m.rngMu.Lock()
	defer m.rngMu.Unlock()
	return dist.Duration(s.StartupDist, m.rng)
}
