package build

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

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

// ErrSymlinkLoop is wrapped by CopyTree's error for a symlink that leads
// back to a directory containing it (or to itself).
var ErrSymlinkLoop = errors.New("symlink loop")

// ErrTooManyFiles is wrapped by CopyTree's error for a tree of more than
// MaxCopyEntries files and directories.
var ErrTooManyFiles = errors.New("too many files")

// MaxCopyEntries bounds the files and directories one CopyTree copies:
// 100 000, far above a function's handler or a copy: path (the repository's
// template/ is 30), while symlinks fanning out to the same directories
// cannot multiply a small tree into an endless copy.
const MaxCopyEntries = 100_000

// CopyTree copies a file or a directory tree, keeping file modes; existing
// files are overwritten, others kept (an overlay). Symlinks are followed,
// to files and to directories (a handler may link a shared directory in, as
// faas-cli's copy does), but a directory symlink that leads back to a
// directory being copied (itself, or one of its ancestors) is an error
// wrapping ErrSymlinkLoop that names the link, not an endless recursion; so
// is a tree of more than MaxCopyEntries entries (ErrTooManyFiles). Entries
// that are neither files nor directories (sockets, devices) are skipped.
func CopyTree(src, dst string) error { return copyTree(src, dst, MaxCopyEntries) }

func copyTree(src, dst string, limit int) error {
	c := copier{left: limit, limit: limit}
	return c.copy(src, dst, nil)
}

type copier struct{ left, limit int }

// copy copies src to dst; ancestors are the real paths of the directories
// being copied above src.
func (c *copier) copy(src, dst string, ancestors []string) error {
	info, err := os.Stat(src) // follows symlinks
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return fmt.Errorf("%s: %w (the symlink leads to itself)", src, ErrSymlinkLoop)
		}
		return err
	}
	if c.left--; c.left < 0 {
		return fmt.Errorf("%s: more than %d files and directories to copy: %w", src, c.limit, ErrTooManyFiles)
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil
		}
		return copyFile(src, dst, info.Mode().Perm())
	}
	real, err := filepath.EvalSymlinks(src)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return err
	}
	for _, a := range ancestors {
		if a == real {
			return fmt.Errorf("%s: a symlink leads back to %s, which contains it: %w", src, a, ErrSymlinkLoop)
		}
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	ancestors = append(ancestors[:len(ancestors):len(ancestors)], real)
	for _, e := range entries {
		if err := c.copy(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), ancestors); err != nil {
			return err
		}
	}
	return nil
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
