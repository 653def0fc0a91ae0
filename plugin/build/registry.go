package build

import (
	"sort"
	"strings"
	"sync"

	"github.com/prescale/prescale/plugin/runtime"
)

// Artifact is a built function, ready for the runtime to start replicas of.
type Artifact struct {
	// Function is the stack key the artifact was built from.
	Function string
	// Image is the stack's image for it (the deploy request's image).
	Image string
	Lang  string
	// Dir is build/<fn>: every replica's working directory.
	Dir string
	// Command is fprocess (the stack's, else template.yml's) split into argv;
	// for python3 the interpreter is resolved to an absolute path.
	Command []string
	Mode    runtime.Mode
	// Env holds the template's environment defaults (as its Dockerfile sets
	// them, minus upstream_url: the runtime gives each replica its own port
	// through upstream_url).
	Env map[string]string
}

// Registry maps images to artifacts. It is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	byImage map[string]Artifact
	byName  map[string]Artifact
}

// NewRegistry returns a registry holding arts.
func NewRegistry(arts ...Artifact) *Registry {
	r := &Registry{byImage: map[string]Artifact{}, byName: map[string]Artifact{}}
	for _, a := range arts {
		r.Add(a)
	}
	return r
}

// Add stores (or replaces) an artifact.
func (r *Registry) Add(a Artifact) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byImage[NormalizeImage(a.Image)] = a
	r.byName[a.Function] = a
}

// Lookup finds the artifact built for an image. Images compare after
// NormalizeImage, so "prescale/x", "prescale/x:latest" and
// "docker.io/prescale/x:latest" are the same. An image no function of the
// stack was built for is unknown (false).
func (r *Registry) Lookup(image string) (Artifact, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.byImage[NormalizeImage(image)]
	return a, ok
}

// Function finds the artifact built for a stack function by name.
func (r *Registry) Function(name string) (Artifact, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.byName[name]
	return a, ok
}

// Artifacts returns every artifact, sorted by function name.
func (r *Registry) Artifacts() []Artifact {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Artifact, 0, len(r.byName))
	for _, a := range r.byName {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Function < out[j].Function })
	return out
}

// Images returns the known images (normalized), sorted; handy for error
// messages that list what can be deployed.
func (r *Registry) Images() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.byImage))
	for k := range r.byImage {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NormalizeImage canonicalises an image reference the way Docker resolves
// it: no docker.io/ or library/ prefix, and ":latest" when no tag or digest
// is given. Surrounding space is trimmed.
func NormalizeImage(image string) string {
	s := strings.TrimSpace(image)
	for _, p := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimPrefix(s, "library/")
	if s == "" {
		return s
	}
	if strings.Contains(s, "@") {
		return s
	}
	last := s[strings.LastIndex(s, "/")+1:]
	if !strings.Contains(last, ":") {
		s += ":latest"
	}
	return s
}
