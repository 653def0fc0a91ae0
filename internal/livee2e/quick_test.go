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
		// policy, requests, non-200, cold-start waits, wait p99, p50, p95, p99,
		// replica-seconds, peak replicas, and the simulator's waits, p99 and
		// replica-seconds
		if !ok || len(c) != 13 {
			t.Fatalf("row %s: %q, want 13 cells\n%s", p, c, stdout.String())
		}
		// counters read: requests replayed, replica-seconds and peak from the platform
		for i, what := range map[int]string{1: "requests", 8: "replica-seconds", 9: "peak replicas"} {
			if v, err := strconv.ParseFloat(strings.Fields(c[i])[0], 64); err != nil || v <= 0 {
				t.Errorf("%s: %s %q, want a positive number", p, what, c[i])
			}
		}
		if _, err := strconv.ParseFloat(strings.Fields(c[3])[0], 64); err != nil {
			t.Errorf("%s: cold-start waits %q is not a number (the plugin's counter)", p, c[3])
		}
		if _, err := time.ParseDuration(strings.Fields(c[4])[0]); err != nil {
			t.Errorf("%s: wait p99 %q is not a duration (the plugin's start-wait histogram)", p, c[4])
		}
	}
	if rows["hpa"][10] == "–" || rows["reactive"][10] != "–" {
		t.Errorf("simulator columns: hpa %q (want a number), reactive %q (want –)", rows["hpa"][10], rows["reactive"][10])
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
