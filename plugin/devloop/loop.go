package devloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/prescale/prescale/plugin/build"
	"github.com/prescale/prescale/plugin/stack"
)

// Config configures a Loop.
type Config struct {
	// Sources are the stack files and directories the plugin may build from.
	Sources Sources
	// BuildDir holds the rebuilds: BuildDir/<hash>/<function>. Required.
	BuildDir string
	// SkipTests skips `go test` in Go builds.
	SkipTests bool
	// Log receives progress; nil discards.
	Log *slog.Logger
}

// Loop builds images on demand and remembers what it built from which
// sources. It is safe for concurrent use; builds run one at a time.
type Loop struct {
	cfg Config
	log *slog.Logger

	buildMu sync.Mutex // one build at a time

	mu     sync.RWMutex
	hashes map[string]string         // normalized image → hash of what serves it
	arts   map[string]build.Artifact // normalized image → rebuilt artifact
	dirs   map[string][]string       // function → build directories, oldest first
}

// keepDirs is how many build directories per function are kept: the serving
// one and the previous one, whose replicas may still be draining.
const keepDirs = 2

// New validates cfg.
func New(cfg Config) (*Loop, error) {
	if cfg.BuildDir == "" {
		return nil, errors.New("devloop: BuildDir is required")
	}
	abs, err := filepath.Abs(cfg.BuildDir)
	if err != nil {
		return nil, fmt.Errorf("devloop: BuildDir: %w", err)
	}
	cfg.BuildDir = abs
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Loop{cfg: cfg, log: cfg.Log, hashes: map[string]string{}, arts: map[string]build.Artifact{}, dirs: map[string][]string{}}, nil
}

// Sources are the configured build sources.
func (l *Loop) Sources() Sources { return l.cfg.Sources }

// Seed records that image (built by the caller, e.g. the start-up build of
// the stack) was built from sources with the given hash: a deploy of it
// with unchanged sources does not rebuild.
func (l *Loop) Seed(image, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hashes[build.NormalizeImage(image)] = hash
}

// Lookup returns the artifact the loop last built for image, if any.
func (l *Loop) Lookup(image string) (build.Artifact, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	a, ok := l.arts[build.NormalizeImage(image)]
	return a, ok
}

// Known lists the images the loop built or was seeded with.
func (l *Loop) Known() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]string, 0, len(l.hashes))
	for k := range l.hashes {
		out = append(out, k)
	}
	return out
}

// BuiltHash is the hash of the sources image was last built from ("" if none).
func (l *Loop) BuiltHash(image string) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.hashes[build.NormalizeImage(image)]
}

// Result says what Resolve did.
type Result struct {
	Function string // the stack function that builds the image
	File     string // its stack file
	Hash     string
	Built    bool // false: the sources were unchanged
}

// Resolve makes sure image is built from its current sources: it finds the
// stack function that names it (Sources.Find), hashes its sources and, if
// the hash differs from the last build's, builds it. An error wraps
// ErrNoSource when no stack file names the image, or is the *build.Error of
// a failed build (with the compiler's or test's output).
func (l *Loop) Resolve(ctx context.Context, service, image string) (Result, error) {
	st, name, err := l.cfg.Sources.Find(service, image)
	if err != nil {
		return Result{}, err
	}
	res := Result{Function: name, File: st.File}
	if res.Hash, err = Hash(st, name, ""); err != nil {
		return res, err
	}
	key := build.NormalizeImage(image)

	l.buildMu.Lock()
	defer l.buildMu.Unlock()
	if l.BuiltHash(image) == res.Hash {
		return res, nil
	}
	art, err := l.build(ctx, st, name, res.Hash)
	if err != nil {
		return res, err
	}
	art.Image = image
	res.Built = true
	l.mu.Lock()
	l.hashes[key], l.arts[key] = res.Hash, art
	dirs := append(l.dirs[name], filepath.Dir(art.Dir))
	var drop []string
	if len(dirs) > keepDirs {
		drop, dirs = dirs[:len(dirs)-keepDirs], dirs[len(dirs)-keepDirs:]
	}
	l.dirs[name] = dirs
	l.mu.Unlock()
	for _, d := range drop {
		if err := os.RemoveAll(d); err != nil {
			l.log.Warn("devloop: removing an old build", "dir", d, "err", err)
		}
	}
	return res, nil
}

// build shrinkwraps and builds st's function name into BuildDir/<hash16>/<name>.
func (l *Loop) build(ctx context.Context, st *stack.Stack, name, hash string) (build.Artifact, error) {
	b, err := build.New(build.Options{
		BuildDir:  filepath.Join(l.cfg.BuildDir, hash[:16]),
		SkipTests: l.cfg.SkipTests,
		Log:       l.log,
	})
	if err != nil {
		return build.Artifact{}, err
	}
	l.log.Info("devloop: building", "function", name, "stack", st.File, "hash", hash[:16])
	return b.Function(ctx, st, name)
}
