package devloop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/prescale/prescale/plugin/build"
	"github.com/prescale/prescale/plugin/stack"
)

// ErrNoSource: no stack file the plugin may build from names the image.
var ErrNoSource = errors.New("no stack file the plugin may build from names this image")

// Sources are the stack files and directories the plugin may build from.
// A directory stands for its *.yml and *.yaml files (not recursive); every
// lookup reads them afresh, so files created later are found.
type Sources []string

// Files lists the stack files: the files as given and each directory's
// *.yml/*.yaml, sorted per directory, without duplicates.
func (s Sources) Files() []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, src := range s {
		st, err := os.Stat(src)
		if err != nil || !st.IsDir() {
			add(src)
			continue
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range entries {
			n := e.Name()
			if !e.IsDir() && (strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			add(filepath.Join(src, n))
		}
	}
	return out
}

// Find reads the stack files and returns the stack and function that build
// image: among the functions whose image matches (build.NormalizeImage), the
// one named service, else the first in file order. A file that is not a
// readable stack file is skipped (ErrNoSource then says which ones failed).
func (s Sources) Find(service, image string) (*stack.Stack, string, error) {
	want := build.NormalizeImage(image)
	var (
		firstSt   *stack.Stack
		firstName string
		skipped   []string
	)
	for _, file := range s.Files() {
		st, err := stack.Load(file, stack.Options{})
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				skipped = append(skipped, err.Error())
			}
			continue
		}
		for _, name := range st.Names() {
			f := st.Functions[name]
			if f.SkipBuild || build.NormalizeImage(f.Image) != want {
				continue
			}
			if name == service {
				return st, name, nil
			}
			if firstSt == nil {
				firstSt, firstName = st, name
			}
		}
	}
	if firstSt != nil {
		return firstSt, firstName, nil
	}
	msg := fmt.Sprintf("image %s: searched %s", image, s.describe())
	if len(skipped) > 0 {
		msg += fmt.Sprintf("; not stack files: %s", strings.Join(skipped, "; "))
	}
	return nil, "", fmt.Errorf("%s: %w", msg, ErrNoSource)
}

func (s Sources) describe() string {
	if len(s) == 0 {
		return "no stack files (none given)"
	}
	return strings.Join(s, ", ")
}
