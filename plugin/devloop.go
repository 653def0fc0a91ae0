package plugin

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/prescale/prescale/plugin/build"
	"github.com/prescale/prescale/plugin/devloop"
	"github.com/prescale/prescale/plugin/stack"
)

// watchInterval is how often `--watch` hashes the deployed functions' sources.
const watchInterval = time.Second

// wireDevloop lets deploys build images on demand (plugin/devloop) from the
// stack file, its directory and Config.BuildFrom, and with Config.Watch
// redeploys deployed functions whose sources change.
func (p *Platform) wireDevloop() error {
	var src devloop.Sources
	if p.cfg.StackFile != "" {
		src = append(src, p.cfg.StackFile, filepath.Dir(p.cfg.StackFile))
	}
	src = append(src, p.cfg.BuildFrom...)
	loop, err := devloop.New(devloop.Config{
		Sources:   src,
		BuildDir:  filepath.Join(p.dir, "build", "rev"),
		SkipTests: p.cfg.SkipTests,
		Log:       p.log.With("component", "devloop"),
	})
	if err != nil {
		return err
	}
	p.images.setLoop(loop)
	if p.cfg.Watch {
		p.AddService("watch", &watchService{w: &devloop.Watcher{
			Loop:     loop,
			Deployed: p.deployed,
			Redeploy: p.redeploy,
			Log:      p.log.With("component", "watch"),
		}})
	}
	return nil
}

func (p *Platform) deployed() []devloop.Deployed {
	var out []devloop.Deployed
	for _, st := range p.rt.List() {
		out = append(out, devloop.Deployed{Name: st.Spec.Name, Image: st.Spec.Deployment.Image})
	}
	return out
}

// redeploy deploys a stack function as `faas-cli deploy -f` would.
func (p *Platform) redeploy(ctx context.Context, st *stack.Stack, name string) error {
	fd, err := p.deployment(st, name)
	if err != nil {
		return err
	}
	return p.api.Deploy(ctx, fd)
}

// sourceHashes hashes the stack's functions' sources before the start-up
// build (an edit during the build then rebuilds on the next deploy).
func (p *Platform) sourceHashes(st *stack.Stack) map[string]string {
	out := map[string]string{}
	for _, name := range st.Names() {
		if h, err := devloop.Hash(st, name, ""); err == nil {
			out[name] = h
		}
	}
	return out
}

// seedHashes tells the inner loop what the start-up build built from which sources.
func (p *Platform) seedHashes(reg *build.Registry, hashes map[string]string) {
	_, loop := p.images.get()
	if loop == nil || reg == nil {
		return
	}
	for _, a := range reg.Artifacts() {
		if h, ok := hashes[a.Function]; ok {
			loop.Seed(a.Image, h)
		}
	}
}

// watchService runs the watcher until Close.
type watchService struct {
	w      *devloop.Watcher
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (s *watchService) Start(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.w.Run(wctx, watchInterval, nil)
	}()
	return nil
}

func (s *watchService) Close(context.Context) error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return nil
}
