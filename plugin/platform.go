package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/auth"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/prescale/prescale/internal/fsutil"
	"github.com/prescale/prescale/plugin/api"
	"github.com/prescale/prescale/plugin/async"
	"github.com/prescale/prescale/plugin/gwmetrics"
	"github.com/prescale/prescale/plugin/runtime"
	"github.com/prescale/prescale/plugin/secrets"
	"github.com/prescale/prescale/plugin/stack"
)

// Service is a background part of the platform started after the gateway
// serves and stopped (in reverse order) before the runtime on Close.
type Service interface {
	Start(ctx context.Context) error
	Close(ctx context.Context) error
}

// engine is what the platform needs of the replica runtime; *runtime.Manager
// implements it. When it is also a prometheus.Collector, its metrics are
// served on /metrics.
type engine interface {
	api.Runtime
	Close(ctx context.Context) error
}

// Platform is the running plugin.
type Platform struct {
	cfg    Config
	log    *slog.Logger
	dir    string // absolute DataDir
	ln     net.Listener
	url    string
	router *mux.Router
	reg    *prometheus.Registry

	creds   secrets.Credentials
	store   *secrets.Store
	metrics *gwmetrics.Metrics
	images  *images
	rt      engine
	api     *api.API
	srv     *http.Server
	serveCh chan error

	queue *async.Queue // set by wireAsyncAndCron

	mu       sync.Mutex
	natsURL  string
	services []namedService
	stack    *stack.Stack
	started  bool
	serving  bool
	closed   bool
}

type namedService struct {
	name string
	svc  Service
}

// New validates cfg, prepares DataDir (credentials, secrets), binds the
// gateway's listener on 127.0.0.1:Port (so URL is known at once) and wires
// the runtime and the API. Nothing is built or served until Start.
func New(cfg Config, logger *slog.Logger) (*Platform, error) {
	p, err := newPlatform(cfg, logger, func(c runtime.Config) (engine, error) { return newRuntime(c) })
	if err != nil {
		return nil, err
	}
	if err := p.wireAsyncAndCron(); err != nil { // plugin/asynccron.go
		_ = p.Close(context.Background())
		return nil, err
	}
	if err := p.wireUI(); err != nil { // plugin/uiwire.go
		_ = p.Close(context.Background())
		return nil, err
	}
	if err := p.wireDevloop(); err != nil { // plugin/devloop.go
		_ = p.Close(context.Background())
		return nil, err
	}
	return p, nil
}

func newPlatform(cfg Config, logger *slog.Logger, newEngine func(runtime.Config) (engine, error)) (*Platform, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("plugin config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	p := &Platform{cfg: cfg, log: logger, dir: dir, natsURL: cfg.NATSURL, images: &images{}, serveCh: make(chan error, 1)}

	if p.store, err = secrets.Open(filepath.Join(dir, "secrets")); err != nil {
		return nil, err
	}
	if p.creds, err = secrets.EnsureCredentials(dir, p.store); err != nil {
		return nil, err
	}
	// The chain's HMAC key (stack.yml lists it for load-probe, predictor
	// and scaler): random on first start, kept after.
	if created, err := secrets.EnsureChainKey(p.store); err != nil {
		return nil, err
	} else if created {
		logger.Info("created secret "+secrets.ChainKey+" (the chain's signing key)", "dir", p.store.Dir())
	}

	rc := cfg.Runtime
	if rc.BaseDir == "" {
		rc.BaseDir = filepath.Join(dir, "run")
	}
	if err := os.MkdirAll(rc.BaseDir, 0o700); err != nil {
		return nil, fmt.Errorf("runtime dir: %w", err)
	}
	if cfg.RunAsAuto && rc.RunAs == nil && os.Geteuid() == 0 {
		if runtime.OthersCanReach(dir) {
			rc.RunAsPerFunction = true
		} else {
			logger.Warn("replicas run as root: other users cannot reach the data directory (e.g. it is under /root); use --data elsewhere to isolate them, or --run-as none to silence this", "data", dir)
		}
	}
	isolated := rc.RunAs != nil || rc.RunAsPerFunction
	switch {
	case rc.RunAsPerFunction:
		logger.Info("replicas run as unprivileged users, one uid per function", "first_uid", runtime.PerFunctionUIDBase+1)
	case rc.RunAs != nil:
		logger.Info("replicas run as an unprivileged user", "user", rc.RunAs.Name, "uid", rc.RunAs.Uid)
	}
	if err := openForRunAs(isolated, dir, rc.BaseDir, logger); err != nil {
		return nil, err
	}
	if isolated && len(rc.WatchdogCommand) == 0 {
		// The replica users must be able to run the watchdog: a copy of this
		// executable in the run dir, wherever the original lives (e.g. /root).
		wd, err := copyExecutable(filepath.Join(rc.BaseDir, "prescale-watchdog"))
		if err != nil {
			return nil, fmt.Errorf("replica users: %w", err)
		}
		rc.WatchdogCommand = []string{wd, "watchdog"}
	}
	if rc.Logger == nil {
		rc.Logger = logger.With("component", "runtime")
	}
	if p.rt, err = newEngine(rc); err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}

	suffix := ""
	if cfg.MetricsNamespaceSuffix {
		suffix = "." + api.Namespace
	}
	p.metrics = gwmetrics.New(suffix, p.replicaCounts)
	p.reg = prometheus.NewRegistry()
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if c, ok := p.rt.(prometheus.Collector); ok {
		cs = append(cs, c)
	}
	for _, c := range cs {
		if err := p.reg.Register(c); err != nil {
			p.closeRuntime()
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	if err := p.metrics.Register(p.reg); err != nil {
		p.closeRuntime()
		return nil, err
	}

	p.api, err = api.New(api.Config{
		Runtime:     p.rt,
		Images:      p.images,
		Secrets:     p.store,
		Metrics:     p.metrics,
		Credentials: &auth.BasicAuthCredentials{User: p.creds.User, Password: p.creds.Password},
		BodyLimit:   cfg.BodyLimit,
		Env:         p.functionEnv,
		Version:     versionInfo(),
		LogsTimeout: cfg.WriteTimeout,
		Logger:      logger.With("component", "api"),
	})
	if err != nil {
		p.closeRuntime()
		return nil, err
	}
	p.router = mux.NewRouter()
	p.api.Register(p.router)
	p.router.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{}))

	p.ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.Port))
	if err != nil {
		p.closeRuntime()
		return nil, fmt.Errorf("gateway listen on 127.0.0.1:%d: %w", cfg.Port, err)
	}
	p.url = "http://" + p.ln.Addr().String()
	p.srv = &http.Server{
		Handler:           p.router,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    api.DefaultMaxHeaderBytes,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
	}
	return p, nil
}

// NATSTraffic is the embedded NATS server's message counters (the async
// queue's; an error with an external NATS).
func (p *Platform) NATSTraffic() (async.Traffic, error) {
	if p.queue == nil {
		return async.Traffic{}, errors.New("plugin: no async queue")
	}
	return p.queue.NATSTraffic()
}

// URL is the gateway's base URL, e.g. http://127.0.0.1:8080 (no trailing slash).
func (p *Platform) URL() string { return p.url }

// User and Password are the gateway's basic-auth credentials.
func (p *Platform) User() string     { return p.creds.User }
func (p *Platform) Password() string { return p.creds.Password }

// PasswordFile is where the password is kept (mode 0600).
func (p *Platform) PasswordFile() string { return p.creds.PasswordFile }

// PasswordCreated is true when this New generated the password (first start).
func (p *Platform) PasswordCreated() bool { return p.creds.Created }

// LoginCommand is the faas-cli login line for this gateway.
func (p *Platform) LoginCommand() string {
	return fmt.Sprintf("echo -n %s | faas-cli login -u %s --password-stdin -g %s", p.creds.Password, p.creds.User, p.url)
}

// Config is the configuration in effect (defaults applied).
func (p *Platform) Config() Config { return p.cfg }

// DataDir is the absolute data directory.
func (p *Platform) DataDir() string { return p.dir }

// Router is the gateway's router: add routes (e.g. /async-function/) before Start.
func (p *Platform) Router() *mux.Router { return p.router }

// Registry is the platform's Prometheus registry, served on /metrics.
func (p *Platform) Registry() *prometheus.Registry { return p.reg }

// API gives direct access to the provider API (e.g. Deploy without HTTP).
func (p *Platform) API() *api.API { return p.api }

// AddService adds a service started by Start (in order, after the gateway
// serves) and closed by Close (in reverse order, before the runtime), even
// when Start never ran or failed before reaching it.
func (p *Platform) AddService(name string, s Service) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.services = append(p.services, namedService{name, s})
}

// SetNATSURL sets the NATS_URL given to functions deployed from now on.
// A NATS service calls it in its Start, which runs before the stack is deployed.
func (p *Platform) SetNATSURL(url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.natsURL = url
}

// NATSURL is the URL of the NATS functions use (the embedded server's,
// with its token, or Config.NATSURL): a secret — functions get it as the
// nats-url secret, and as NATS_URL only without credentials.
func (p *Platform) NATSURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.natsURL
}

// functionEnv is the environment every function gets on top of its own.
func (p *Platform) functionEnv() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return map[string]string{"gateway_url": p.url, "NATS_URL": async.WithoutCredentials(p.natsURL)}
}

// Exists reports whether a function is deployed.
func (p *Platform) Exists(name string) bool {
	_, err := p.rt.Status(name)
	return err == nil
}

// Annotations returns a deployed function's annotations (nil if absent).
func (p *Platform) Annotations(name string) map[string]string {
	st, err := p.rt.Status(name)
	if err != nil || st.Spec.Deployment.Annotations == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range *st.Spec.Deployment.Annotations {
		out[k] = v
	}
	return out
}

// Functions returns the state of every deployed function.
func (p *Platform) Functions() []runtime.Status { return p.rt.List() }

func (p *Platform) replicaCounts() map[string]int {
	out := map[string]int{}
	for _, st := range p.rt.List() {
		out[st.Spec.Name] = st.Replicas
	}
	return out
}

// Start builds the stack, serves the gateway, starts the services and, if
// Config.Deploy, deploys every function of the stack. On error the caller
// still calls Close.
func (p *Platform) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.started || p.closed {
		p.mu.Unlock()
		return errors.New("plugin: Start called twice or after Close")
	}
	p.started = true
	p.mu.Unlock()

	if p.cfg.StackFile != "" {
		st, err := p.buildStack(ctx)
		if err != nil {
			return err
		}
		p.mu.Lock()
		p.stack = st
		p.mu.Unlock()
	}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("plugin: closed during Start")
	}
	p.serving = true
	p.mu.Unlock()
	go func() {
		if err := p.srv.Serve(p.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.serveCh <- fmt.Errorf("gateway: %w", err)
		}
		close(p.serveCh)
	}()
	p.log.Info("gateway serving", "url", p.url)

	p.mu.Lock()
	services := append([]namedService(nil), p.services...)
	p.mu.Unlock()
	for _, s := range services {
		if err := s.svc.Start(ctx); err != nil {
			return fmt.Errorf("start %s: %w", s.name, err)
		}
		p.log.Info("service started", "service", s.name)
	}

	if p.cfg.Deploy && p.stack != nil {
		if err := p.DeployStack(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Wait blocks until ctx is done (nil) or the gateway's server fails (its error).
func (p *Platform) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err, ok := <-p.serveCh:
		if !ok {
			return nil
		}
		return err
	}
}

// Close stops serving (graceful until ctx ends), closes every added service
// in reverse order (started or not: a service's Close must cope with both),
// then stops every replica. It is safe to call more than once.
func (p *Platform) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	serving := p.serving
	services := append([]namedService(nil), p.services...)
	p.mu.Unlock()

	var errs []error
	if serving {
		if err := p.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("gateway shutdown: %w", err))
			_ = p.srv.Close()
		}
	} else {
		_ = p.ln.Close()
	}
	for i := len(services) - 1; i >= 0; i-- {
		if err := services[i].svc.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", services[i].name, err))
		}
	}
	if err := p.rt.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("runtime: %w", err))
	}
	return errors.Join(errs...)
}

func (p *Platform) closeRuntime() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = p.rt.Close(ctx)
}

// openForRunAs lets replicas running as other users (--run-as) reach what
// they need under the data directory and nothing else: the data and run
// directories become traversable but not listable (0711), the build tree
// readable (0755 directories; files keep their modes, at least o+r).
// Credentials (basic-auth-*) and the secret store stay the platform's
// alone (0600 / 0700).
func openForRunAs(isolated bool, dataDir, runDir string, log *slog.Logger) error {
	if !isolated {
		return nil
	}
	for _, d := range []string{dataDir, runDir} {
		if err := os.Chmod(d, 0o711); err != nil {
			return fmt.Errorf("replica users: %w", err)
		}
	}
	build := filepath.Join(dataDir, "build")
	if err := os.MkdirAll(build, 0o755); err != nil {
		return fmt.Errorf("replica users: %w", err)
	}
	err := filepath.WalkDir(build, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mode := fi.Mode().Perm() | 0o044
		if d.IsDir() || fi.Mode().Perm()&0o100 != 0 {
			mode |= 0o011
		}
		return os.Chmod(path, mode)
	})
	if err != nil {
		return fmt.Errorf("replica users: open the build tree: %w", err)
	}
	return nil
}

// copyExecutable copies this process's executable to dst (0755), for a
// user who cannot reach the original.
func copyExecutable(dst string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("watchdog executable: %w", err)
	}
	if err := fsutil.CopyAtomic(exe, dst, 0o755, nil); err != nil {
		return "", fmt.Errorf("watchdog copy: %w", err)
	}
	return dst, nil
}
