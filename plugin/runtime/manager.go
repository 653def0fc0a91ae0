package runtime

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotFound is wrapped by every "no such function" error.
var ErrNotFound = errors.New("function not found")

// ErrClosed is returned once Close has been called.
var ErrClosed = errors.New("runtime is closed")

// DefaultNamespace is the only function namespace of the plugin.
const DefaultNamespace = "openfaas-fn"

// MinReplicasLabel is OpenFaaS's minimum-replicas label, the scale-from-zero target.
const MinReplicasLabel = "com.openfaas.scale.min"

// Manager runs every function's replicas and dispatches requests to them.
// All methods are safe for concurrent use.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	runDir    string
	probe     *http.Client
	transport *http.Transport

	ctx      context.Context // cancelled by Close: ends log followers
	cancel   context.CancelFunc
	hardStop chan struct{} // closed when Close's context expires: SIGKILL at once
	wg       sync.WaitGroup

	mu     sync.Mutex
	fns    map[string]*function
	closed bool
	dirSeq int // makes every replica's directory unique, even across re-deploys
}

type function struct {
	name      string
	spec      Spec
	gen       int
	desired   int
	createdAt time.Time
	removed   bool

	replicas []*replica
	nextID   int
	rr       int // tie-break rotation for least-in-flight
	waiters  list.List

	invocations     float64
	restarts        float64
	coldStartWaits  float64
	coldStartWaitS  float64
	queueTimeouts   float64
	scaleFromZeroes float64

	logs *logBuffer
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
	runDir, err := os.MkdirTemp(cfg.BaseDir, "prescale-run-")
	if err != nil {
		return nil, fmt.Errorf("runtime run dir: %w", err)
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
		runDir:    runDir,
		probe:     &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		transport: tr,
		ctx:       ctx,
		cancel:    cancel,
		hardStop:  make(chan struct{}),
		fns:       map[string]*function{},
	}, nil
}

func validateSpec(s Spec) error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if strings.ContainsAny(s.Name, "/\x00") {
		errs = append(errs, fmt.Errorf("name %q contains '/' or NUL", s.Name))
	}
	switch s.Mode {
	case ModeHTTP, ModeFork:
	default:
		errs = append(errs, fmt.Errorf("mode %q unknown (allowed %q or %q)", s.Mode, ModeHTTP, ModeFork))
	}
	if len(s.Command) == 0 || s.Command[0] == "" {
		errs = append(errs, errors.New("command is empty (allowed: the function's argv, e.g. [\"./handler\"])"))
	}
	if s.Dir != "" {
		if fi, err := os.Stat(s.Dir); err != nil || !fi.IsDir() {
			errs = append(errs, fmt.Errorf("dir %q is not a directory", s.Dir))
		}
	}
	if len(s.Command) > 0 && s.Command[0] != "" {
		if err := checkExecutable(s); err != nil {
			errs = append(errs, err)
		}
		if s.Mode == ModeFork {
			for _, a := range s.Command {
				if a == "" || strings.ContainsAny(a, " \t\n") {
					errs = append(errs, fmt.Errorf("fork mode: command argument %q is empty or contains whitespace (the watchdog splits fprocess on spaces)", a))
				}
			}
		}
	}
	if s.Replicas < 0 || s.Replicas > 1000 {
		errs = append(errs, fmt.Errorf("replicas %d out of range (allowed 0..1000)", s.Replicas))
	}
	if s.MaxInflight < 0 {
		errs = append(errs, fmt.Errorf("maxInflight %d out of range (allowed 0 = unbounded or more)", s.MaxInflight))
	}
	for n, d := range map[string]time.Duration{"startupDelay": s.StartupDelay, "readTimeout": s.ReadTimeout,
		"writeTimeout": s.WriteTimeout, "execTimeout": s.ExecTimeout} {
		if d < 0 || d > 24*time.Hour {
			errs = append(errs, fmt.Errorf("%s %s out of range (allowed 0..24h)", n, d))
		}
	}
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			errs = append(errs, fmt.Errorf("env name %q invalid (no '=' or NUL, not empty)", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid spec for %q: %w", s.Name, err)
	}
	return nil
}

// checkExecutable finds the function's program: a path with a slash is
// relative to Spec.Dir, a bare name is looked up on PATH.
func checkExecutable(s Spec) error {
	prog := s.Command[0]
	if strings.Contains(prog, "/") {
		p := prog
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.Dir, p)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("command %q: %s is not an executable file", prog, p)
		}
		return nil
	}
	if _, ok := s.Env["PATH"]; ok {
		return nil // looked up on the function's own PATH at start
	}
	if _, err := exec.LookPath(prog); err != nil {
		return fmt.Errorf("command %q not found on PATH", prog)
	}
	return nil
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
		desired:   s.Replicas,
		createdAt: time.Now(),
		logs:      newLogBuffer(m.cfg.LogLines),
	}
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
		fn.desired = s.Replicas
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
	fn.desired = 0
	m.failWaitersLocked(fn)
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
	fn.desired = replicas
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
		AvailableReplicas: fn.readyCountLocked(),
		InvocationCount:   fn.invocations,
		CreatedAt:         fn.createdAt,
	}
}

// ReplicaStatus describes one replica (one OS process at a time).
type ReplicaStatus struct {
	ID         string // the logs' instance
	PID        int    // 0 while no process runs
	Port       int
	State      string // starting, ready, draining, restarting
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
		out = append(out, ReplicaStatus{
			ID: r.id, PID: r.pid, Port: r.port, State: r.state.String(), Inflight: r.inflight, Requests: r.requests,
			Restarts: r.restarts, Generation: r.gen, StartedAt: r.startedAt, ReadyAt: r.readyAt,
		})
	}
	return out, nil
}

// WaitAvailable blocks until the function has at least n ready replicas, or
// ctx ends. ErrNotFound if the function is absent or removed meanwhile.
func (m *Manager) WaitAvailable(ctx context.Context, name string, n int) error {
	t := time.NewTicker(m.cfg.ProbeInterval)
	defer t.Stop()
	for {
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
		case <-t.C:
		}
	}
}

// splitName resolves "fn" or "fn.openfaas-fn" to the function.
func (m *Manager) lookupLocked(name string) (*function, error) {
	if fn, ok := m.fns[name]; ok {
		return fn, nil
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ns := name[:i], name[i+1:]
		if fn, ok := m.fns[base]; ok {
			if ns == fn.spec.Namespace || ns == DefaultNamespace {
				return fn, nil
			}
			return nil, fmt.Errorf("function %q: namespace %q is not served (allowed %q): %w", base, ns, fn.spec.Namespace, ErrNotFound)
		}
	}
	return nil, fmt.Errorf("function %q: %w", name, ErrNotFound)
}

func (fn *function) readyCountLocked() int {
	n := 0
	for _, r := range fn.replicas {
		if r.routable() {
			n++
		}
	}
	return n
}

// scaleFromZeroTarget is max(1, com.openfaas.scale.min).
func scaleFromZeroTarget(s Spec) int {
	n := 1
	if s.Deployment.Labels != nil {
		if v, ok := (*s.Deployment.Labels)[MinReplicasLabel]; ok {
			if x, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && x > n && x <= 1000 {
				n = x
			}
		}
	}
	return n
}

// reconcileLocked starts and stops replicas so that the current generation
// has fn.desired replicas, and old generations keep serving only until enough
// current ones are ready.
func (m *Manager) reconcileLocked(fn *function) {
	if m.closed || fn.removed {
		for _, r := range fn.replicas {
			m.stopReplicaLocked(r)
		}
		return
	}
	var cur, old []*replica
	for _, r := range fn.replicas {
		if r.stopping {
			continue
		}
		if r.gen == fn.gen {
			cur = append(cur, r)
		} else {
			old = append(old, r)
		}
	}
	for i := len(cur); i < fn.desired; i++ {
		cur = append(cur, m.startReplicaLocked(fn))
	}
	if len(cur) > fn.desired {
		sortForStop(cur)
		for _, r := range cur[:len(cur)-fn.desired] {
			m.stopReplicaLocked(r)
		}
		cur = cur[len(cur)-fn.desired:]
	}
	ready := 0
	for _, r := range cur {
		if r.state == stateReady {
			ready++
		}
	}
	keep := fn.desired - ready
	if keep < 0 {
		keep = 0
	}
	if len(old) > keep {
		sortForStop(old)
		for _, r := range old[:len(old)-keep] {
			m.stopReplicaLocked(r)
		}
	}
}

// sortForStop orders replicas so the best to stop come first: not ready
// before ready, then fewest in flight, then newest.
func sortForStop(rs []*replica) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if (a.state == stateReady) != (b.state == stateReady) {
			return a.state != stateReady
		}
		if a.inflight != b.inflight {
			return a.inflight < b.inflight
		}
		return a.seq > b.seq
	})
}

func (m *Manager) startReplicaLocked(fn *function) *replica {
	fn.nextID++
	m.dirSeq++
	r := &replica{
		dir:     filepath.Join(m.runDir, fmt.Sprintf("%s-%d-%d", fn.name, fn.nextID, m.dirSeq)),
		fn:      fn,
		seq:     fn.nextID,
		id:      fmt.Sprintf("%s-%d", fn.name, fn.nextID),
		gen:     fn.gen,
		spec:    fn.spec,
		state:   stateStarting,
		stopCh:  make(chan struct{}),
		recheck: make(chan struct{}, 1),
	}
	fn.replicas = append(fn.replicas, r)
	m.wg.Add(1)
	go m.runReplica(r)
	return r
}

func (m *Manager) stopReplicaLocked(r *replica) {
	if r.stopping {
		return
	}
	r.stopping = true
	r.stopAt = time.Now()
	if r.state == stateReady {
		r.state = stateDraining
	}
	close(r.stopCh)
}

func (m *Manager) removeReplicaLocked(r *replica) {
	fn := r.fn
	for i, x := range fn.replicas {
		if x == r {
			fn.replicas = append(fn.replicas[:i], fn.replicas[i+1:]...)
			break
		}
	}
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
			m.failWaitersLocked(fn)
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
	return err
}
