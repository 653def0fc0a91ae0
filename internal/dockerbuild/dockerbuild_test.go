package dockerbuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/plugin/build"
	"github.com/prescale/prescale/plugin/stack"
)

// copyStack copies what a clean clone's stack.yml build reads into a temp
// dir: the stack file, the templates, every function's handler and the
// configuration.copy paths.
func copyStack(t *testing.T, root string) (string, *stack.Stack) {
	t.Helper()
	st, err := stack.Load(filepath.Join(root, "stack.yml"), stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	paths := []string{"template"}
	paths = append(paths, st.Configuration.Copy...)
	for _, f := range st.Functions {
		paths = append(paths, f.Handler)
	}
	for _, p := range paths {
		p = filepath.Clean(p)
		if err := os.CopyFS(filepath.Join(dst, p), os.DirFS(filepath.Join(root, p))); err != nil {
			if fi, serr := os.Stat(filepath.Join(root, p)); serr == nil && !fi.IsDir() {
				b, rerr := os.ReadFile(filepath.Join(root, p))
				if rerr != nil {
					t.Fatal(rerr)
				}
				if werr := os.WriteFile(filepath.Join(dst, p), b, 0o644); werr != nil {
					t.Fatal(werr)
				}
				continue
			}
			t.Fatalf("copy %s: %v", p, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "stack.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "stack.yml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst, st
}

// TestStackBuildsLikeDocker runs the real `faas-cli build --shrinkwrap -f
// stack.yml` on a copy of the repository's stack and then, in every Go
// function's build/<fn>, the golang-http Dockerfile's steps.
func TestStackBuildsLikeDocker(t *testing.T) {
	root := testenv.Root(t)
	faas := testenv.FaasCLI(t)
	dir, st := copyStack(t, root)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, faas, "build", "--shrinkwrap", "-f", "stack.yml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("faas-cli build --shrinkwrap: %v\n%s", err, out)
	}

	b, err := build.New(build.Options{BuildDir: filepath.Join(dir, "build"), Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	var goFns []string
	for name, f := range st.Functions {
		if _, err := os.Stat(filepath.Join(dir, "build", name)); err != nil {
			t.Fatalf("faas-cli did not shrinkwrap %s: %v", name, err)
		}
		if f.Lang == "golang-http" {
			goFns = append(goFns, name)
		}
	}
	sort.Strings(goFns)
	if len(goFns) < 3 {
		t.Fatalf("stack.yml has Go functions %v; want load-probe, predictor and scaler", goFns)
	}
	for _, name := range goFns {
		t.Run(name, func(t *testing.T) {
			fdir := filepath.Join(dir, "build", name)
			// The copied build context carries the shared packages and the
			// embedded model artefacts, as the Docker build needs.
			for _, p := range []string{"function/pkg/decide", "function/model/artefacts/forecaster.json", "function/go.mod", "modules-cleanup.sh"} {
				if _, err := os.Stat(filepath.Join(fdir, p)); err != nil {
					t.Fatalf("build context lacks %s: %v", p, err)
				}
			}
			if err := b.GoSteps(ctx, name, fdir); err != nil {
				t.Fatalf("Dockerfile steps: %v", err)
			}
			if fi, err := os.Stat(filepath.Join(fdir, "handler")); err != nil || fi.Size() == 0 {
				t.Fatalf("no handler binary: %v", err)
			}
		})
	}
}
