package build

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/plugin/runtime"
)

// A python3-http function that exercises the template's adapter. ?wait
// creates the started file, then blocks reading the release FIFO until the
// test writes it, so tests order events through files, not time.
const probePy = `import json

def handle(event, context):
    q = event.query
    if "fail" in q:
        raise RuntimeError("deliberate failure")
    if "teapot" in q:
        return {"statusCode": 418, "body": "tea", "headers": {"X-Kind": "tea"}}
    if "json" in q:
        return {"body": {"n": 1}}
    if "badtype" in q:
        return 42
    if "badstatus" in q:
        return {"statusCode": "ok"}
    if "bytes" in q:
        return b"\x00\x01"
    if "none" in q:
        return None
    if "wait" in q:
        open(q["started"], "w").close()
        with open(q["release"]) as f:  # a FIFO: blocks until the test writes it
            f.read()
        return "released"
    return "|".join([event.method, event.path, json.dumps(q, sort_keys=True), event.headers.get("X-In", ""),
                     event.body.decode(), context.hostname != "" and "host" or ""])
`

func TestPython3HTTPTemplate(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	p := newProject(t)
	p.write("functions/probe/handler.py", probePy)
	p.write("stack.yml", stackHead+"functions:\n  probe:\n    lang: python3-http\n    handler: ./functions/probe\n    image: x/probe\n")
	reg, err := newBuilder(t, true).Build(context.Background(), p.stack())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := reg.Function("probe")
	if a.Mode != runtime.ModeHTTP || !filepath.IsAbs(a.Command[0]) || a.Command[1] != "index.py" || a.Env["mode"] != "http" {
		t.Fatalf("artifact = %+v", a)
	}
	addr, cmd := startHandler(t, a)
	send := func(method, path, body string, chunked bool) (int, string, http.Header, error) {
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(strings.NewReader(body)) // no length: the client sends it chunked
		}
		req, _ := http.NewRequest(method, "http://"+addr+path, rd)
		req.Header.Set("X-In", "in")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		return res.StatusCode, string(data), res.Header, err
	}
	get := func(path string) string { // for goroutines: an error is the body
		_, body, _, err := send(http.MethodGet, path, "", false)
		if err != nil {
			return err.Error()
		}
		return body
	}

	cases := []struct {
		name, method, path, body string
		chunked                  bool
		status                   int
		wantBody, header         string
	}{
		{"mapping", http.MethodPut, "/some/path?q=1&r=2", "data", false, 200, `PUT|/some/path|{"q": "1", "r": "2"}|in|data|host`, ""},
		{"chunked body", http.MethodPost, "/c", strings.Repeat("x", 70000), true, 200, `POST|/c|{}|in|` + strings.Repeat("x", 70000) + `|host`, ""},
		{"error is 500 with its message", http.MethodGet, "/?fail", "", false, 500, "RuntimeError: deliberate failure\n", ""},
		{"status and headers", http.MethodPost, "/?teapot", "", false, 418, "tea", "tea"},
		{"dict body is JSON", http.MethodGet, "/?json", "", false, 200, `{"n": 1}`, ""},
		{"bytes", http.MethodGet, "/?bytes", "", false, 200, "\x00\x01", ""},
		{"none is empty", http.MethodGet, "/?none", "", false, 200, "", ""},
		{"a bad result type is 500 naming it", http.MethodGet, "/?badtype", "", false, 500, "handler returned int: want None, str, bytes or a dict\n", ""},
		{"a bad status is 500 naming it", http.MethodGet, "/?badstatus", "", false, 500, "handler returned statusCode 'ok': want an int in 100..599\n", ""},
		{"health", http.MethodGet, "/_/health", "", false, 200, "OK", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, h, err := send(c.method, c.path, c.body, c.chunked)
			if err != nil {
				t.Fatal(err)
			}
			if status != c.status || body != c.wantBody {
				t.Errorf("got %d %.200q, want %d %.200q", status, body, c.status, c.wantBody)
			}
			if got := h.Get("X-Kind"); got != c.header {
				t.Errorf("X-Kind = %q, want %q", got, c.header)
			}
		})
	}

	dir := t.TempDir()
	wait := func(name string) string {
		return "/?wait&started=" + filepath.Join(dir, name+".started") + "&release=" + filepath.Join(dir, name+".release")
	}
	waitFile := func(t *testing.T, path string) {
		t.Helper()
		eventually.True(t, "file "+path, 10*time.Millisecond, func() bool { _, err := os.Stat(path); return err == nil })
	}
	for _, name := range []string{"a", "b", "c"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name+".release"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	release := func(t *testing.T, name string) { // opening blocks until the handler reads
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name+".release"), []byte("go"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("requests are served concurrently (no fork, no serialisation)", func(t *testing.T) {
		// Both requests must be inside the handler at once: the second starts
		// while the first is still blocked.
		var wg sync.WaitGroup
		got := make([]string, 2)
		for i, name := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = get(wait(name))
			}()
		}
		waitFile(t, filepath.Join(dir, "a.started"))
		waitFile(t, filepath.Join(dir, "b.started"))
		release(t, "a")
		release(t, "b")
		wg.Wait()
		if got[0] != "released" || got[1] != "released" {
			t.Errorf("responses %q", got)
		}
	})

	t.Run("SIGTERM drains the request in flight, then a clean exit", func(t *testing.T) {
		res := make(chan string, 1)
		go func() {
			res <- get(wait("c"))
		}()
		waitFile(t, filepath.Join(dir, "c.started"))
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		release(t, "c")
		if got := <-res; got != "released" {
			t.Errorf("in-flight request got %q", got)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	})

	t.Run("bad settings exit with a message", func(t *testing.T) {
		for _, env := range []string{"upstream_url=http://127.0.0.1", "upstream_url=http://127.0.0.1:99999", "upstream_url=unix:///x", "port=soon", "port=0"} {
			cmd := exec.Command(a.Command[0], a.Command[1:]...)
			cmd.Dir = a.Dir
			cmd.Env = append(os.Environ(), env)
			if !strings.HasPrefix(env, "upstream_url") {
				cmd.Env = append(cmd.Env, "upstream_url=")
			}
			out, err := cmd.CombinedOutput()
			key := strings.SplitN(env, "=", 2)[0]
			if err == nil || !strings.Contains(string(out), key) {
				t.Errorf("%s: err=%v output=%q, want a failure naming %s", env, err, out, key)
			}
		}
	})
}
