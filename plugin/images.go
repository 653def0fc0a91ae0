package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/prescale/prescale/plugin/api"
	"github.com/prescale/prescale/plugin/build"
	"github.com/prescale/prescale/plugin/devloop"
)

// images adapts the build registry (the stack built at start) and the
// inner loop's rebuilds (plugin/devloop) to api.Images and api.Resolver.
type images struct {
	mu   sync.RWMutex
	reg  *build.Registry
	loop *devloop.Loop // nil: no on-demand builds
}

func (i *images) set(reg *build.Registry) {
	i.mu.Lock()
	i.reg = reg
	i.mu.Unlock()
}

func (i *images) setLoop(l *devloop.Loop) {
	i.mu.Lock()
	i.loop = l
	i.mu.Unlock()
}

func (i *images) get() (*build.Registry, *devloop.Loop) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.reg, i.loop
}

func (i *images) Lookup(image string) (api.Artifact, bool) {
	reg, loop := i.get()
	var a build.Artifact
	ok := false
	if loop != nil {
		a, ok = loop.Lookup(image) // a rebuild is newer than the start-up build
	}
	if !ok && reg != nil {
		a, ok = reg.Lookup(image)
	}
	if !ok {
		return api.Artifact{}, false
	}
	return api.Artifact{Dir: a.Dir, Command: a.Command, Mode: a.Mode, Env: a.Env}, true
}

func (i *images) Known() []string {
	reg, loop := i.get()
	seen := map[string]bool{}
	if reg != nil {
		for _, k := range reg.Images() {
			seen[k] = true
		}
	}
	if loop != nil {
		for _, k := range loop.Known() {
			seen[k] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Resolve builds image from the stack file that names it when it is not
// built yet or its sources changed. An image no build source names is fine
// if it was built at start; otherwise 400 naming the sources searched. A
// failed build is 400 with the compiler's (or test's) output.
func (i *images) Resolve(ctx context.Context, service, image string) error {
	_, loop := i.get()
	if loop == nil {
		return nil
	}
	_, err := loop.Resolve(ctx, service, image)
	var be *build.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, devloop.ErrNoSource):
		if _, ok := i.Lookup(image); ok {
			return nil
		}
		return &api.Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(
			"image %s is not built by this plugin and no stack file it may build from names it "+
				"(add the stack file with `prescale up -f stack.yml -f fn.yml` or --build-from DIR; known: %s)",
			image, strings.Join(i.Known(), ", ")), Err: err}
	case errors.As(err, &be):
		return &api.Error{Status: http.StatusBadRequest, Msg: "build of " + image + " failed", Err: err}
	case ctx.Err() != nil:
		return &api.Error{Status: http.StatusServiceUnavailable, Msg: "build of " + image + " cancelled", Err: err}
	default:
		return &api.Error{Status: http.StatusInternalServerError, Msg: "build of " + image, Err: err}
	}
}
