package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prescale/prescale/internal/textutil"
	"github.com/prescale/prescale/plugin/runtime"
	"github.com/prescale/prescale/plugin/stack"
)

// Options configure a Builder. Defaults are applied by New.
type Options struct {
	// BuildDir holds build/<fn> directories (e.g. <data dir>/build). Required.
	BuildDir string
	// TemplateDir holds template/<lang>; default <stack dir>/template.
	TemplateDir string
	// SkipTests skips `go test` (default: tests run, as the Dockerfile does).
	SkipTests bool
	// Concurrency bounds how many functions build at once; default 2, 1..16.
	Concurrency int
	// Go is the go command; default "go" on PATH.
	Go string
	// Python is the interpreter for python3 functions; default "python3" on PATH.
	Python string
	// Env is the environment of go/gofmt/sh; nil means os.Environ(). The
	// caller's GOCACHE and GOMODCACHE are inherited so builds are incremental.
	Env []string
	// Log receives progress; nil discards.
	Log *slog.Logger
}

// Builder builds stacks natively. It holds no per-build state; Build may be
// called concurrently for different build directories.
type Builder struct {
	opts   Options
	pyOnce sync.Once
	py     string
	pyErr  error
}

// New validates opts and applies defaults.
func New(opts Options) (*Builder, error) {
	if opts.BuildDir == "" {
		return nil, errors.New("build: BuildDir is required")
	}
	abs, err := filepath.Abs(opts.BuildDir)
	if err != nil {
		return nil, fmt.Errorf("build: BuildDir %q: %w", opts.BuildDir, err)
	}
	opts.BuildDir = abs
	if opts.Concurrency == 0 {
		opts.Concurrency = 2
	}
	if opts.Concurrency < 1 || opts.Concurrency > 16 {
		return nil, fmt.Errorf("build: Concurrency %d out of range: allowed 1..16", opts.Concurrency)
	}
	if opts.Go == "" {
		opts.Go = "go"
	}
	if opts.Python == "" {
		opts.Python = "python3"
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Builder{opts: opts}, nil
}

// Error is a failed function build: which function, which step, and the
// step's output (compiler or test messages).
type Error struct {
	Function string
	Step     string
	Output   string
	Err      error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("build %s: %s: %v", e.Function, e.Step, e.Err)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += "\n" + out
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Build builds every function of st that is not skip_build, at most
// Concurrency at a time. It returns a registry of what built and, if any
// function failed, an error joining one *Error per failed function.
func (b *Builder) Build(ctx context.Context, st *stack.Stack) (*Registry, error) {
	reg := NewRegistry()
	sem := make(chan struct{}, b.opts.Concurrency)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs = map[string]error{}
	)
	for _, name := range st.Names() {
		if st.Functions[name].SkipBuild {
			b.opts.Log.Info("build: skipped (skip_build)", "function", name)
			continue
		}
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs[name] = &Error{Function: name, Step: "wait", Err: ctx.Err()}
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			a, err := b.Function(ctx, st, name)
			if err != nil {
				mu.Lock()
				errs[name] = err
				mu.Unlock()
				return
			}
			reg.Add(a)
		}(name)
	}
	wg.Wait()
	if len(errs) == 0 {
		return reg, nil
	}
	names := make([]string, 0, len(errs))
	for n := range errs {
		names = append(names, n)
	}
	sort.Strings(names)
	joined := make([]error, 0, len(names))
	for _, n := range names {
		joined = append(joined, errs[n])
	}
	return reg, errors.Join(joined...)
}

// kind is what the native builder knows how to do with a template.
type kind struct {
	mode     runtime.Mode
	python   bool // fprocess runs python3 (resolved to the machine's); else a Go build
	defaults map[string]string
}

var kinds = map[string]kind{
	// healthcheck_interval=0s: the handler's wait after SIGTERM exists for
	// endpoints to notice an unhealthy pod on a cluster; the plugin's runtime
	// takes a replica out of rotation and drains it before SIGTERM, so here
	// the handler shuts down at once (a stack environment entry overrides it).
	"golang-http": {mode: runtime.ModeHTTP, defaults: map[string]string{"mode": "http", "prefix_logs": "false", "healthcheck_interval": "0s"}},
	"python3":     {mode: runtime.ModeFork, python: true, defaults: map[string]string{}},
	// python3-http: index.py is the replica's HTTP server (of-watchdog's http
	// mode without the watchdog), so a request costs no fork.
	"python3-http": {mode: runtime.ModeHTTP, python: true, defaults: map[string]string{"mode": "http"}},
}

func supported() string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Function builds one function of st into BuildDir/<name>.
func (b *Builder) Function(ctx context.Context, st *stack.Stack, name string) (Artifact, error) {
	f, ok := st.Functions[name]
	if !ok {
		return Artifact{}, &Error{Function: name, Step: "stack", Err: errors.New("no such function in the stack")}
	}
	k, ok := kinds[f.Lang]
	if !ok {
		return Artifact{}, &Error{Function: name, Step: "template", Err: fmt.Errorf("lang %q is not supported by the native builder (supported: %s)", f.Lang, supported())}
	}
	start := time.Now()
	dir, tmpl, err := Shrinkwrap(st, name, b.templateDir(st), b.opts.BuildDir)
	if err != nil {
		return Artifact{}, &Error{Function: name, Step: "shrinkwrap", Err: err}
	}
	fprocess := f.FProcess
	if fprocess == "" {
		fprocess = tmpl.FProcess
	}
	argv := strings.Fields(fprocess)
	if len(argv) == 0 {
		return Artifact{}, &Error{Function: name, Step: "template", Err: fmt.Errorf("no fprocess in the stack or in template %s/template.yml", f.Lang)}
	}
	env := map[string]string{"fprocess": fprocess}
	for key, v := range k.defaults {
		env[key] = v
	}

	if k.python {
		py, err := b.python()
		if err != nil {
			return Artifact{}, &Error{Function: name, Step: "python3", Err: err}
		}
		if argv[0] == "python3" || argv[0] == "python" {
			argv[0] = py
		}
	} else if err := b.buildGo(ctx, name, dir); err != nil {
		return Artifact{}, err
	}
	if strings.ContainsRune(argv[0], filepath.Separator) && !filepath.IsAbs(argv[0]) {
		p := filepath.Join(dir, argv[0])
		if _, err := os.Stat(p); err != nil {
			return Artifact{}, &Error{Function: name, Step: "fprocess", Err: fmt.Errorf("%s not found in the build: %w", argv[0], err)}
		}
		argv[0] = p
	}
	b.opts.Log.Info("build: done", "function", name, "lang", f.Lang, "dir", dir, "took", time.Since(start).Round(time.Millisecond))
	return Artifact{
		Function: name,
		Image:    f.Image,
		Lang:     f.Lang,
		Dir:      dir,
		Command:  argv,
		Mode:     k.mode,
		Env:      env,
	}, nil
}

func (b *Builder) templateDir(st *stack.Stack) string {
	if b.opts.TemplateDir != "" {
		return b.opts.TemplateDir
	}
	return st.Path("template")
}

// GoSteps runs the golang-http Dockerfile's build steps (gofmt check,
// modules-cleanup.sh, go test unless SkipTests, go build) in dir, a build
// context laid out by Shrinkwrap or by `faas-cli build --shrinkwrap`
// (./build/<fn>), leaving the binary at dir/handler. A failure is an *Error
// naming function and step, with the step's output.
func (b *Builder) GoSteps(ctx context.Context, function, dir string) error {
	return b.buildGo(ctx, function, dir)
}

// buildGo runs the golang-http Dockerfile's steps in dir.
func (b *Builder) buildGo(ctx context.Context, name, dir string) error {
	files, err := goFiles(dir)
	if err != nil {
		return &Error{Function: name, Step: "gofmt", Err: err}
	}
	if len(files) > 0 {
		out, err := b.run(ctx, dir, nil, b.gofmtPath(ctx), append([]string{"-l"}, files...)...)
		if err != nil {
			return &Error{Function: name, Step: "gofmt", Output: out, Err: err}
		}
		if strings.TrimSpace(out) != "" {
			return &Error{Function: name, Step: "gofmt", Output: out, Err: errors.New("these files are not gofmt-formatted (run gofmt -w)")}
		}
	}
	if out, err := b.run(ctx, dir, nil, "sh", "modules-cleanup.sh"); err != nil {
		return &Error{Function: name, Step: "modules-cleanup.sh", Output: out, Err: err}
	}
	// -trimpath (not in the Dockerfile) changes only the file paths recorded
	// in binaries; it makes compiled packages and test results independent of
	// the build directory, so functions sharing ./pkg share GOCACHE entries
	// and `go test` of the same package runs once, not once per function.
	if !b.opts.SkipTests {
		if out, err := b.run(ctx, filepath.Join(dir, "function"), nil, b.opts.Go, "test", "-trimpath", "./...", "-cover"); err != nil {
			return &Error{Function: name, Step: "go test", Output: out, Err: err}
		}
	}
	if out, err := b.run(ctx, dir, []string{"CGO_ENABLED=0"}, b.opts.Go, "build", "-trimpath", "-o", "handler", "."); err != nil {
		return &Error{Function: name, Step: "go build", Output: out, Err: err}
	}
	return nil
}

func (b *Builder) gofmtPath(ctx context.Context) string {
	// The gofmt of the Go that builds, else the one on PATH.
	out, err := exec.CommandContext(ctx, b.opts.Go, "env", "GOROOT").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "gofmt")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "gofmt"
}

// run executes a command in dir with the builder's environment plus extra,
// returning its combined output.
func (b *Builder) run(ctx context.Context, dir string, extra []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(b.goEnv(), extra...), "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return textutil.Tail(out.String(), 64<<10), err
}

// goEnv is the builder's environment with VCS stamping off (the build
// directory may sit inside the repository's git tree, or in none) and, when
// Options.Go is a path, its directory first on PATH so modules-cleanup.sh
// runs the same go.
func (b *Builder) goEnv() []string {
	out := make([]string, 0, len(b.opts.Env)+2)
	flags, path := "", ""
	for _, kv := range b.opts.Env {
		switch {
		case strings.HasPrefix(kv, "GOFLAGS="):
			flags = strings.TrimPrefix(kv, "GOFLAGS=")
		case strings.HasPrefix(kv, "PATH="):
			path = strings.TrimPrefix(kv, "PATH=")
		default:
			out = append(out, kv)
		}
	}
	if !strings.Contains(flags, "-buildvcs") {
		flags = strings.TrimSpace(flags + " -buildvcs=false")
	}
	if filepath.IsAbs(b.opts.Go) {
		path = filepath.Dir(b.opts.Go) + string(os.PathListSeparator) + path
	}
	return append(out, "GOFLAGS="+flags, "PATH="+path)
}

// goFiles lists the .go files under dir (relative), skipping vendor trees,
// as the Dockerfile's gofmt check does.
func goFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "vendor" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}

// python resolves the interpreter once to the real executable (not a shim
// such as pyenv's, which costs a shell per fork).
func (b *Builder) python() (string, error) {
	b.pyOnce.Do(func() {
		p, err := exec.LookPath(b.opts.Python)
		if err != nil {
			b.pyErr = fmt.Errorf("python interpreter %q not found: %w", b.opts.Python, err)
			return
		}
		// Not the caller's ctx: the result is cached for every later build.
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(rctx, p, "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			b.pyErr = fmt.Errorf("running %s: %w", p, err)
			return
		}
		real := strings.TrimSpace(string(out))
		if real == "" {
			real = p
		}
		b.py = real
	})
	return b.py, b.pyErr
}
