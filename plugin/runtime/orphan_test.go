package runtime

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostEnv makes the test binary a plugin stand-in (see serveHostIfAsked).
const hostEnv = "PRESCALE_RUNTIME_TEST_HOST"

// serveHostIfAsked runs a Manager with one fork-mode function whose
// fprocess records its pid and sleeps, invokes it once without waiting for
// the answer, prints "running <pid>" once the fprocess runs, and blocks
// until killed. Called from TestMain.
func serveHostIfAsked() {
	dir := os.Getenv(hostEnv)
	if dir == "" {
		return
	}
	fail := func(err error) { fmt.Println("error", err); os.Exit(1) }
	m, err := New(Config{BaseDir: filepath.Join(dir, "run"), WatchdogCommand: []string{os.Args[0], "watchdog"}})
	if err != nil {
		fail(err)
	}
	spec := Spec{Name: "sleeper", Dir: dir, Command: []string{"/bin/sh", "fn.sh"}, Mode: ModeFork, Replicas: 1}
	if err := m.Deploy(context.Background(), spec); err != nil {
		fail(err)
	}
	if err := m.WaitAvailable(context.Background(), "sleeper", 1); err != nil {
		fail(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.Invoke(w, r, "sleeper", "") }))
	go func() { _, _ = http.Post(srv.URL, "text/plain", strings.NewReader("x")) }()
	pidFile := filepath.Join(dir, "pid")
	for { // the fprocess writes its pid first thing; the parent test bounds this wait
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			fmt.Println("running", strings.TrimSpace(string(b)))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {}
}

// kill -9 of the plugin leaves no process of its tree: the watchdog dies
// with the plugin (Pdeathsig) and the function process forked for a
// request dies with the watchdog, although it runs in its own process
// group.
func TestKill9OfThePluginLeavesNoProcess(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.sh"), []byte("echo $$ > pid.tmp && mv pid.tmp pid\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	host := exec.Command(os.Args[0], "-test.run=^$")
	host.Env = append(os.Environ(), hostEnv+"="+dir)
	host.Stderr = os.Stderr
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Process.Kill(); _ = host.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "running ") || strings.HasPrefix(s.Text(), "error ") {
				line <- s.Text()
				return
			}
		}
		line <- "host exited: " + fmt.Sprint(s.Err())
	}()
	var pid int
	select {
	case l := <-line:
		var err error
		if pid, err = strconv.Atoi(strings.TrimPrefix(l, "running ")); err != nil {
			t.Fatalf("host: %s", l)
		}
	case <-time.After(safetyNet):
		t.Fatal("the host never ran its function (safety net)")
	}
	if !running(pid) {
		t.Fatalf("function process %d is not running before the kill", pid)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // if the test fails
	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	// The kernel delivers the death signals as the parents exit; poll the
	// process table until the function process is gone (or reaped).
	net := time.Now().Add(safetyNet)
	for running(pid) {
		if time.Now().After(net) {
			t.Fatalf("function process %d (sleep 600) outlived kill -9 of the plugin", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The dead plugin's run directory is removed when the next one starts.
	base := filepath.Join(dir, "run")
	stale, err := filepath.Glob(filepath.Join(base, runDirPrefix+"*"))
	if err != nil || len(stale) != 1 {
		t.Fatalf("run dirs after the kill: %v (%v), want the dead plugin's one", stale, err)
	}
	m := newManager(t, func(c *Config) { c.BaseDir = base })
	if _, err := os.Stat(stale[0]); !os.IsNotExist(err) {
		t.Errorf("the dead plugin's run dir %s survived the next start (stat: %v)", stale[0], err)
	}
	if _, err := os.Stat(m.runDir); err != nil {
		t.Errorf("the new run dir: %v", err)
	}
}

// running: pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
