package devloop_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prescale/prescale/plugin/devloop"
	"github.com/prescale/prescale/plugin/stack"
)

const fnYML = `version: 1.0
provider:
  name: openfaas
functions:
  my-fn:
    lang: python3
    handler: ./my-fn
    image: my-fn:latest
`

func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "template", "python3", "template.yml"), "language: python3\nfprocess: python3 index.py\n")
	write(t, filepath.Join(dir, "template", "python3", "index.py"), "print('x')\n")
	write(t, filepath.Join(dir, "my-fn", "handler.py"), "def handle(req):\n    return req\n")
	write(t, filepath.Join(dir, "my-fn.yml"), fnYML)
	return dir
}

func TestHashChangesWithTheHandlerOnly(t *testing.T) {
	dir := project(t)
	st, err := stack.Load(filepath.Join(dir, "my-fn.yml"), stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h0, err := devloop.Hash(st, "my-fn", "")
	if err != nil {
		t.Fatal(err)
	}
	// Interpreter and editor droppings and the handler's build/ are not edits.
	write(t, filepath.Join(dir, "my-fn", "__pycache__", "handler.cpython-311.pyc"), "bytecode")
	write(t, filepath.Join(dir, "my-fn", "handler.py~"), "backup")
	write(t, filepath.Join(dir, "my-fn", "build", "x"), "y")
	if h, _ := devloop.Hash(st, "my-fn", ""); h != h0 {
		t.Errorf("hash changed on droppings")
	}
	write(t, filepath.Join(dir, "my-fn", "handler.py"), "def handle(req):\n    return 'v2'\n")
	h1, _ := devloop.Hash(st, "my-fn", "")
	if h1 == h0 {
		t.Errorf("hash unchanged after editing the handler")
	}
	write(t, filepath.Join(dir, "template", "python3", "index.py"), "print('y')\n")
	if h2, _ := devloop.Hash(st, "my-fn", ""); h2 == h1 {
		t.Errorf("hash unchanged after editing the template")
	}
	if _, err := devloop.Hash(st, "absent", ""); err == nil {
		t.Errorf("hash of an absent function")
	}
}

func TestSourcesFind(t *testing.T) {
	dir := project(t)
	write(t, filepath.Join(dir, "notes.yaml"), "just: [a, list\n") // not a stack file
	src := devloop.Sources{dir}
	st, name, err := src.Find("my-fn", "docker.io/library/my-fn")
	if err != nil || name != "my-fn" || st.File != filepath.Join(dir, "my-fn.yml") {
		t.Fatalf("Find: %v %q %v", st, name, err)
	}
	// A file created later is found without a restart.
	write(t, filepath.Join(dir, "other.yml"), "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  other:\n    lang: python3\n    handler: ./my-fn\n    image: other:1\n")
	if _, name, err := src.Find("x", "other:1"); err != nil || name != "other" {
		t.Fatalf("Find of a new file: %q %v", name, err)
	}
	_, _, err = src.Find("x", "nope:latest")
	if !errors.Is(err, devloop.ErrNoSource) {
		t.Fatalf("Find of an unknown image: %v, want ErrNoSource", err)
	}
	if got := err.Error(); !contains(got, dir) || !contains(got, "notes.yaml") {
		t.Errorf("error %q should name the sources searched and the file that is not a stack file", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestWatcherRedeploysOnSave(t *testing.T) {
	dir := project(t)
	loop, err := devloop.New(devloop.Config{Sources: devloop.Sources{dir}, BuildDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var fail error
	redeploys := 0
	w := &devloop.Watcher{
		Loop: loop,
		Deployed: func() []devloop.Deployed {
			return []devloop.Deployed{{Name: "my-fn", Image: "my-fn:latest"}, {Name: "x", Image: "elsewhere:1"}}
		},
		Redeploy: func(ctx context.Context, st *stack.Stack, name string) error {
			redeploys++
			if fail != nil {
				return fail
			}
			_, err := loop.Resolve(ctx, name, st.Functions[name].Image)
			return err
		},
	}
	ctx := context.Background()
	if c := w.Check(ctx); len(c) != 1 || c[0].Function != "my-fn" || c[0].Err != nil {
		t.Fatalf("first check: %+v, want my-fn built (nothing had built it)", c)
	}
	a1, _ := loop.Lookup("my-fn:latest")
	if c := w.Check(ctx); len(c) != 0 {
		t.Fatalf("unchanged sources redeployed: %+v", c)
	}
	write(t, filepath.Join(dir, "my-fn", "handler.py"), "def handle(req):\n    return 'v2'\n")
	if c := w.Check(ctx); len(c) != 1 || c[0].Err != nil {
		t.Fatalf("after a save: %+v, want one redeploy", c)
	}
	a2, _ := loop.Lookup("my-fn:latest")
	if a1.Dir == a2.Dir {
		t.Errorf("the rebuild reused the build directory %s", a1.Dir)
	}
	got, err := os.ReadFile(filepath.Join(a2.Dir, "function", "handler.py"))
	if err != nil || !strings.Contains(string(got), "v2") {
		t.Errorf("rebuilt handler: %q %v", got, err)
	}
	// A failed redeploy is reported once, and retried only after the next save.
	fail = errors.New("boom")
	write(t, filepath.Join(dir, "my-fn", "handler.py"), "def handle(req):\n    return 'v3'\n")
	if c := w.Check(ctx); len(c) != 1 || c[0].Err == nil {
		t.Fatalf("failing redeploy: %+v", c)
	}
	if c := w.Check(ctx); len(c) != 0 {
		t.Fatalf("a failed hash was retried: %+v", c)
	}
	fail = nil
	write(t, filepath.Join(dir, "my-fn", "handler.py"), "def handle(req):\n    return 'v4'\n")
	if c := w.Check(ctx); len(c) != 1 || c[0].Err != nil {
		t.Fatalf("after fixing: %+v", c)
	}
	if redeploys != 4 {
		t.Errorf("%d redeploys, want 4", redeploys)
	}
}
