package build

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/plugin/runtime"
	"github.com/prescale/prescale/plugin/stack"
)

// project is a throwaway stack directory holding the repository's templates.
type project struct {
	t   *testing.T
	dir string
}

func newProject(t *testing.T) *project {
	t.Helper()
	p := &project{t: t, dir: t.TempDir()}
	if err := CopyTree(filepath.Join(testenv.Root(t), "template"), filepath.Join(p.dir, "template")); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *project) write(rel, data string) {
	p.t.Helper()
	path := filepath.Join(p.dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *project) stack() *stack.Stack {
	p.t.Helper()
	s, err := stack.Load(filepath.Join(p.dir, "stack.yml"), stack.Options{})
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func newBuilder(t *testing.T, skipTests bool) *Builder {
	t.Helper()
	b, err := New(Options{BuildDir: filepath.Join(t.TempDir(), "build"), SkipTests: skipTests})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const stackHead = "version: 1.0\nprovider:\n  name: openfaas\n"

// A module-mode Go function: a package at the root of module example.com/mm,
// importing the module's own ./pkg, with the module files copied in by
// configuration.copy (the layout prescale's Go functions use).
func (p *project) moduleMode() {
	sum, err := os.ReadFile(filepath.Join(p.dir, "template", "golang-http", "go.sum"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.write("go.mod", "module example.com/mm\n\ngo 1.24\n\nrequire github.com/openfaas/templates-sdk/go-http v0.0.0-20220408082716-5981c545cb03\n")
	p.write("go.sum", string(sum))
	p.write("pkg/greet/greet.go", "// Package greet greets.\npackage greet\n\n// Hello greets.\nfunc Hello(s string) string { return \"mm says \" + s }\n")
	p.write("pkg/greet/greet_test.go", "package greet\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) {\n\tif Hello(\"x\") != \"mm says x\" {\n\t\tt.Fatal(Hello(\"x\"))\n\t}\n}\n")
	p.write("functions/mm/handler.go", `package function

import (
	handler "github.com/openfaas/templates-sdk/go-http"

	"example.com/mm/pkg/greet"
)

// Handle greets.
func Handle(req handler.Request) (handler.Response, error) {
	return handler.Response{Body: []byte(greet.Hello(string(req.Body)))}, nil
}
`)
	p.write("stack.yml", stackHead+`configuration:
  copy:
    - ./go.mod
    - ./go.sum
    - ./pkg
functions:
  mm:
    lang: golang-http
    handler: ./functions/mm
    image: example/mm:latest
`)
}

func TestShrinkwrapMatchesFaasCLI(t *testing.T) {
	faas := testenv.FaasCLI(t)
	p := newProject(t)
	p.moduleMode()
	p.write("functions/py/handler.py", "def handle(req):\n    return req\n")
	p.write("functions/py/build/junk", "skipped by faas-cli")
	p.write("functions/py/sub/data.txt", "kept")
	p.write("stack.yml", stackHead+`configuration:
  copy:
    - ./go.mod
    - ./go.sum
    - ./pkg
functions:
  mm:
    lang: golang-http
    handler: ./functions/mm
    image: example/mm:latest
  py:
    lang: python3
    handler: ./functions/py
    image: example/py:latest
`)
	cmd := exec.Command(faas, "build", "--shrinkwrap", "-f", "stack.yml")
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "OPENFAAS_CONFIG="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("faas-cli build --shrinkwrap: %v\n%s", err, out)
	}
	st := p.stack()
	ours := t.TempDir()
	for _, fn := range []string{"mm", "py"} {
		t.Run(fn, func(t *testing.T) {
			dir, _, err := Shrinkwrap(st, fn, filepath.Join(p.dir, "template"), ours)
			if err != nil {
				t.Fatal(err)
			}
			want := tree(t, filepath.Join(p.dir, "build", fn))
			got := tree(t, dir)
			if len(want) == 0 {
				t.Fatal("faas-cli produced an empty build dir")
			}
			for path, data := range want {
				g, ok := got[path]
				switch {
				case !ok:
					t.Errorf("missing %s", path)
				case g != data:
					t.Errorf("%s differs from faas-cli's", path)
				}
			}
			for path := range got {
				if _, ok := want[path]; !ok {
					t.Errorf("extra %s (faas-cli does not produce it)", path)
				}
			}
		})
	}
	// The Dockerfile's steps (gofmt check, modules-cleanup.sh, go test,
	// go build) succeed inside faas-cli's own build/mm, as `faas-cli up` does.
	t.Run("dockerfile steps in faas-cli's build/mm", func(t *testing.T) {
		dir := filepath.Join(p.dir, "build", "mm")
		if err := newBuilder(t, false).GoSteps(context.Background(), "mm", dir); err != nil {
			t.Fatal(err)
		}
		main, err := os.ReadFile(filepath.Join(dir, "main.go"))
		if err != nil || !strings.Contains(string(main), `"example.com/mm"`) {
			t.Errorf("main.go does not import the function's module: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "handler")); err != nil {
			t.Errorf("no handler binary: %v", err)
		}
	})
}

func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildGoAndPython(t *testing.T) {
	p := newProject(t)
	p.moduleMode()
	// An upstream-style function: the template's own sample handler.
	if err := CopyTree(filepath.Join(p.dir, "template", "golang-http", "function"), filepath.Join(p.dir, "functions", "classic")); err != nil {
		t.Fatal(err)
	}
	p.write("functions/py/handler.py", "def handle(req):\n    return 'py got ' + req\n")
	p.write("stack.yml", stackHead+`configuration:
  copy:
    - ./go.mod
    - ./go.sum
    - ./pkg
functions:
  mm:
    lang: golang-http
    handler: ./functions/mm
    image: example/mm:latest
  classic:
    lang: golang-http
    handler: ./functions/classic
    image: example/classic
  py:
    lang: python3
    handler: ./functions/py
    image: example/py:latest
  ext:
    image: example/ext:latest
    skip_build: true
`)
	b := newBuilder(t, false)
	reg, err := b.Build(context.Background(), p.stack())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if got := strings.Join(reg.Images(), " "); got != "example/classic:latest example/mm:latest example/py:latest" {
		t.Fatalf("Images = %s (skip_build functions are not built)", got)
	}

	t.Run("go module mode", func(t *testing.T) {
		a, ok := reg.Lookup("example/mm")
		if !ok {
			t.Fatal("mm not in registry")
		}
		if a.Mode != runtime.ModeHTTP || a.Lang != "golang-http" || a.Env["mode"] != "http" || a.Env["fprocess"] != "./handler" {
			t.Errorf("artifact = %+v", a)
		}
		if got := serveOnce(t, a, "hi"); got != "mm says hi" {
			t.Errorf("response %q, want %q", got, "mm says hi")
		}
	})
	t.Run("go upstream layout", func(t *testing.T) {
		a, _ := reg.Lookup("example/classic:latest")
		if got := serveOnce(t, a, "yo"); !strings.Contains(got, `You said: "yo"`) {
			t.Errorf("response %q", got)
		}
	})
	t.Run("python3", func(t *testing.T) {
		a, ok := reg.Function("py")
		if !ok {
			t.Fatal("py not in registry")
		}
		if a.Mode != runtime.ModeFork || !filepath.IsAbs(a.Command[0]) || a.Command[1] != "index.py" {
			t.Fatalf("artifact = %+v", a)
		}
		cmd := exec.Command(a.Command[0], a.Command[1:]...)
		cmd.Dir = a.Dir
		cmd.Stdin = strings.NewReader("body")
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "py got body\n" {
			t.Errorf("fork: %q, %v", out, err)
		}
	})
}

// startHandler starts a golang-http artifact on a free port and waits until
// /_/health answers 200. The process is killed when the test ends.
func startHandler(t *testing.T, a Artifact, env ...string) (string, *exec.Cmd) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(a.Command[0], a.Command[1:]...)
	cmd.Dir = a.Dir
	cmd.Env = append(append(os.Environ(), "upstream_url=http://"+addr, "healthcheck_interval=0s"), env...)
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(eventually.SafetyNet) // a hang guard: the start takes what it takes
	for {
		res, err := http.Get("http://" + addr + "/_/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return addr, cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("handler never became healthy: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serveOnce starts a golang-http artifact, sends one request and returns
// the response body.
func serveOnce(t *testing.T, a Artifact, body string) string {
	t.Helper()
	addr, _ := startHandler(t, a)
	res, err := http.Post("http://"+addr+"/x?y=1", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Errorf("status %d: %s", res.StatusCode, data)
	}
	return string(data)
}

// TestGoTemplateMain checks template/golang-http's main.go: the request and
// response mapping, errors as 500, /_/health, SIGTERM and bad settings.
func TestGoTemplateMain(t *testing.T) {
	p := newProject(t)
	if err := CopyTree(filepath.Join(p.dir, "template", "golang-http", "function"), filepath.Join(p.dir, "functions", "probe")); err != nil {
		t.Fatal(err)
	}
	p.write("functions/probe/handler.go", `package function

import (
	"errors"
	"net/http"
	"strings"

	handler "github.com/openfaas/templates-sdk/go-http"
)

// Handle exercises the template's adapter.
func Handle(req handler.Request) (handler.Response, error) {
	switch {
	case strings.Contains(req.QueryString, "fail"):
		return handler.Response{}, errors.New("deliberate failure")
	case strings.Contains(req.QueryString, "teapot"):
		return handler.Response{StatusCode: http.StatusTeapot, Body: []byte("tea"), Header: http.Header{"X-Kind": {"tea"}}}, nil
	}
	return handler.Response{Body: []byte(req.Method + "|" + req.QueryString + "|" + req.Header.Get("X-In") + "|" + string(req.Body))}, nil
}
`)
	p.write("stack.yml", stackHead+"functions:\n  probe:\n    lang: golang-http\n    handler: ./functions/probe\n    image: x/probe\n")
	reg, err := newBuilder(t, true).Build(context.Background(), p.stack())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := reg.Function("probe")
	addr, cmd := startHandler(t, a, "healthcheck_interval=3s")

	cases := []struct {
		name, method, path, body string
		status                   int
		wantBody, header         string
	}{
		{"mapping", http.MethodPut, "/some/path?q=1&r=2", "data", 200, "PUT|q=1&r=2|in|data", ""},
		{"error is 500 with its message", http.MethodGet, "/?fail", "", 500, "deliberate failure", ""},
		{"status and headers", http.MethodPost, "/?teapot", "", 418, "tea", "tea"},
		{"health", http.MethodGet, "/_/health", "", 200, "OK", ""},
		{"health wrong method", http.MethodPost, "/_/health", "", 405, "method not allowed\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, "http://"+addr+c.path, strings.NewReader(c.body))
			req.Header.Set("X-In", "in")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			if res.StatusCode != c.status || string(data) != c.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, data, c.status, c.wantBody)
			}
			if got := res.Header.Get("X-Kind"); got != c.header {
				t.Errorf("X-Kind = %q, want %q", got, c.header)
			}
		})
	}

	t.Run("SIGTERM: unhealthy, then a clean exit", func(t *testing.T) {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// Until the first 503, or until the handler stops answering (it
		// exits healthcheck_interval after the signal): no window of ours.
		saw503 := false
		for !saw503 {
			res, err := http.Get("http://" + addr + "/_/health")
			if err != nil {
				break
			}
			saw503 = res.StatusCode == http.StatusServiceUnavailable
			res.Body.Close()
			time.Sleep(10 * time.Millisecond)
		}
		if !saw503 {
			t.Error("/_/health never answered 503 during healthcheck_interval")
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v", err)
			}
		case <-time.After(eventually.SafetyNet):
			t.Errorf("handler did not exit after SIGTERM (safety net %s)", eventually.SafetyNet)
		}
	})

	t.Run("bad settings exit with a message", func(t *testing.T) {
		for _, env := range []string{"upstream_url=http://127.0.0.1", "upstream_url=http://127.0.0.1:99999", "read_timeout=soon", "write_timeout=-1",
			"read_timeout=18446744074", "write_timeout=NaN", "healthcheck_interval=+Inf", "read_timeout=1e300s"} {
			cmd := exec.Command(a.Command[0])
			cmd.Dir = a.Dir
			cmd.Env = append(os.Environ(), "upstream_url=http://127.0.0.1:1", env)
			out, err := cmd.CombinedOutput()
			key := strings.SplitN(env, "=", 2)[0]
			if err == nil || !strings.Contains(string(out), key) {
				t.Errorf("%s: err=%v output=%q, want a failure naming %s", env, err, out, key)
			}
		}
	})
}

func TestBuildFailuresNameFunctionAndShowOutput(t *testing.T) {
	cases := []struct {
		name      string
		handler   string
		test      string
		skipTests bool
		step      string
		want      []string
	}{
		{
			name:    "gofmt",
			handler: "package function\nimport handler \"github.com/openfaas/templates-sdk/go-http\"\nfunc Handle(req handler.Request) (handler.Response, error) { return handler.Response{}, nil }\n",
			step:    "gofmt",
			want:    []string{"function/handler.go", "gofmt"},
		},
		{
			name:      "compile",
			handler:   "package function\n\nimport handler \"github.com/openfaas/templates-sdk/go-http\"\n\nfunc Handle(req handler.Request) (handler.Response, error) {\n\treturn handler.Response{}, undefinedThing\n}\n",
			skipTests: true,
			step:      "go build",
			want:      []string{"undefinedThing"},
		},
		{
			name:    "failing test",
			handler: "package function\n\nimport handler \"github.com/openfaas/templates-sdk/go-http\"\n\n// Handle does nothing.\nfunc Handle(req handler.Request) (handler.Response, error) {\n\treturn handler.Response{}, nil\n}\n",
			test:    "package function\n\nimport \"testing\"\n\nfunc TestBroken(t *testing.T) {\n\tt.Fatal(\"deliberately broken\")\n}\n",
			step:    "go test",
			want:    []string{"TestBroken", "deliberately broken"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProject(t)
			if err := CopyTree(filepath.Join(p.dir, "template", "golang-http", "function"), filepath.Join(p.dir, "functions", "bad")); err != nil {
				t.Fatal(err)
			}
			p.write("functions/bad/handler.go", c.handler)
			if c.test != "" {
				p.write("functions/bad/handler_test.go", c.test)
			}
			p.write("stack.yml", stackHead+"functions:\n  bad-fn:\n    lang: golang-http\n    handler: ./functions/bad\n    image: x/bad\n")
			reg, err := newBuilder(t, c.skipTests).Build(context.Background(), p.stack())
			var be *Error
			if !errors.As(err, &be) {
				t.Fatalf("Build error = %v, want *build.Error", err)
			}
			if be.Function != "bad-fn" || be.Step != c.step {
				t.Errorf("Error{Function:%q Step:%q}, want bad-fn/%s", be.Function, be.Step, c.step)
			}
			msg := err.Error()
			for _, w := range append(c.want, "bad-fn") {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not mention %q:\n%s", w, msg)
				}
			}
			if _, ok := reg.Lookup("x/bad"); ok {
				t.Error("a failed function is in the registry")
			}
		})
	}
}

func TestBuildConfigErrors(t *testing.T) {
	p := newProject(t)
	p.write("functions/py/handler.py", "def handle(req):\n    return req\n")
	cases := []struct{ name, fn, want string }{
		{"unknown lang", "    lang: rust\n    handler: ./functions/py\n", `lang "rust" is not supported`},
		{"missing handler dir", "    lang: python3\n    handler: ./functions/nope\n", "handler"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p.write("stack.yml", stackHead+"functions:\n  f:\n    image: x/f\n"+c.fn)
			_, err := newBuilder(t, true).Build(context.Background(), p.stack())
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "build f") {
				t.Errorf("err = %v, want it to name f and mention %q", err, c.want)
			}
		})
	}
	t.Run("missing template", func(t *testing.T) {
		p.write("stack.yml", stackHead+"functions:\n  f:\n    image: x/f\n    lang: python3\n    handler: ./functions/py\n")
		b, err := New(Options{BuildDir: t.TempDir(), TemplateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Build(context.Background(), p.stack()); err == nil || !strings.Contains(err.Error(), "template") {
			t.Errorf("err = %v, want a template error", err)
		}
	})
	t.Run("no python", func(t *testing.T) {
		p.write("stack.yml", stackHead+"functions:\n  f:\n    image: x/f\n    lang: python3\n    handler: ./functions/py\n")
		b, err := New(Options{BuildDir: t.TempDir(), Python: "no-such-python-xyz"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Build(context.Background(), p.stack()); err == nil || !strings.Contains(err.Error(), "no-such-python-xyz") {
			t.Errorf("err = %v, want it to name the missing interpreter", err)
		}
	})
	t.Run("options", func(t *testing.T) {
		for _, o := range []Options{{}, {BuildDir: "x", Concurrency: -1}, {BuildDir: "x", Concurrency: 17}} {
			if _, err := New(o); err == nil {
				t.Errorf("New(%+v) succeeded", o)
			}
		}
	})
}

// TestHelloPythonUnittest runs functions/hello-python's Python unit tests.
func TestHelloPythonUnittest(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	cmd := exec.Command(py, "-m", "unittest", "-v")
	cmd.Dir = filepath.Join(testenv.Root(t), "functions", "hello-python")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "OK") || strings.Contains(string(out), "Ran 0 tests") {
		t.Fatalf("unexpected unittest output:\n%s", out)
	}
}

// TestBuildConcurrencyBound builds four Go functions with a stand-in go
// command that records how many go test/build steps run at once.
func TestBuildConcurrencyBound(t *testing.T) {
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	p := newProject(t)
	rec := t.TempDir()
	fake := filepath.Join(t.TempDir(), "go")
	script := `#!/bin/sh
case "$1" in
test|build)
	touch "` + rec + `/run.$$"
	sleep 0.6
	ls "` + rec + `" | grep -c '^run\.' >> "` + rec + `/counts"
	rm -f "` + rec + `/run.$$"
	if [ "$1" = build ]; then : > handler; fi
	exit 0 ;;
env)
	echo /nonexistent; exit 0 ;;
esac
exec "` + realGo + `" "$@"
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var fns strings.Builder
	for _, n := range []string{"a", "b", "c", "d"} {
		if err := CopyTree(filepath.Join(p.dir, "template", "golang-http", "function"), filepath.Join(p.dir, "functions", n)); err != nil {
			t.Fatal(err)
		}
		fns.WriteString("  fn-" + n + ":\n    lang: golang-http\n    handler: ./functions/" + n + "\n    image: x/" + n + "\n")
	}
	p.write("stack.yml", stackHead+"functions:\n"+fns.String())
	b, err := New(Options{BuildDir: t.TempDir(), Go: fake})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := b.Build(context.Background(), p.stack())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(reg.Artifacts()); n != 4 {
		t.Fatalf("%d artifacts, want 4", n)
	}
	data, err := os.ReadFile(filepath.Join(rec, "counts"))
	if err != nil {
		t.Fatal(err)
	}
	counts := strings.Fields(string(data))
	if len(counts) != 8 {
		t.Fatalf("recorded %d go steps, want 8 (test and build for 4 functions)", len(counts))
	}
	peak := "0"
	for _, c := range counts {
		if c > peak {
			peak = c
		}
	}
	if peak != "2" {
		t.Errorf("peak concurrent go steps = %s, want 2 (the bound, reached with 4 functions)", peak)
	}
}
