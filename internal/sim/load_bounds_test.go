package sim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prescale/prescale/internal/trace"
)

// TestLoadTraceAbsurdTimestamp: `prescale sim --trace t.csv` with an Azure
// 2021 row whose end_timestamp is 1e300 (it panicked with a negative index)
// or 1e12 (a ~133 GB allocation) is an error naming the file, line and field.
func TestLoadTraceAbsurdTimestamp(t *testing.T) {
	for _, ts := range []string{"1e300", "1e12", "NaN", "-Inf"} {
		p := filepath.Join(t.TempDir(), "t.csv")
		body := "app,func,end_timestamp,duration\na,f,1.5,0.1\na,f," + ts + ",0.1\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTrace(p, LoadOptions{}, 0.1)
		if err == nil || !errors.Is(err, trace.ErrBounds) {
			t.Fatalf("%s: error %v, want trace.ErrBounds", ts, err)
		}
		for _, w := range []string{p, "line 3", "end_timestamp"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %q", ts, err, w)
			}
		}
	}
}
