package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/internal/dist"
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
	// SecretFiles maps each secret the function may read to the file its
	// value is copied from. Every replica gets its own copies, in its own
	// directory (its secret_mount_path): a replica sees the secrets its
	// spec lists and no path into the platform's store.
	SecretFiles map[string]string

	// Replicas is the initial replica count (com.openfaas.scale.min, default 1).
	Replicas int
	// MaxInflight bounds concurrent requests per replica; 0 means unbounded.
	MaxInflight int
	// StartupDelay keeps a new replica unready that long after its process
	// is healthy, to emulate image pull and pod start on a cluster.
	StartupDelay time.Duration
	// StartupDist, when set, replaces StartupDelay: each replica start
	// draws its delay from it (Config.StartupSeed seeds the draws). It is
	// the simulator's cold-start distribution type (internal/dist).
	StartupDist dist.Dist

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
	if s.StartupDist != nil && (s.StartupDist.Max() < 0 || s.StartupDist.Max() > (24*time.Hour).Seconds()) {
		errs = append(errs, fmt.Errorf("startupDist %s out of range (allowed samples in 0..24h)", s.StartupDist))
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
