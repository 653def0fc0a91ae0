package trace

import (
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// TestShippedTracesMatchSources checks that every file in traces/ is listed
// in traces/SOURCES.md and is byte for byte the file whose git blob hash
// SOURCES.md records (the attribution stays true to what is shipped).
func TestShippedTracesMatchSources(t *testing.T) {
	dir := testenv.Traces(t)
	src, err := os.ReadFile(filepath.Join(dir, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+\\.csv)` \\([0-9,]+ B\\) \\|[^|]*\\|[^|]*\\| `([0-9a-f]{40})` \\|")
	listed := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(src), -1) {
		listed[m[1]] = m[2]
	}
	if len(listed) == 0 {
		t.Fatal("SOURCES.md lists no file with a git blob hash")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := listed[name]
		if !ok {
			t.Errorf("traces/%s is not attributed in SOURCES.md", name)
			continue
		}
		delete(listed, name)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := gitBlob(b); got != want {
			t.Errorf("traces/%s: git blob %s, SOURCES.md says %s (the file was changed)", name, got, want)
		}
	}
	for name := range listed {
		t.Errorf("SOURCES.md lists %s, which traces/ does not ship", name)
	}
}

// gitBlob is `git hash-object` of b.
func gitBlob(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum(nil))
}
