package plugin

import (
	"sync"

	"github.com/prescale/prescale/plugin/api"
	"github.com/prescale/prescale/plugin/build"
)

// images adapts the build registry to api.Images; it is empty until the
// stack is built.
type images struct {
	mu  sync.RWMutex
	reg *build.Registry
}

func (i *images) set(reg *build.Registry) {
	i.mu.Lock()
	i.reg = reg
	i.mu.Unlock()
}

func (i *images) Lookup(image string) (api.Artifact, bool) {
	i.mu.RLock()
	reg := i.reg
	i.mu.RUnlock()
	if reg == nil {
		return api.Artifact{}, false
	}
	a, ok := reg.Lookup(image)
	if !ok {
		return api.Artifact{}, false
	}
	return api.Artifact{Dir: a.Dir, Command: a.Command, Mode: a.Mode, Env: a.Env}, true
}

func (i *images) Known() []string {
	i.mu.RLock()
	reg := i.reg
	i.mu.RUnlock()
	if reg == nil {
		return []string{}
	}
	return reg.Images()
}
