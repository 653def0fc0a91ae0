package build

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/prescale/prescale/plugin/stack"
)

// Shrinkwrap lays out buildDir/<name> exactly as `faas-cli build
// --shrinkwrap` lays out ./build/<name>: wipe it, copy templateDir/<lang>/**
// in, overlay the handler directory's entries (except build/ and template/)
// into <handler_folder|function>/, then copy each configuration.copy path to
// function/<path>. Paths in the stack resolve against the stack's directory,
// so buildDir may be anywhere. It returns the directory and the template.
func Shrinkwrap(st *stack.Stack, name, templateDir, buildDir string) (string, *stack.Template, error) {
	f, ok := st.Functions[name]
	if !ok {
		return "", nil, fmt.Errorf("no function %q in %s", name, st.File)
	}
	if f.Lang == "" || f.Lang == "dockerfile" {
		return "", nil, fmt.Errorf("function %q: lang %q has no template to build natively", name, f.Lang)
	}
	tdir := filepath.Join(templateDir, f.Lang)
	tmpl, err := stack.LoadTemplate(tdir)
	if err != nil {
		return "", nil, fmt.Errorf("function %q: template %q (vendor it under %s): %w", name, f.Lang, templateDir, err)
	}
	dst := filepath.Join(buildDir, name)
	if err := os.RemoveAll(dst); err != nil {
		return "", nil, fmt.Errorf("wipe %s: %w", dst, err)
	}
	folder := tmpl.HandlerFolder
	if folder == "" {
		folder = "function"
	}
	if err := checkInside(folder); err != nil {
		return "", nil, fmt.Errorf("template %q: handler_folder: %w", f.Lang, err)
	}
	fnDir := filepath.Join(dst, folder)
	if err := os.MkdirAll(fnDir, 0o755); err != nil {
		return "", nil, err
	}
	if err := CopyTree(tdir, dst); err != nil {
		return "", nil, fmt.Errorf("copy template %s: %w", tdir, err)
	}
	handler := st.Path(f.Handler)
	entries, err := os.ReadDir(handler)
	if err != nil {
		return "", nil, fmt.Errorf("function %q: handler: %w", name, err)
	}
	for _, e := range entries {
		if e.Name() == "build" || e.Name() == "template" {
			continue
		}
		if err := CopyTree(filepath.Join(handler, e.Name()), filepath.Join(fnDir, e.Name())); err != nil {
			return "", nil, fmt.Errorf("function %q: copy handler: %w", name, err)
		}
	}
	for i, p := range st.Configuration.Copy {
		if err := checkInside(p); err != nil {
			return "", nil, fmt.Errorf("configuration.copy[%d]: %w", i, err)
		}
		src := st.Path(p)
		if err := CopyTree(src, filepath.Join(dst, "function", filepath.Clean(p))); err != nil {
			return "", nil, fmt.Errorf("function %q: configuration.copy[%d] %s: %w", name, i, p, err)
		}
	}
	return dst, tmpl, nil
}

func checkInside(p string) error {
	if filepath.IsAbs(p) {
		return fmt.Errorf("%q must be a relative path", p)
	}
	c := filepath.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%q is not inside the project", p)
	}
	return nil
}

// CopyTree copies a file or a directory tree (following symlinks), keeping
// file modes; existing files are overwritten, others kept (an overlay).
func CopyTree(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return copyFile(src, dst, st.Mode().Perm())
	}
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		if info.IsDir() {
			if d.Type()&os.ModeSymlink != 0 {
				return CopyTree(p, target)
			}
			return os.MkdirAll(target, 0o755)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		return copyFile(p, target, info.Mode().Perm())
	})
}

func copyFile(src, dst string, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
