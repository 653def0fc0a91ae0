package devloop

import (
	"context"
	"log/slog"
	"time"

	"github.com/prescale/prescale/plugin/stack"
)

// Deployed is a deployed function as the watcher sees it.
type Deployed struct {
	Name  string
	Image string
}

// Watcher redeploys deployed functions whose sources changed
// (`prescale up --watch`). Check is one pass; Run repeats it.
type Watcher struct {
	Loop *Loop
	// Deployed lists what is deployed now.
	Deployed func() []Deployed
	// Redeploy deploys stack function name again (as `faas-cli deploy`
	// would); the deploy resolves the image, which rebuilds it.
	Redeploy func(ctx context.Context, st *stack.Stack, name string) error
	Log      *slog.Logger

	failed map[string]string // image → hash whose redeploy failed (not retried until the sources change again)
}

// Change is one redeploy the watcher attempted.
type Change struct {
	Function string
	Hash     string
	Err      error
}

// Check redeploys every deployed function whose stack function's sources
// hash differently from what serves it. A redeploy that fails is reported
// (and logged) once per hash, not retried until the sources change again.
func (w *Watcher) Check(ctx context.Context) []Change {
	if w.failed == nil {
		w.failed = map[string]string{}
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var out []Change
	for _, d := range w.Deployed() {
		st, name, err := w.Loop.Sources().Find(d.Name, d.Image)
		if err != nil {
			continue // not built from a source we may build from
		}
		h, err := Hash(st, name, "")
		if err != nil {
			continue // e.g. the handler directory is being replaced; the next pass sees it
		}
		if h == w.Loop.BuiltHash(d.Image) || h == w.failed[d.Image] {
			continue
		}
		err = w.Redeploy(ctx, st, name)
		if err != nil {
			w.failed[d.Image] = h
			log.Error("watch: redeploy failed", "function", d.Name, "err", err)
		} else {
			delete(w.failed, d.Image)
			log.Info("watch: redeployed", "function", d.Name, "hash", h[:16])
		}
		out = append(out, Change{Function: d.Name, Hash: h, Err: err})
	}
	return out
}

// Run calls Check every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context, interval time.Duration, onChange func(Change)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, c := range w.Check(ctx) {
				if onChange != nil {
					onChange(c)
				}
			}
		}
	}
}
