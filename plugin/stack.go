package plugin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/plugin/build"
	"github.com/prescale/prescale/plugin/stack"
)

// buildStack loads the stack file and builds its functions under <DataDir>/build.
func (p *Platform) buildStack(ctx context.Context) (*stack.Stack, error) {
	st, err := stack.Load(p.cfg.StackFile, stack.Options{})
	if err != nil {
		return nil, err
	}
	for _, w := range st.Warnings {
		p.log.Warn("stack", "warning", w)
	}
	b, err := build.New(build.Options{
		BuildDir:  filepath.Join(p.dir, "build"),
		SkipTests: p.cfg.SkipTests,
		Log:       p.log.With("component", "build"),
	})
	if err != nil {
		return nil, err
	}
	p.log.Info("building stack", "file", st.File, "functions", len(st.Functions))
	hashes := p.sourceHashes(st) // plugin/devloop.go
	reg, err := b.Build(ctx, st)
	if reg != nil {
		p.images.set(reg)
		p.seedHashes(reg, hashes)
	}
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", st.File, err)
	}
	return st, nil
}

// DeployStack deploys (or updates) every function of the built stack with
// the request `faas-cli deploy -f stack.yml` would send.
func (p *Platform) DeployStack(ctx context.Context) error {
	p.mu.Lock()
	st := p.stack
	p.mu.Unlock()
	if st == nil {
		return errors.New("plugin: no stack built (Config.StackFile is empty or Start has not run)")
	}
	var errs []error
	for _, name := range st.Names() {
		fd, err := p.deployment(st, name)
		if err == nil {
			err = p.api.Deploy(ctx, fd)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("deploy %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// deployment is faas-cli's deploy body for a stack function.
func (p *Platform) deployment(st *stack.Stack, name string) (types.FunctionDeployment, error) {
	f := st.Functions[name]
	env, err := st.Env(name)
	if err != nil {
		return types.FunctionDeployment{}, err
	}
	labels, annotations := copyMap(f.Labels), copyMap(f.Annotations)
	fd := types.FunctionDeployment{
		Service:                name,
		Image:                  f.Image,
		Namespace:              f.Namespace,
		EnvProcess:             f.FProcess,
		EnvVars:                env,
		Constraints:            f.Constraints,
		Secrets:                f.Secrets,
		Labels:                 &labels,
		Annotations:            &annotations,
		Limits:                 resources(f.Limits),
		Requests:               resources(f.Requests),
		ReadOnlyRootFilesystem: f.ReadOnlyRootFilesystem,
	}
	if fd.EnvProcess == "" {
		// faas-cli sends template.yml's fprocess; the build recorded it.
		if a, ok := p.images.Lookup(f.Image); ok {
			fd.EnvProcess = a.Env["fprocess"]
		}
	}
	return fd, nil
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func resources(r *stack.Resources) *types.FunctionResources {
	if r == nil {
		return nil
	}
	return &types.FunctionResources{Memory: r.Memory, CPU: r.CPU}
}
