package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/openfaas/faas-provider/logs"

	"github.com/prescale/prescale/internal/clock"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
)

type dtoMetric = dto.Metric

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

// fnServer is the path of the testdata/fnserver binary built by TestMain.
var fnServer string

func TestMain(m *testing.M) {
	// Re-exec trick: the test binary doubles as `prescale watchdog` for fork mode.
	testenv.ServeWatchdogIfAsked()
	serveHostIfAsked()
	dir, err := os.MkdirTemp("", "prescale-runtime-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Traversable by the unprivileged user of TestRunAsIsolatesReplicas.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fnServer = filepath.Join(dir, "fnserver")
	goBin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go not found on PATH:", err)
		os.Exit(1)
	}
	cmd := exec.Command(goBin, "build", "-o", fnServer, "./testdata/fnserver")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building testdata/fnserver:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testConfig runs the Manager on a fake clock: no timeout, delay, backoff
// or grace period passes unless the test steps the clock (fakeClock). Under
// a loaded machine nothing then times out by accident.
func testConfig(t testing.TB) Config {
	return Config{
		Clock:             clock.NewFake(time.Now()),
		BaseDir:           t.TempDir(),
		WatchdogCommand:   []string{os.Args[0], "watchdog"},
		ReadyTimeout:      10 * time.Second,
		ColdStartWait:     10 * time.Second,
		StopGrace:         3 * time.Second,
		RestartBackoff:    50 * time.Millisecond,
		RestartBackoffMax: time.Second,
		ProbeInterval:     10 * time.Millisecond,
	}
}

// newManager starts a Manager that is closed, with every process checked
// dead, when the test ends.
func newManager(t testing.TB, mod func(*Config)) *Manager {
	t.Helper()
	cfg := testConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		var pids []int
		for _, st := range m.List() {
			rs, _ := m.Replicas(st.Spec.Name)
			for _, r := range rs {
				if r.PID > 0 {
					pids = append(pids, r.PID)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, pid := range pids {
			if alive(pid) {
				t.Errorf("process %d still alive after Close", pid)
			}
		}
	})
	return m
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func httpSpec(name string, replicas int) Spec {
	return Spec{
		Name:     name,
		Dir:      filepath.Dir(fnServer),
		Command:  []string{fnServer},
		Mode:     ModeHTTP,
		Replicas: replicas,
		Env:      map[string]string{},
	}
}

// forkSpec runs a /bin/sh script through the watchdog.
func forkSpec(t testing.TB, name, script string, replicas int) Spec {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return Spec{
		Name:     name,
		Dir:      dir,
		Command:  []string{"/bin/sh", "fn.sh"},
		Mode:     ModeFork,
		Replicas: replicas,
	}
}

func deploy(t testing.TB, m *Manager, s Spec) {
	t.Helper()
	if err := m.Deploy(context.Background(), s); err != nil {
		t.Fatalf("Deploy %s: %v", s.Name, err)
	}
}

// safetyNet bounds the waits for events that come within milliseconds, so
// that a broken runtime fails the test instead of hanging it. It is no
// measure of speed: nothing a test asserts depends on it.
const safetyNet = eventually.SafetyNet

func waitAvailable(t testing.TB, m *Manager, name string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safetyNet)
	defer cancel()
	if err := m.WaitAvailable(ctx, name, n); err != nil {
		t.Fatal(err)
	}
}

// waitUntil evaluates cond after every change of the Manager's state (a
// replica transition, a request queued, taken or released, a log line)
// until it holds.
func waitUntil(t testing.TB, m *Manager, what string, cond func() bool) {
	t.Helper()
	net := time.NewTimer(safetyNet)
	defer net.Stop()
	for {
		changed := m.changed.wait()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-net.C:
			t.Fatalf("no change of the runtime's state made %s true", what)
		}
	}
}

// fakeClock is the Manager's clock (testConfig's).
func fakeClock(t testing.TB, m *Manager) *clock.Fake {
	t.Helper()
	f, ok := m.clk.(*clock.Fake)
	if !ok {
		t.Fatalf("the manager runs on %T, not a fake clock", m.clk)
	}
	return f
}

// armed waits until a timer with exactly d to go is armed on f.
func armed(t testing.TB, f *clock.Fake, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safetyNet)
	defer cancel()
	if err := f.BlockUntil(ctx, clock.Has(d)); err != nil {
		t.Fatalf("waiting for a %s timer: %v", d, err)
	}
}

// step waits for a timer of d to be armed, then advances the clock past it.
func step(t testing.TB, f *clock.Fake, d time.Duration) {
	t.Helper()
	armed(t, f, d)
	f.Advance(d)
}

// gateway serves /function/{name}[/path] through m.Invoke, as the API layer does.
func gateway(t testing.TB, m *Manager) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/function/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		name, path, _ := strings.Cut(rest, "/")
		m.Invoke(w, r, name, path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	code   int
	body   string
	header http.Header
	err    error
}

func do(client *http.Client, method, url, body string, hdr map[string]string) result {
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rb)
	if err != nil {
		return result{err: err}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{code: resp.StatusCode, body: string(b), header: resp.Header, err: err}
}

func pids(t testing.TB, m *Manager, name string) []int {
	t.Helper()
	rs, err := m.Replicas(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, r := range rs {
		out = append(out, r.PID)
	}
	return out
}

// waitLogged waits until the function's logs hold the line text: a request
// to /sleep?...&log=1 has reached the function (a lease alone does not
// mean the connection is made).
func waitLogged(t testing.TB, m *Manager, name, text string) {
	t.Helper()
	waitUntil(t, m, "log line "+text, func() bool {
		ch, err := m.Logs(context.Background(), logs.Request{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for l := range ch {
			found = found || l.Text == text
		}
		return found
	})
}
