package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// heyReport is what the tests read from hey's text report.
type heyReport struct {
	RPS      float64
	Statuses map[int]int // status code → responses
	Errors   string      // hey's "Error distribution" section, if any
}

var (
	rpsRE    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	statusRE = regexp.MustCompile(`\[(\d{3})\]\s+(\d+) responses`)
)

func parseHey(out string) (heyReport, error) {
	r := heyReport{Statuses: map[int]int{}}
	m := rpsRE.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in hey's report")
	}
	rps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return r, fmt.Errorf("Requests/sec %q: %w", m[1], err)
	}
	r.RPS = rps
	for _, m := range statusRE.FindAllStringSubmatch(out, -1) {
		code, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		r.Statuses[code] += n
	}
	if i := strings.Index(out, "Error distribution:"); i >= 0 {
		r.Errors = strings.TrimSpace(out[i:])
	}
	return r, nil
}

func TestParseHey(t *testing.T) {
	report := `
Summary:
  Total:	5.0123 secs
  Requests/sec:	12.3456

Status code distribution:
  [200]	60 responses
  [502]	2 responses

Error distribution:
  [1]	Post "http://x": EOF
`
	r, err := parseHey(report)
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS != 12.3456 || r.Statuses[200] != 60 || r.Statuses[502] != 2 || !strings.Contains(r.Errors, "EOF") {
		t.Errorf("parseHey = %+v", r)
	}
	if _, err := parseHey("garbage"); err == nil {
		t.Error("parseHey(garbage) succeeded")
	}
}

func check2xx(t *testing.T, label string, r heyReport) {
	t.Helper()
	total := 0
	for code, n := range r.Statuses {
		total += n
		if code/100 != 2 {
			t.Errorf("%s: %d responses with status %d", label, n, code)
		}
	}
	if total == 0 {
		t.Errorf("%s: hey got no responses", label)
	}
	if r.Errors != "" {
		t.Errorf("%s: hey reported errors:\n%s", label, r.Errors)
	}
}

// TestHeyScalesWithReplicas drives the real hey through
// /function/hello-python with a wait-bound workload (sleep_ms=200, no CPU
// burn, max_inflight=1 per replica), first on 1 replica and then on 2: every
// response is 2xx, and the service intervals the function records
// (spans_file) show that 1 replica never served two requests at once and 2
// replicas did serve two at once — the capacity a replica adds. This holds
// for any speed of the machine; the throughput itself is logged, not
// asserted (it is a benchmark figure: `make bench-live`).
func TestHeyScalesWithReplicas(t *testing.T) {
	hey := testenv.Hey(t)
	dir := project(t)
	spans := filepath.Join(t.TempDir(), "spans")
	t.Setenv("E2E_CPU_MS", "0")
	t.Setenv("E2E_SLEEP_MS", "200")
	t.Setenv("E2E_SPANS_FILE", spans)
	p := startPlatform(t, dir, true)
	waitAvailable(t, p, "hello-python", 1)
	url := p.URL() + "/function/hello-python"
	const workers, requests = 4, 16

	rps := map[uint64]float64{}
	for _, replicas := range []uint64{1, 2} {
		scale(t, p, "hello-python", replicas)
		if err := os.WriteFile(spans, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r := runHey(t, hey, url, workers, requests)
		label := fmt.Sprintf("%d replica(s)", replicas)
		check2xx(t, label, r)
		got := readSpans(t, spans)
		if len(got) != requests {
			t.Fatalf("%s: the function recorded %d service intervals for %d requests", label, len(got), requests)
		}
		if peak := peakOverlap(got); peak != int(replicas) {
			t.Errorf("%s with max_inflight 1: at most %d requests were served at once, want %d", label, peak, replicas)
		}
		rps[replicas] = r.RPS
		t.Logf("hello-python (sleep 200 ms), %s, hey -c %d -n %d: %.1f requests/s %v", label, workers, requests, r.RPS, r.Statuses)
	}
	t.Logf("2 replicas / 1 replica: %s× the requests/s (figure, not asserted)", fmtRatio(rps[2], rps[1]))
}

// runHey sends n requests with c workers through hey and returns its report.
func runHey(t *testing.T, hey, url string, c, n int) heyReport {
	t.Helper()
	args := []string{"-n", strconv.Itoa(n), "-c", strconv.Itoa(c), "-m", "POST", "-T", "text/plain", "-d", "load", url}
	out, err := exec.Command(hey, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("hey %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	r, err := parseHey(string(out))
	if err != nil {
		t.Fatalf("hey: %v\n%s", err, out)
	}
	return r
}

type span struct{ start, end float64 }

func readSpans(t *testing.T, path string) []span {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []span
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var s span
		if _, err := fmt.Sscanf(line, "%f %f", &s.start, &s.end); err != nil || s.end < s.start {
			t.Fatalf("spans file line %q: %v", line, err)
		}
		out = append(out, s)
	}
	return out
}

// peakOverlap is the most intervals open at one instant (an interval that
// ends when another starts does not overlap it).
func peakOverlap(spans []span) int {
	type ev struct {
		at float64
		d  int
	}
	var evs []ev
	for _, s := range spans {
		evs = append(evs, ev{s.start, +1}, ev{s.end, -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at != evs[j].at {
			return evs[i].at < evs[j].at
		}
		return evs[i].d < evs[j].d // ends before starts at the same instant
	})
	peak, open := 0, 0
	for _, e := range evs {
		open += e.d
		peak = max(peak, open)
	}
	return peak
}

func TestPeakOverlap(t *testing.T) {
	for _, tc := range []struct {
		spans []span
		want  int
	}{
		{nil, 0},
		{[]span{{0, 1}, {1, 2}, {2, 3}}, 1},
		{[]span{{0, 2}, {1, 3}, {2.5, 4}}, 2},
		{[]span{{0, 10}, {1, 2}, {1.5, 3}}, 3},
	} {
		if got := peakOverlap(tc.spans); got != tc.want {
			t.Errorf("peakOverlap(%v) = %d, want %d", tc.spans, got, tc.want)
		}
	}
}
