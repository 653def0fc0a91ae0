package build

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func (p *project) symlink(target, rel string) {
	p.t.Helper()
	if err := os.Symlink(target, filepath.Join(p.dir, rel)); err != nil {
		p.t.Fatal(err)
	}
}

// TestShrinkwrapSymlinkLoop: a symlinked directory that leads back into the
// handler or a configuration.copy path (it recursed until the stack
// overflowed) is a clear error naming the link; a symlink to a directory
// elsewhere is still followed.
func TestShrinkwrapSymlinkLoop(t *testing.T) {
	const fn = "functions: {f: {lang: python3, handler: ./fn, image: x/f}}\n"
	tests := []struct {
		name  string
		setup func(p *project)
		want  string
	}{
		{"handler links to itself", func(p *project) { p.symlink(".", "fn/loop") }, "fn/loop"},
		{"handler links to its parent", func(p *project) { p.symlink("..", "fn/sub/up") }, "fn/sub/up"},
		{"self-referencing link", func(p *project) { p.symlink("me", "fn/me") }, "fn/me"},
		{"copy path loops", func(p *project) {
			p.write("shared/a.txt", "a")
			p.symlink("../shared", "shared/again")
			p.write("stack.yml", stackHead+"configuration: {copy: [./shared]}\n"+fn)
		}, "shared/again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProject(t)
			p.write("fn/handler.py", "def handle(event, context):\n    return 'ok'\n")
			p.write("fn/sub/x.txt", "x")
			p.write("stack.yml", stackHead+fn)
			tc.setup(p)
			_, _, err := Shrinkwrap(p.stack(), "f", filepath.Join(p.dir, "template"), filepath.Join(t.TempDir(), "build"))
			if err == nil || !errors.Is(err, ErrSymlinkLoop) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrSymlinkLoop naming %q", err, tc.want)
			}
		})
	}
	t.Run("link elsewhere is followed", func(t *testing.T) {
		p := newProject(t)
		p.write("fn/handler.py", "def handle(event, context):\n    return 'ok'\n")
		p.write("lib/util.py", "X = 1\n")
		p.symlink("../lib", "fn/lib")
		p.symlink("lib", "fn/lib2") // the same directory twice is not a loop
		p.write("stack.yml", stackHead+fn)
		dir, _, err := Shrinkwrap(p.stack(), "f", filepath.Join(p.dir, "template"), filepath.Join(t.TempDir(), "build"))
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range []string{"function/lib/util.py", "function/lib2/util.py"} {
			if b, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || string(b) != "X = 1\n" {
				t.Errorf("%s: %q %v", rel, b, err)
			}
		}
	})
}

// TestCopyTreeEntryCap: a tree of more than MaxCopyEntries entries is an
// error, not an endless copy (directories that each link twice to the next
// would otherwise multiply).
func TestCopyTreeEntryCap(t *testing.T) {
	root := t.TempDir()
	// 2^9 paths through 9 levels of two links each: more than a cap of 100.
	const levels = 9
	for i := levels; i >= 0; i-- {
		d := filepath.Join(root, "d"+letter(i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if i < levels {
			for _, n := range []string{"a", "b"} {
				if err := os.Symlink(filepath.Join(root, "d"+letter(i+1)), filepath.Join(d, n)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	err := copyTree(filepath.Join(root, "da"), filepath.Join(t.TempDir(), "out"), 100)
	if !errors.Is(err, ErrTooManyFiles) || !strings.Contains(err.Error(), "more than 100") {
		t.Fatalf("error %v, want ErrTooManyFiles", err)
	}
}

func letter(i int) string { return string(rune('a' + i)) }
