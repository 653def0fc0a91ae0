package runtime

import (
	"time"

	"github.com/openfaas/faas-provider/types"
)

// Mode says how a function's replicas serve requests.
type Mode string

const (
	// ModeHTTP: each replica is one long-running process that serves HTTP on
	// its own loopback port (the golang-http template, of-watchdog http mode).
	ModeHTTP Mode = "http"
	// ModeFork: each replica is a classic-watchdog process on its own loopback
	// port that forks the function's process once per request (python3 template).
	ModeFork Mode = "fork"
)

// Spec is everything the runtime needs to run a function's replicas.
// The API layer builds it from a types.FunctionDeployment and the build registry.
type Spec struct {
	Name      string
	Namespace string
	// Deployment is the request as received, echoed back by status/list.
	Deployment types.FunctionDeployment

	// Dir is the built function's directory: the working directory of every replica.
	Dir string
	// Command is fprocess split into argv (e.g. ["./handler"], ["python3", "index.py"]).
	Command []string
	Mode    Mode
	// Env is the environment given to every replica on top of a minimal base
	// (PATH, HOME, TMPDIR per replica): envVars, fprocess, timeouts.
	Env map[string]string
	// SecretsDir holds one file per secret the function may read.
	SecretsDir string

	// Replicas is the initial replica count (com.openfaas.scale.min, default 1).
	Replicas int
	// MaxInflight bounds concurrent requests per replica; 0 means unbounded.
	MaxInflight int
	// StartupDelay keeps a new replica unready that long after its process
	// is healthy, to emulate image pull and pod start on a cluster.
	StartupDelay time.Duration

	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	ExecTimeout  time.Duration
}

// Status is a function's observed state.
type Status struct {
	Spec              Spec
	Replicas          int // desired
	AvailableReplicas int // ready now
	InvocationCount   float64
	CreatedAt         time.Time
}
