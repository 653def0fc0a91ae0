package watchdog

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/eventually"
)

func TestMain(m *testing.M) {
	// Re-exec: the test binary doubles as `prescale watchdog`.
	if len(os.Args) > 1 && os.Args[1] == "watchdog" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		err := RunFromEnv(ctx, os.Getenv, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "watchdog:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var client = &http.Client{Timeout: 20 * time.Second}

// start serves a watchdog running script (a /bin/sh script) on 127.0.0.1:0.
func start(t *testing.T, script string, mod func(*Config)) (string, *Config) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "fn.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.FProcess = []string{"/bin/sh", path}
	cfg.LockDir = dir
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), &cfg
}

type res struct {
	code int
	body string
	h    http.Header
}

func call(t *testing.T, method, url, body string, hdr map[string]string) res {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return res{resp.StatusCode, string(b), resp.Header}
}

// heldResult is the answer to a call that lasts until the test releases
// its function, however long the test takes to get there.
type heldResult struct {
	code int
	body string
	err  error
}

// callHeld POSTs to url with no client timeout (the test decides when the
// function ends) and sends the answer to out; the test goroutine reports
// its error.
func callHeld(url string, out chan<- heldResult) {
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		out <- heldResult{err: err}
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	out <- heldResult{resp.StatusCode, string(b), err}
}

func TestInvoke(t *testing.T) {
	cases := []struct {
		name, script, method, path, body string
		hdr                              map[string]string
		mod                              func(*Config)
		code                             int
		want                             string
		internal                         bool
	}{
		{name: "stdin to stdout", script: "cat\n", method: "POST", path: "/", body: "hello", code: 200, want: "hello"},
		{name: "cgi env", script: `printf '%s|%s|%s|%s|%s' "$Http_Method" "$Http_Path" "$Http_Query" "$Http_X_Call_Id" "$Http_Content_Length"` + "\n",
			method: "PUT", path: "/a/b?x=1", body: "abc", hdr: map[string]string{"X-Call-Id": "id-7"}, code: 200, want: "PUT|/a/b|x=1|id-7|3"},
		{name: "cgi headers off", script: `printf '[%s]' "$Http_Method"` + "\n", method: "GET", path: "/",
			mod: func(c *Config) { c.CGIHeaders = false }, code: 200, want: "[]"},
		{name: "stderr combined", script: "echo out; echo err >&2\n", method: "GET", path: "/", code: 200, want: "out\nerr\n"},
		{name: "stderr not combined", script: "echo out; echo err >&2\n", method: "GET", path: "/",
			mod: func(c *Config) { c.CombineOutput = false }, code: 200, want: "out\n"},
		{name: "non-zero exit", script: "echo partial; exit 7\n", method: "POST", path: "/", code: 500, want: "exit status 7\npartial\n"},
		{name: "exec timeout", script: "sleep 600\n", method: "POST", path: "/",
			mod: func(c *Config) { c.ExecTimeout = 200 * time.Millisecond }, code: 408, want: "Killed process.\n", internal: true},
		{name: "method not allowed", script: "cat\n", method: "OPTIONS", path: "/", code: 405, want: "method not allowed\n"},
		{name: "marshal request", script: "cat\n", method: "POST", path: "/", body: "hi",
			mod: func(c *Config) { c.MarshalRequest = true }, code: 200, want: `"body":{"raw":"aGk="}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := start(t, tc.script, tc.mod)
			r := call(t, tc.method, url+tc.path, tc.body, tc.hdr)
			if r.code != tc.code || !strings.Contains(r.body, tc.want) {
				t.Fatalf("got %d %q, want %d %q", r.code, r.body, tc.code, tc.want)
			}
			if (r.h.Get(InternalHeader) != "") != tc.internal {
				t.Errorf("%s = %q, internal %v expected", InternalHeader, r.h.Get(InternalHeader), tc.internal)
			}
			if tc.code == 200 || tc.code == 500 || tc.code == 408 {
				if _, err := strconv.ParseFloat(r.h.Get("X-Duration-Seconds"), 64); err != nil {
					t.Errorf("X-Duration-Seconds %q", r.h.Get("X-Duration-Seconds"))
				}
			}
		})
	}
}

func TestContentType(t *testing.T) {
	url, _ := start(t, "cat\n", nil)
	if r := call(t, "POST", url, "{}", map[string]string{"Content-Type": "application/json"}); r.h.Get("Content-Type") != "application/json" {
		t.Errorf("request content type not echoed: %q", r.h.Get("Content-Type"))
	}
	url, _ = start(t, "cat\n", func(c *Config) { c.ContentType = "text/csv" })
	if r := call(t, "POST", url, "a,b", map[string]string{"Content-Type": "application/json"}); r.h.Get("Content-Type") != "text/csv" {
		t.Errorf("content_type override ignored: %q", r.h.Get("Content-Type"))
	}
}

// TestMaxInflight holds two invocations inside the function (each marks
// that it started, then waits for a release file), so the limit is full for
// as long as the test needs, whatever the machine's speed: further calls get
// 429 marked internal; released, the two finish with 200.
func TestMaxInflight(t *testing.T) {
	script := `d=$(dirname "$0"); touch "$d/started.$$"; while [ ! -e "$d/release" ]; do sleep 0.01; done; echo done` + "\n"
	url, cfg := start(t, script, func(c *Config) { c.MaxInflight = 2 })
	dir := cfg.LockDir
	startedFiles := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "started.*"))
		return len(m)
	}
	held := make(chan heldResult, 2)
	for i := 0; i < 2; i++ {
		go callHeld(url, held)
	}
	eventually.True(t, "two invocations running", 5*time.Millisecond, func() bool { return startedFiles() == 2 })
	for i := 0; i < 3; i++ {
		r := call(t, "POST", url, "", nil)
		if r.code != 429 || r.h.Get(InternalHeader) == "" {
			t.Errorf("call %d over the limit: %d (%s=%q), want 429 marked internal", i, r.code, InternalHeader, r.h.Get(InternalHeader))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if r := <-held; r.err != nil || r.code != 200 || r.body != "done\n" {
			t.Errorf("held invocation: %d %q %v, want 200 \"done\\n\"", r.code, r.body, r.err)
		}
	}
	if n := startedFiles(); n != 2 {
		t.Errorf("the function ran %d times, want 2 (a rejected call must not run it)", n)
	}
}

func TestHealthAndLock(t *testing.T) {
	url, cfg := start(t, "cat\n", nil)
	if r := call(t, "GET", url+"/_/health", "", nil); r.code != 200 || r.body != "OK" {
		t.Fatalf("health %d %q", r.code, r.body)
	}
	if r := call(t, "POST", url+"/_/health", "", nil); r.code != 405 {
		t.Errorf("POST health %d, want 405", r.code)
	}
	if err := os.Remove(cfg.lockPath()); err != nil {
		t.Fatal(err)
	}
	if r := call(t, "GET", url+"/_/health", "", nil); r.code != 503 {
		t.Errorf("health without the lock file %d, want 503", r.code)
	}
	url, cfg = start(t, "cat\n", func(c *Config) { c.SuppressLock = true })
	if _, err := os.Stat(cfg.lockPath()); err == nil {
		t.Errorf("lock file written with suppress_lock")
	}
	if r := call(t, "GET", url+"/_/health", "", nil); r.code != 200 {
		t.Errorf("health with suppress_lock %d, want 200", r.code)
	}
}

func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string // error substring, "" = ok
		chk  func(Config) bool
	}{
		{"defaults", map[string]string{"fprocess": "python3 index.py"}, "", func(c Config) bool {
			return len(c.FProcess) == 2 && c.Port == 8080 && c.ExecTimeout == 0 && c.CombineOutput && c.CGIHeaders && c.ReadTimeout == 30*time.Second
		}},
		{"values", map[string]string{"fprocess": "cat", "port": "9001", "exec_timeout": "2", "write_timeout": "1500ms",
			"max_inflight": "3", "combine_output": "false"}, "", func(c Config) bool {
			return c.Port == 9001 && c.ExecTimeout == 2*time.Second && c.WriteTimeout == 1500*time.Millisecond && c.MaxInflight == 3 && !c.CombineOutput
		}},
		{"no fprocess", map[string]string{}, "fprocess is empty", nil},
		{"bad port", map[string]string{"fprocess": "cat", "port": "99999"}, "port 99999 out of range (allowed 0..65535)", nil},
		{"bad timeout", map[string]string{"fprocess": "cat", "exec_timeout": "soon"}, "exec_timeout=\"soon\": not a duration", nil},
		{"bad bool", map[string]string{"fprocess": "cat", "cgi_headers": "maybe"}, "cgi_headers \"maybe\": not a boolean", nil},
		{"negative inflight", map[string]string{"fprocess": "cat", "max_inflight": "-1"}, "max_inflight -1 out of range", nil},
		{"default max_output", map[string]string{"fprocess": "cat"}, "", func(c Config) bool { return c.MaxOutput == DefaultMaxOutput }},
		{"max_output", map[string]string{"fprocess": "cat", "max_output": "4096"}, "", func(c Config) bool { return c.MaxOutput == 4096 }},
		{"max_output too small", map[string]string{"fprocess": "cat", "max_output": "10"}, "max_output 10 out of range (allowed 1024..1073741824 bytes)", nil},
		{"max_output not a number", map[string]string{"fprocess": "cat", "max_output": "1e9"}, "max_output \"1e9\": not an integer", nil},
		{"overflowing timeout", map[string]string{"fprocess": "cat", "exec_timeout": "18446744074"}, "exec_timeout=\"18446744074\": too large", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil || !tc.chk(c) {
				t.Fatalf("config %+v err %v", c, err)
			}
		})
	}
}

// TestSIGTERMDrain runs the watchdog as a real process: on SIGTERM the lock
// file goes, the in-flight request completes, new connections are refused,
// and the process exits 0.
func TestSIGTERMDrain(t *testing.T) {
	dir := t.TempDir()
	// The function tells the test it runs (fifo started) and finishes
	// when the test lets it (fifo release): the SIGTERM comes while the
	// request is in flight, whatever the machine's speed.
	if err := os.WriteFile(filepath.Join(dir, "fn.sh"), []byte("echo > started; read x < release; echo finished\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"started", "release"} {
		if err := syscall.Mkfifo(filepath.Join(dir, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(os.Args[0], "watchdog")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "fprocess=/bin/sh fn.sh", "port="+strconv.Itoa(port), "TMPDIR="+dir)
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("watchdog log:\n%s", logs.Bytes())
		}
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	eventually.True(t, "watchdog healthy", 20*time.Millisecond, func() bool {
		resp, err := http.Get(url + "/_/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if _, err := os.Stat(filepath.Join(dir, ".lock")); err != nil {
		t.Fatalf("lock file missing while healthy: %v", err)
	}
	got := make(chan heldResult, 1)
	go callHeld(url, got)
	if _, err := os.ReadFile(filepath.Join(dir, "started")); err != nil { // the request is in flight
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Draining: the lock file goes at once, the request still runs.
	eventually.True(t, "lock file removed on SIGTERM", 5*time.Millisecond, func() bool {
		_, err := os.Stat(filepath.Join(dir, ".lock"))
		return os.IsNotExist(err)
	})
	select {
	case r := <-got:
		t.Fatalf("the in-flight request ended before its function did: %d %q %v", r.code, r.body, r.err)
	default:
	}
	if err := os.WriteFile(filepath.Join(dir, "release"), []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || r.code != 200 || r.body != "finished\n" {
		t.Errorf("in-flight request during drain: %d %q %v", r.code, r.body, r.err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Errorf("watchdog exit: %v, want 0", err)
		}
	case <-time.After(eventually.SafetyNet):
		t.Fatalf("watchdog did not exit after draining (safety net %s)", eventually.SafetyNet)
	}
	if _, err := os.Stat(filepath.Join(dir, ".lock")); !os.IsNotExist(err) {
		t.Errorf("lock file still there after shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		t.Errorf("still accepting after shutdown")
	}
}
