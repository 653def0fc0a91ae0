package livee2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
)

// stopMargin is how long before the test's deadline bench-live is
// interrupted; stopWait is how long it then has to close its platform
// (Platform.Close is bounded at 30 s) before it is killed.
const (
	stopMargin = 2 * time.Minute
	stopWait   = time.Minute
)

func TestBenchLiveQuick(t *testing.T) {
	if os.Getenv("PRESCALE_REQUIRE_TOOLS") == "" && os.Getenv("PRESCALE_LIVE_QUICK") == "" {
		t.Skip("a load test (three short platform runs): set PRESCALE_LIVE_QUICK=1 or run make test")
	}
	root := testenv.Root(t)
	bin := filepath.Join(t.TempDir(), "prescale")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/prescale/prescale/cmd/prescale").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// The run ends before the test binary's -timeout would: SIGINT, on which
	// bench-live closes its platform (replicas and all) and removes its
	// directory, with WaitDelay for that cleanup before a SIGKILL, so the
	// test reports the run's output instead of panicking with the platform
	// still running. Pdeathsig does the same if the test binary dies first.
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-stopMargin))
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "bench-live", "--quick", "-f", filepath.Join(root, "stack.yml"))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = stopWait
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("bench-live --quick interrupted %s before the test's deadline: %v\n%s", stopMargin, err, stderr.String())
		}
		t.Fatalf("bench-live --quick: %v\n%s", err, stderr.String())
	}
	rows := map[string][]string{}
	// Cells are found by their column's name in the header, so a column
	// added to the report does not shift what is checked.
	var header []string
	col := map[string]int{}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "| policy |") {
			header = strings.Split(strings.Trim(l, "| "), " | ")
			for k, name := range header {
				col[name] = k
			}
			continue
		}
		if header == nil || !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if len(cells) != len(header) {
			t.Fatalf("row %q has %d cells, the header %d\n%s", l, len(cells), len(header), stdout.String())
		}
		rows[cells[0]] = cells
	}
	if header == nil {
		t.Fatalf("no table in the report:\n%s", stdout.String())
	}
	for _, name := range []string{"requests", "cold-start waits", "wait p99", "replica-seconds", "peak replicas", "replica starts (p50 / p95)",
		"sim: cold-start waits", "sim, measured starts: cold-start waits"} {
		if _, ok := col[name]; !ok {
			t.Fatalf("the table has no %q column: %q", name, header)
		}
	}
	cell := func(p, name string) string { return rows[p][col[name]] }
	for _, p := range []string{"hpa", "reactive"} {
		if _, ok := rows[p]; !ok {
			t.Fatalf("no %s row\n%s", p, stdout.String())
		}
		// counters read: requests replayed, replica-seconds, peak and the
		// replica starts from the platform (every run starts one at least)
		for _, what := range []string{"requests", "replica-seconds", "peak replicas", "replica starts (p50 / p95)"} {
			if v, err := strconv.ParseFloat(strings.Fields(cell(p, what))[0], 64); err != nil || v <= 0 {
				t.Errorf("%s: %s %q, want a positive number", p, what, cell(p, what))
			}
		}
		if _, err := strconv.ParseFloat(strings.Fields(cell(p, "cold-start waits"))[0], 64); err != nil {
			t.Errorf("%s: cold-start waits %q is not a number (the plugin's counter)", p, cell(p, "cold-start waits"))
		}
		if _, err := time.ParseDuration(strings.Fields(cell(p, "wait p99"))[0]); err != nil {
			t.Errorf("%s: wait p99 %q is not a duration (the plugin's start-wait histogram)", p, cell(p, "wait p99"))
		}
	}
	for _, name := range []string{"sim: cold-start waits", "sim, measured starts: cold-start waits"} {
		if cell("hpa", name) == "–" || cell("reactive", name) != "–" {
			t.Errorf("%s: hpa %q (want a number), reactive %q (want –: no simulator policy)", name, cell("hpa", name), cell("reactive", name))
		}
	}
	// The zero windows ran their policies too (the chain with zero on, the
	// idlers, KPA with zero and the hybrid).
	for _, w := range []string{"### Periodic / timer window", "### Scale-from-zero window"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("the report lacks %q", w)
		}
	}
	for _, p := range []string{"prescale", "keepalive-5m", "kpa", "hybrid"} {
		if _, ok := rows[p]; !ok {
			t.Errorf("no %s row in the zero windows' tables", p)
		}
	}
}
