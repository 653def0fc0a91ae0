package api

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/internal/dist"
	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/plugin/runtime"
)

// Labels and annotations the plugin reads from a deployment.
const (
	LabelScaleMin    = "com.openfaas.scale.min"
	LabelScaleMax    = "com.openfaas.scale.max"
	LabelScaleFactor = "com.openfaas.scale.factor"
	// AnnotationStartupDelay keeps every new replica unready for a Go
	// duration (e.g. "3s", at most MaxStartupDelay) after its process is
	// healthy, to emulate image pull and pod start on a cluster; or for a
	// draw per replica start from a distribution (internal/dist, the
	// simulator's cold start), e.g. "lognormal:2.5s,0.35,10s".
	AnnotationStartupDelay = "prescale.startup-delay"
	// MaxStartupDelay bounds AnnotationStartupDelay.
	MaxStartupDelay = 10 * time.Minute
)

// DefaultScaleMin is the initial replica count when com.openfaas.scale.min is absent.
const DefaultScaleMin = 1

// nameRE is faas-provider's name expression ([-a-zA-Z_0-9.]+) anchored.
var nameRE = regexp.MustCompile(`^[-a-zA-Z_0-9.]+$`)

// ValidateName checks a function name: faas-provider's expression, 1..63
// characters, not starting with '.'.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errorf(http.StatusBadRequest, "function name is required")
	case len(name) > MaxNameLength:
		return errorf(http.StatusBadRequest, "function name %q is %d characters long; the limit is %d", name, len(name), MaxNameLength)
	case !nameRE.MatchString(name) || strings.HasPrefix(name, "."):
		return errorf(http.StatusBadRequest, "invalid function name %q: use letters, digits, '-', '_' and '.' (not first)", name)
	}
	return nil
}

// checkDeployNamespace refuses deployments to a namespace other than ours (400).
func checkDeployNamespace(ns string) error {
	if ns != "" && ns != Namespace {
		return errorf(http.StatusBadRequest, "namespace %q is not available: this platform has only %q", ns, Namespace)
	}
	return nil
}

// specFor validates a deployment and maps it to a runtime.Spec. Every
// problem is an *Error with status 400.
func (a *API) specFor(fd types.FunctionDeployment) (runtime.Spec, error) {
	if err := ValidateName(fd.Service); err != nil {
		return runtime.Spec{}, err
	}
	if err := checkDeployNamespace(fd.Namespace); err != nil {
		return runtime.Spec{}, err
	}
	if fd.Image == "" {
		return runtime.Spec{}, errorf(http.StatusBadRequest, "image is required")
	}
	art, ok := a.cfg.Images.Lookup(fd.Image)
	if !ok {
		known := a.cfg.Images.Known()
		sort.Strings(known)
		return runtime.Spec{}, errorf(http.StatusBadRequest,
			"image %s is not built by this plugin; build it with `prescale up -f stack.yml` (known: %s)", fd.Image, strings.Join(known, ", "))
	}

	labels := map[string]string{}
	if fd.Labels != nil {
		labels = *fd.Labels
	}
	annotations := map[string]string{}
	if fd.Annotations != nil {
		annotations = *fd.Annotations
	}
	min, err := intLabel(labels, LabelScaleMin, DefaultScaleMin, 0, MaxReplicas)
	if err != nil {
		return runtime.Spec{}, err
	}
	max, err := intLabel(labels, LabelScaleMax, MaxReplicas, 1, MaxReplicas)
	if err != nil {
		return runtime.Spec{}, err
	}
	if min > max {
		return runtime.Spec{}, errorf(http.StatusBadRequest, "label %s=%d is above %s=%d", LabelScaleMin, min, LabelScaleMax, max)
	}
	if _, err := intLabel(labels, LabelScaleFactor, 10, 0, 100); err != nil {
		return runtime.Spec{}, err
	}
	var delay time.Duration
	var delayDist dist.Dist
	if v, ok := annotations[AnnotationStartupDelay]; ok {
		d, err := dist.ParseDelay(v, MaxStartupDelay)
		if err != nil {
			return runtime.Spec{}, errorf(http.StatusBadRequest,
				"annotation %s=%q must be a Go duration between 0s and %s (e.g. \"3s\") or a distribution lognormal:MEDIAN,SIGMA,MAX, uniform:LO,HI or fixed:D with every value in 0s..%s (e.g. %q): %v",
				AnnotationStartupDelay, v, MaxStartupDelay, MaxStartupDelay, dist.DefaultColdStart, err)
		}
		if strings.Contains(v, ":") {
			delayDist = d
		} else {
			delay = dist.Duration(d, nil) // fixed: the sample needs no source
		}
	}
	secretFiles := map[string]string{}
	for _, s := range fd.Secrets {
		if !a.cfg.Secrets.Exists(s) {
			return runtime.Spec{}, errorf(http.StatusBadRequest,
				"secret %q not found: create it first (faas-cli secret create %s)", s, s)
		}
		secretFiles[s] = a.cfg.Secrets.Path(s)
	}

	for k := range fd.EnvVars {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return runtime.Spec{}, errorf(http.StatusBadRequest, "environment variable name %q is invalid: it must be non-empty without '=' or NUL", k)
		}
	}
	env := map[string]string{}
	for k, v := range art.Env {
		env[k] = v
	}
	for k, v := range fd.EnvVars {
		env[k] = v
	}
	// fprocess: envVars fprocess > envProcess > the build's. When it is the
	// build's own fprocess, the build's resolved argv (absolute paths) is used.
	built := art.Env["fprocess"]
	if built == "" {
		built = strings.Join(art.Command, " ")
	}
	fprocess := built
	if fd.EnvProcess != "" {
		fprocess = fd.EnvProcess
	}
	if v, ok := fd.EnvVars["fprocess"]; ok && strings.TrimSpace(v) != "" {
		fprocess = v
	}
	command := strings.Fields(fprocess)
	if len(command) == 0 {
		return runtime.Spec{}, errorf(http.StatusBadRequest, "no fprocess: set envProcess or the fprocess environment variable")
	}
	if strings.Join(command, " ") == strings.Join(strings.Fields(built), " ") && len(art.Command) > 0 {
		command = append([]string(nil), art.Command...)
	}
	env["fprocess"] = fprocess
	for k, v := range a.cfg.Env() {
		if v != "" {
			env[k] = v
		}
	}

	maxInflight, err := intEnv(env, "max_inflight", 0, 1<<20)
	if err != nil {
		return runtime.Spec{}, err
	}
	var timeouts [3]time.Duration
	for i, k := range []string{"read_timeout", "write_timeout", "exec_timeout"} {
		if timeouts[i], err = durationEnv(env, k); err != nil {
			return runtime.Spec{}, err
		}
	}

	fd.Namespace = Namespace
	return runtime.Spec{
		Name:         fd.Service,
		Namespace:    Namespace,
		Deployment:   fd,
		Dir:          art.Dir,
		Command:      command,
		Mode:         art.Mode,
		Env:          env,
		SecretFiles:  secretFiles,
		Replicas:     min,
		MaxInflight:  maxInflight,
		StartupDelay: delay,
		StartupDist:  delayDist,
		ReadTimeout:  timeouts[0],
		WriteTimeout: timeouts[1],
		ExecTimeout:  timeouts[2],
	}, nil
}

// intLabel parses an integer label in lo..hi, or returns def when absent.
func intLabel(labels map[string]string, key string, def, lo, hi int) (int, error) {
	v, ok := labels[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "label %s=%q must be an integer between %d and %d", key, v, lo, hi)
	}
	return n, nil
}

func intEnv(env map[string]string, key string, lo, hi int) (int, error) {
	v, ok := env[key]
	if !ok || strings.TrimSpace(v) == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "environment %s=%q must be an integer between %d and %d", key, v, lo, hi)
	}
	return n, nil
}

func durationEnv(env map[string]string, key string) (time.Duration, error) {
	v, ok := env[key]
	if !ok || strings.TrimSpace(v) == "" {
		return 0, nil
	}
	d, err := faas.ParseDuration("environment "+key, v)
	if err != nil {
		return 0, errorf(http.StatusBadRequest,
			"environment %s=%q must be a non-negative number of seconds or a Go duration (e.g. \"30s\"): %v", key, v, err)
	}
	return d, nil
}
