package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/internal/textutil"
	"github.com/prescale/prescale/pkg/testlog"
)

// descendants lists the live processes below this test process (/proc).
func descendants(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	parent := map[int]int{}
	state := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid], state[pid] = ppid, f[0]+" "+s[:i+1]
	}
	me := os.Getpid()
	var out []string
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == me {
				if !strings.HasPrefix(state[pid], "Z") { // a zombie is dead already
					out = append(out, state[pid])
				}
				break
			}
		}
	}
	return out
}

var decisionLine = regexp.MustCompile(`(?m)^decision (\d\d:\d\d:\d\d) hello-python +rps +(\d+\.\d) forecast +(\S+) replicas (\d+ → \d+|\d+ \(=\)) +(\S.*)$`)

// TestUpDemo runs `prescale up --demo` on the repository's stack.yml with a
// short, fast window of the real trace: the scaler's decisions for
// hello-python stream to stdout as lines with time, observed rps, forecast,
// replicas before → after and reason; cancelling (Ctrl-C) stops every process.
func TestUpDemo(t *testing.T) {
	root := testenv.Root(t)
	tr := testenv.Trace(t, "invitro_azure2019_fullday_10fn_invocations.csv")
	t.Setenv("PRESCALE_SCHEDULE", "@every 2s")
	if before := descendants(t); len(before) > 0 {
		t.Fatalf("processes before the test: %v", before)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testlog.Buffer
	done := make(chan error, 1)
	// A data directory other users can reach (t.TempDir's parents are
	// 0700): as root, --run-as auto runs every replica as nobody, so the
	// whole demo runs isolated (README: Security).
	base := testenv.ReachableTempDir(t)
	data := filepath.Join(base, "data")
	go func() {
		done <- runUp(ctx, []string{"-f", filepath.Join(root, "stack.yml"), "--port", "0", "--data", data, "--skip-tests",
			"--demo", "--demo-trace", tr, "--demo-from", "493", "--demo-to", "505", "--demo-speed", "30", "--demo-peak", "4"}, &stdout, &stderr)
	}()
	// No deadline: the build and the chain's start take what they take on a
	// busy machine. The replay starts with the first decision; wait until the
	// replay has ended and 3 decisions under load (rps > 0) are printed, or
	// the loop has decided 3 more times after the end (then the loop ran
	// through the whole burst: fewer than 3 busy decisions is a failure).
	// A demo that failed (no replay, a replay or decision-follower error)
	// never gets there: fail at once, not at the package's -timeout.
	busy, finished := 0, false
	for busy < 3 || !finished {
		select {
		case err := <-done:
			t.Fatalf("prescale up ended early: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
		if what := demoFailure(stdout.String(), stderr.String()); what != "" {
			cancel() // and wait for the stop, so that no process outlives the test
			waitStopped(done)
			t.Fatalf("the demo failed: %s\nstdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
		}
		out := stdout.String()
		finished = strings.Contains(out, "demo: replay finished")
		busy = 0
		for _, m := range decisionLine.FindAllStringSubmatch(out, -1) {
			if rps, _ := strconv.ParseFloat(m[2], 64); rps > 0 {
				busy++
			}
		}
		if i := strings.Index(out, "demo: replay finished"); i >= 0 && len(decisionLine.FindAllString(out[i:], -1)) >= 3 {
			break
		}
	}
	// The dashboard in a real browser, against the running platform after the replay.
	out := stdout.String()
	m := regexp.MustCompile(`(?m)^UI: (http://127\.0\.0\.1:\d+)/ui/ \(user (\S+),`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("stdout lacks the UI line:\n%s", out)
	}
	pw, err := os.ReadFile(filepath.Join(data, "basic-auth-password"))
	if err != nil {
		t.Fatal(err)
	}
	checkUI(t, m[1], m[2], strings.TrimSpace(string(pw)), "hello-python", []string{"hello-python", "load-probe", "predictor", "scaler"})

	cancel() // Ctrl-C
	if stopped, err := waitStopped(done); !stopped {
		t.Fatalf("prescale up did not stop within %s of cancel", stopWait)
	} else if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("prescale up: %v", err)
	}
	out = stdout.String()
	if busy < 3 {
		t.Fatalf("%d decision lines under load, want >= 3\nstdout:\n%s\nstderr tail:\n%s", busy, out, textutil.Tail(stderr.String(), 3000))
	}
	for _, want := range []string{"NATS: nats://127.0.0.1:", "prescale decisions --nats \"$(cat " + filepath.Join(data, "secrets", "nats-url") + ")\" --follow", "demo: replaying function e72c1540681c",
		"to a 4.0 req/s peak, 1 trace minute = 2.0s", "prescale up: stopped", "platform log: " + filepath.Join(data, "prescale.log"),
		"gateway credentials created; log in with:"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// The terminal shows no platform log lines by default: they are in the log file.
	for name, s := range map[string]string{"stdout": out, "stderr": stderr.String()} {
		if strings.Contains(s, "level=INFO") || strings.Contains(s, "level=WARN") {
			t.Errorf("%s has platform log lines (they belong in the log file):\n%s", name, s)
		}
	}
	log, err := os.ReadFile(filepath.Join(data, "prescale.log"))
	if err != nil || !strings.Contains(string(log), `level=INFO msg="gateway serving"`) {
		t.Errorf("platform log file: %v, want the gateway's INFO lines", err)
	}
	if os.Geteuid() == 0 && !strings.Contains(string(log), `msg="replicas run as unprivileged users, one uid per function"`) {
		t.Errorf("as root with a reachable data directory each function's replicas should run as a uid of their own (--run-as auto); the platform log says:\n%s", textutil.Tail(string(log), 2000))
	}
	if i := strings.Index(out, "demo: replay finished"); i >= 0 {
		if !regexp.MustCompile(`demo summary: \d+ requests in \d+s \(\d+ ok, \d+ errors, \d+ failed, \d+ dropped\) · cold-start waits \d+ · p50 \d+ ms, p99 \d+ ms · \d+ replica-seconds`).MatchString(out[i:]) {
			t.Errorf("no demo summary line after the replay:\n%s", out[i:])
		}
	}
	for _, m := range decisionLine.FindAllStringSubmatch(out, -1) {
		t.Log(m[0])
		if _, err := time.Parse("15:04:05", m[1]); err != nil {
			t.Errorf("decision time %q: %v", m[1], err)
		}
		if m[3] != "-" {
			if _, err := strconv.ParseFloat(m[3], 64); err != nil {
				t.Errorf("forecast %q is not a number", m[3])
			}
		}
	}
	if left := descendants(t); len(left) > 0 {
		t.Fatalf("processes left after Ctrl-C: %v", left)
	}
}

// stopWait bounds the wait for `prescale up` to end after its context is
// cancelled. Stopping is bounded work (SIGTERM, a drain grace, SIGKILL), so
// it is a hang detector, not a deadline on unbounded work.
const stopWait = 2 * time.Minute

// waitStopped waits up to stopWait for runUp's result on done; stopped is
// false when it did not come.
func waitStopped(done <-chan error) (stopped bool, err error) {
	select {
	case err := <-done:
		return true, err
	case <-time.After(stopWait):
		return false, nil
	}
}

// demoFailure is the line with which `prescale up --demo` said its demo
// failed (demo.go: the replay could not start or failed, or following the
// decisions failed), or "".
func demoFailure(stdout, stderr string) string {
	for _, c := range []struct{ text, marker string }{
		{stderr, "demo: replay: "}, {stderr, "demo: following decisions: "}, {stdout, "serving without the replay"},
	} {
		if i := strings.Index(c.text, c.marker); i >= 0 {
			line, _, _ := strings.Cut(c.text[strings.LastIndexByte(c.text[:i], '\n')+1:], "\n")
			return line
		}
	}
	return ""
}

func TestDemoFailure(t *testing.T) {
	for _, c := range []struct{ stdout, stderr, want string }{
		{"demo: replay started\n", "", ""},
		{"", "x\ndemo: replay: connection refused\ny\n", "demo: replay: connection refused"},
		{"", "demo: following decisions: nats: closed\n", "demo: following decisions: nats: closed"},
		{"a\ndemo: trace t.csv not found (run from the repository root?); serving without the replay\n", "",
			"demo: trace t.csv not found (run from the repository root?); serving without the replay"},
	} {
		if got := demoFailure(c.stdout, c.stderr); got != c.want {
			t.Errorf("demoFailure(%q, %q) = %q, want %q", c.stdout, c.stderr, got, c.want)
		}
	}
}

func TestDemoConfig(t *testing.T) {
	base := demoConfig{trace: "x.csv", function: "hello-python", hash: demoDefaultHash, from: 485, to: 505, speed: 10, peak: 4}
	t.Run("validate", func(t *testing.T) {
		cases := []struct {
			name string
			mod  func(*demoConfig)
			want string
		}{
			{"ok", func(*demoConfig) {}, ""},
			{"window", func(d *demoConfig) { d.to = d.from }, "need 0 <= from < to"},
			{"speed", func(d *demoConfig) { d.speed = 0.5 }, "must be in 1..600"},
			{"peak", func(d *demoConfig) { d.peak = 500 }, "0.1..100 requests/s"},
			{"function", func(d *demoConfig) { d.function = "" }, "must name a function"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := base
				tc.mod(&d)
				err := d.validate()
				if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
					t.Fatalf("validate: %v, want %q", err, tc.want)
				}
			})
		}
	})
	t.Run("missing trace", func(t *testing.T) {
		d := base
		d.trace = filepath.Join(t.TempDir(), "absent.csv")
		if _, _, err := d.counts(); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("counts of a missing trace: %v, want fs.ErrNotExist (the demo then serves without the replay)", err)
		}
	})
	t.Run("scaled window", func(t *testing.T) {
		d := base
		d.trace = testenv.Trace(t, "invitro_azure2019_fullday_10fn_invocations.csv")
		counts, desc, err := d.counts()
		if err != nil {
			t.Fatal(err)
		}
		peak, zeros := 0.0, 0
		for _, c := range counts {
			peak = max(peak, c)
			if c == 0 {
				zeros++
			}
		}
		// The busiest minute plays at 4 req/s: 4 × 6 s = 24 calls per 6-second minute.
		if len(counts) != 20 || peak < 23.99 || peak > 24.01 || zeros != 7 || !strings.Contains(desc, "1 trace minute = 6.0s") {
			t.Fatalf("counts %v (peak %v, %d idle minutes) %s", counts, peak, zeros, desc)
		}
	})
}
