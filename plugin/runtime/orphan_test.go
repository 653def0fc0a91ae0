package runtime

import (
	"bufio"
	"context"
	"errors"
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

	"golang.org/x/sys/unix"
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
	// The fprocess writes its pid into a FIFO: reading it blocks until the
	// fprocess has run (an event, no polling); the parent test bounds this.
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		fail(err)
	}
	fmt.Println("running", strings.TrimSpace(string(b)))
	select {}
}

// kill -9 of the plugin leaves no process of its tree: the watchdog dies
// with the plugin (Pdeathsig) and the function process forked for a
// request dies with the watchdog, although it runs in its own process
// group.
func TestKill9OfThePluginLeavesNoProcess(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.sh"), []byte("echo $$ > pid\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pid"), 0o600); err != nil {
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
	// The pidfd is opened before the kill: it names this process, whatever
	// process later gets its pid.
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	// The kernel delivers the death signals as the parents exit: wait for
	// the function process's exit on its pidfd (readable once it has
	// exited), bounded by the safety net.
	if err := waitExit(fd, safetyNet); err != nil {
		t.Fatalf("function process %d (sleep 600) outlived kill -9 of the plugin: %v", pid, err)
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

// waitExit waits until the process of pidfd fd has exited (a zombie
// counts): no polling of the process table.
func waitExit(fd int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if ms <= 0 {
			return errors.New("still running after the safety net")
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll pidfd: %w", err)
		}
		if n > 0 {
			return nil
		}
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
