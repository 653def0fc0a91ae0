package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prescale/prescale/internal/autoscaler"
	"github.com/prescale/prescale/internal/testenv"
)

func TestSimCommandPrintsEveryPolicy(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"sim", "--trace", testenv.Trace(t, "dirigent_azure2019_500fn_8h_invocations.csv"),
		"--functions", "5", "--minutes", "20", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, p := range autoscaler.Names() {
		if !strings.Contains(stdout.String(), "| "+p+" |") {
			t.Errorf("no row for %s in:\n%s", p, stdout.String())
		}
	}
	for _, f := range []string{"dirigent_azure2019_500fn_8h_invocations.csv", "dirigent_azure2019_500fn_8h_invocations.md", "dirigent_azure2019_500fn_8h_invocations.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSimCommandRejectsBadInput(t *testing.T) {
	// A valid trace and an empty trace directory: each case's one bad value
	// is all that is wrong, whichever order the command checks things in.
	dir := t.TempDir()
	trace := filepath.Join(dir, "ok.csv")
	if err := os.WriteFile(trace, []byte("count\n3\n5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sim"},
		{"sim", "--trace", filepath.Join(dir, "absent.csv")},
		{"sim", "--trace", trace, "--cold-start", "gamma:1"},
		{"sim", "--trace", trace, "--policies", "hpa,unknown"},
		{"sim", "--trace", trace, "--concurrency", "0"},
		{"sim", "--all-traces", t.TempDir()}, // without --out
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code == 0 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

// --all-traces writes RESULTS.md with every policy on every trace and the
// hand-written notes included.
func TestSimBenchWritesResults(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	var csv strings.Builder
	csv.WriteString("count\n")
	for i := 0; i < 30; i++ {
		if i%10 < 3 {
			csv.WriteString("900\n")
		} else {
			csv.WriteString("30\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bursty_invocations.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "NOTES.md"), []byte("## Notes\n\nhand-written marker 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"sim", "--all-traces", dir, "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range autoscaler.Names() {
		if !strings.Contains(string(md), "| bursty | "+p+" |") {
			t.Errorf("RESULTS.md has no row for %s", p)
		}
	}
	if !strings.Contains(string(md), "hand-written marker 42") || !strings.Contains(string(md), "prescale against each policy") {
		t.Errorf("RESULTS.md lacks the notes or the scorecard:\n%s", md)
	}
}

func TestSimZeroRegime(t *testing.T) {
	tr := testenv.Trace(t, "dirigent_azure2019_500fn_8h_invocations.csv")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"sim", "--trace", tr, "--functions", "5", "--minutes", "30", "--min-replicas", "0"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, p := range autoscaler.ZeroNames() {
		if !strings.Contains(stdout.String(), "| "+p+" |") {
			t.Errorf("no row for %s in:\n%s", p, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), "cold-start invocations") {
		t.Errorf("no zero metrics in:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"sim", "--trace", tr, "--min-replicas", "0", "--policies", "hpa"}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "no scale-to-zero mode") {
		t.Errorf("hpa at zero: exit %d, stderr %q", code, stderr.String())
	}
}

// --zero-frontier writes ZERO.md with every curve and a frontier PNG.
func TestSimZeroFrontier(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	src := testenv.Trace(t, "dirigent_azure2019_500fn_8h_invocations.csv")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The first 6 rows of the 500-function file, under its own name.
	lines := strings.SplitN(string(data), "\n", 8)
	if err := os.WriteFile(filepath.Join(dir, "dirigent_azure2019_500fn_8h_invocations.csv"), []byte(strings.Join(lines[:7], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"sim", "--zero-frontier", dir, "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "ZERO.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| keepalive | keep-alive | 10 min |", "| prescale | cold-start cost W", "| hybrid |", "| kpa |", "| oracle |", "At the 10-minute keep-alive's waste"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("ZERO.md lacks %q", want)
		}
	}
	if st, err := os.Stat(filepath.Join(out, "dirigent_azure2019_500fn_8h_zero.png")); err != nil || st.Size() == 0 {
		t.Errorf("frontier png: %v", err)
	}
}
