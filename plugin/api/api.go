package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/plugin/gwmetrics"
	"github.com/prescale/prescale/plugin/runtime"
)

// Namespace is the only function namespace the plugin has.
const Namespace = faas.DefaultNamespace

// Limits of the API; requests outside them get 400 with the range.
const (
	// MaxReplicas bounds scale requests and the com.openfaas.scale.* labels.
	MaxReplicas = 100
	// MaxNameLength bounds function names (a Kubernetes DNS label).
	MaxNameLength = 63
	// DefaultBodyLimit is the default request body limit (/function/ and /system/): 8 MiB.
	DefaultBodyLimit = 8 << 20
)

// Runtime runs functions' replicas; *runtime.Manager implements it.
type Runtime interface {
	Deploy(ctx context.Context, spec runtime.Spec) error
	Update(ctx context.Context, spec runtime.Spec) error
	Remove(ctx context.Context, name string) error
	Scale(ctx context.Context, name string, replicas int) error
	Status(name string) (runtime.Status, error)
	List() []runtime.Status
	// Invoke dispatches a /function/ request to a ready replica; path is
	// the remainder after the function name ("/" when empty).
	Invoke(w http.ResponseWriter, r *http.Request, name, path string)
	Logs(ctx context.Context, req logs.Request) (<-chan logs.Message, error)
}

// Artifact is a function image built by the plugin from the stack.
type Artifact struct {
	// Dir is the built function's directory (the replicas' working directory).
	Dir string
	// Command is the build's fprocess as argv, paths resolved.
	Command []string
	Mode    runtime.Mode
	// Env holds the template's default environment, including the build's
	// unresolved "fprocess" (e.g. "python3 index.py").
	Env map[string]string
}

// Images finds the artifact the plugin built for an image name.
type Images interface {
	Lookup(image string) (Artifact, bool)
	// Known lists the image names built, for error messages.
	Known() []string
}

// Resolver is implemented by an Images that can build an image on demand
// (plugin/devloop): Deploy calls Resolve before Lookup, so a deploy of an
// image not yet built, or whose sources changed, is built first. A failed
// Resolve fails the deploy with its *Error's status (else 500).
type Resolver interface {
	Resolve(ctx context.Context, service, image string) error
}

// SecretStore keeps secrets; *secrets.Store implements it.
type SecretStore interface {
	List() ([]string, error)
	Exists(name string) bool
	Create(name string, value []byte) error
	Update(name string, value []byte) error
	Delete(name string) error
	// Path is the file holding the secret's value.
	Path(name string) string
}

// SecretRefresher is implemented by a Runtime whose replicas hold copies
// of their secrets: the API tells it when a secret's value changes.
type SecretRefresher interface {
	RefreshSecret(name, src string) error
}

// Config wires the API. Runtime, Images, Secrets and Metrics are required.
type Config struct {
	Runtime Runtime
	Images  Images
	Secrets SecretStore
	Metrics *gwmetrics.Metrics
	// Credentials enable basic auth on /system/* (except namespaces); nil disables it.
	Credentials *auth.BasicAuthCredentials
	// BodyLimit bounds request bodies in bytes (413 beyond); 0 means DefaultBodyLimit.
	BodyLimit int64
	// Env returns environment variables given to every function (gateway_url,
	// NATS_URL); they override the deployment's values of the same name.
	Env func() map[string]string
	// Version is reported by /system/info.
	Version types.VersionInfo
	// LogsTimeout bounds a /system/logs request (follow included); 0 means 60s.
	LogsTimeout time.Duration
	Logger      *slog.Logger
}

// API holds the handlers.
type API struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns the API.
func New(cfg Config) (*API, error) {
	switch {
	case cfg.Runtime == nil:
		return nil, errors.New("api: Runtime is required")
	case cfg.Images == nil:
		return nil, errors.New("api: Images is required")
	case cfg.Secrets == nil:
		return nil, errors.New("api: Secrets is required")
	case cfg.Metrics == nil:
		return nil, errors.New("api: Metrics is required")
	case cfg.BodyLimit < 0:
		return nil, fmt.Errorf("api: BodyLimit must be >= 0 (0 = %d bytes), got %d", DefaultBodyLimit, cfg.BodyLimit)
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.LogsTimeout <= 0 {
		cfg.LogsTimeout = 60 * time.Second
	}
	if cfg.Env == nil {
		cfg.Env = func() map[string]string { return nil }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{cfg: cfg, log: cfg.Logger}, nil
}

// nameRoute is faas-provider's name expression as a mux pattern.
const nameRoute = "{name:[-a-zA-Z_0-9.]+}"

// Register mounts every route on r (faas-provider's layout). /async-function/
// is not mounted here: the async service adds it to the same router.
func (a *API) Register(r *mux.Router) {
	m := a.cfg.Metrics
	system := func(path string, h http.HandlerFunc, methods ...string) {
		var hh http.Handler = h
		if a.cfg.Credentials != nil {
			hh = auth.DecorateWithBasicAuth(h, a.cfg.Credentials)
		}
		r.Handle(path, m.InstrumentProvider(hh, routeLabel(path))).Methods(methods...)
	}
	system("/system/functions", a.listFunctions, http.MethodGet)
	system("/system/functions", a.deployFunction, http.MethodPost)
	system("/system/functions", a.updateFunction, http.MethodPut)
	system("/system/functions", a.deleteFunction, http.MethodDelete)
	system("/system/function/"+nameRoute, a.functionStatus, http.MethodGet)
	system("/system/scale-function/"+nameRoute, a.scaleFunction, http.MethodPost)
	system("/system/info", a.info, http.MethodGet)
	system("/system/logs", a.functionLogs, http.MethodGet)
	system("/system/secrets", a.listSecrets, http.MethodGet)
	system("/system/secrets", a.createSecret, http.MethodPost)
	system("/system/secrets", a.updateSecret, http.MethodPut)
	system("/system/secrets", a.deleteSecret, http.MethodDelete)

	// Open endpoints.
	r.Handle("/system/namespaces", m.InstrumentProvider(http.HandlerFunc(a.listNamespaces), "/system/namespaces")).Methods(http.MethodGet)
	r.Handle("/system/namespace/{name:[-a-zA-Z_0-9.]*}", m.InstrumentProvider(http.HandlerFunc(a.namespaceNotImplemented), "/system/namespace")).Methods(http.MethodGet)
	r.HandleFunc("/healthz", a.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/function/"+nameRoute, a.invokeFunction)
	r.HandleFunc("/function/"+nameRoute+"/", a.invokeFunction)
	r.HandleFunc("/function/"+nameRoute+"/{params:.*}", a.invokeFunction)
}

// routeLabel turns a route template into the provider metrics' path label
// (as faas-provider: /system/function/{name} → /system/function).
func routeLabel(path string) string {
	for i := 0; i < len(path); i++ {
		if path[i] == '{' {
			return path[:i-1]
		}
	}
	return path
}
