package livee2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

func TestBenchLiveQuick(t *testing.T) {
	if os.Getenv("PRESCALE_REQUIRE_TOOLS") == "" && os.Getenv("PRESCALE_LIVE_QUICK") == "" {
		t.Skip("a load test (two platform runs): set PRESCALE_LIVE_QUICK=1 or run make test")
	}
	root := testenv.Root(t)
	bin := filepath.Join(t.TempDir(), "prescale")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/prescale/prescale/cmd/prescale").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(context.Background(), bin, "bench-live", "--quick", "-f", filepath.Join(root, "stack.yml"))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench-live --quick: %v\n%s", err, stderr.String())
	}
	rows := map[string][]string{}
	header := false
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "| policy |") {
			header = true
			continue
		}
		if !header || !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		rows[cells[0]] = cells
	}
	if !header {
		t.Fatalf("no table in the report:\n%s", stdout.String())
	}
	for _, p := range []string{"hpa", "reactive"} {
		c, ok := rows[p]
		if !ok || len(c) != 12 {
			t.Fatalf("row %s: %q, want 12 cells\n%s", p, c, stdout.String())
		}
		// counters read: requests replayed, replica-seconds and peak from the platform
		for i, what := range map[int]string{1: "requests", 7: "replica-seconds", 8: "peak replicas"} {
			if v, err := strconv.ParseFloat(strings.Fields(c[i])[0], 64); err != nil || v <= 0 {
				t.Errorf("%s: %s %q, want a positive number", p, what, c[i])
			}
		}
		if _, err := strconv.ParseFloat(strings.Fields(c[3])[0], 64); err != nil {
			t.Errorf("%s: cold-start waits %q is not a number (the plugin's counter)", p, c[3])
		}
	}
	if rows["hpa"][9] == "–" || rows["reactive"][9] != "–" {
		t.Errorf("simulator columns: hpa %q (want a number), reactive %q (want –)", rows["hpa"][9], rows["reactive"][9])
	}
}
