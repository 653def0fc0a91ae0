package devloop

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/prescale/prescale/plugin/stack"
)

// Hash is the content hash of everything function name's native build reads:
// its lang, fprocess and handler path, the tree of its handler directory
// (minus build/ and template/, as the shrinkwrap skips them), its template
// template/<lang> (templateDir "" means the stack's ./template) and the
// stack's configuration.copy paths. Editor and interpreter droppings
// (__pycache__, .git, *.pyc, *~, *.swp, .#*) are left out, so running the
// handler's tests does not count as an edit.
func Hash(st *stack.Stack, name, templateDir string) (string, error) {
	f, ok := st.Functions[name]
	if !ok {
		return "", fmt.Errorf("no function %q in %s", name, st.File)
	}
	if templateDir == "" {
		templateDir = st.Path("template")
	}
	h := sha256.New()
	fmt.Fprintf(h, "lang=%s\x00fprocess=%s\x00handler=%s\x00", f.Lang, f.FProcess, f.Handler)
	trees := []struct{ label, dir string }{
		{"handler", st.Path(f.Handler)},
		{"template", filepath.Join(templateDir, f.Lang)},
	}
	for _, p := range st.Configuration.Copy {
		trees = append(trees, struct{ label, dir string }{"copy:" + filepath.Clean(p), st.Path(p)})
	}
	for i, t := range trees {
		fmt.Fprintf(h, "tree=%s\x00", t.label)
		if err := hashTree(h, t.dir, i == 0); err != nil {
			return "", fmt.Errorf("function %q: %s: %w", name, t.label, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashTree(w io.Writer, root string, handler bool) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (name == "__pycache__" || name == ".git") {
				return filepath.SkipDir
			}
			if handler && (rel == "build" || rel == "template") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".pyc") || strings.HasSuffix(name, "~") || strings.HasSuffix(name, ".swp") || strings.HasPrefix(name, ".#") {
			return nil
		}
		info, err := os.Stat(p) // follows symlinks, as the shrinkwrap copies
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		fmt.Fprintf(w, "%s\x00%o\x00%d\x00", filepath.ToSlash(rel), info.Mode().Perm()&0o111, info.Size())
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		_, err = io.Copy(w, fh)
		return err
	})
}
