package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// streamRuntime is the fake runtime with its own Invoke.
type streamRuntime struct {
	*fakeRuntime
	invoke func(w http.ResponseWriter, r *http.Request)
}

func (s *streamRuntime) Invoke(w http.ResponseWriter, r *http.Request, _, _ string) { s.invoke(w, r) }

func withInvoke(f func(w http.ResponseWriter, r *http.Request)) func(*Config) {
	return func(c *Config) { c.Runtime = &streamRuntime{fakeRuntime: c.Runtime.(*fakeRuntime), invoke: f} }
}

// eventually bounds a wait on an event that must happen; it only turns a
// hang into a failure.
const eventually = 30 * time.Second

// TestChunkedBodyStreams: a chunked body reaches the function while the
// client is still sending it (it was buffered whole, up to the limit, first).
func TestChunkedBodyStreams(t *testing.T) {
	got := make(chan string, 1)
	h := newHarness(t, withInvoke(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		_, err := io.ReadFull(r.Body, buf)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(buf)
		rest, _ := io.ReadAll(r.Body)
		io.WriteString(w, string(buf)+string(rest))
	}))
	h.deploy(t, "hello-python", "")
	pr, pw := io.Pipe()
	defer pw.Close() // on failure too: the server's Close waits for the request
	req, _ := http.NewRequest("POST", h.srv.URL+"/function/hello-python", pr)
	req.ContentLength = -1
	done := make(chan *http.Response, 1)
	go func() {
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			res = nil
		}
		done <- res
	}()
	if _, err := io.WriteString(pw, "first"); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "first" {
			t.Fatalf("function read %q", s)
		}
	case <-time.After(eventually):
		t.Fatal("the function did not get the first chunk while the client was still sending: the body is buffered")
	}
	io.WriteString(pw, " second")
	pw.Close()
	res := <-done
	if res == nil {
		return
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "first second" {
		t.Fatalf("%d %q", res.StatusCode, b)
	}
}

// TestChunkedBodyOverLimitWhileStreaming: the function sees a
// MaxBytesError and a cancelled context when the body goes over the limit;
// the client gets 413 with the limit in the message, whatever the runtime
// tried to write after that; a body of exactly the limit passes.
func TestChunkedBodyOverLimitWhileStreaming(t *testing.T) {
	seen := make(chan error, 2)
	h := newHarness(t, withInvoke(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			seen <- errors.Join(err, r.Context().Err())
			http.Error(w, "upstream broke: "+err.Error(), http.StatusBadGateway) // must not reach the client
			return
		}
		seen <- nil
		w.Write([]byte(strings.ToUpper(string(b))))
	}))
	h.deploy(t, "hello-python", "")
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", h.srv.URL+"/function/hello-python", io.NopCloser(strings.NewReader(body)))
		req.ContentLength = -1
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, out := post(strings.Repeat("z", 1025))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(out, "limit of 1024 bytes") {
		t.Fatalf("over the limit: %d %q", code, out)
	}
	var err error
	select {
	case err = <-seen:
	case <-time.After(eventually):
		t.Fatal("the function never got the body: it was refused before streaming")
	}
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) || mbe.Limit != 1024 || !errors.Is(err, context.Canceled) {
		t.Fatalf("function saw %v, want a MaxBytesError and a cancelled context", err)
	}
	if code, out := post(strings.Repeat("z", 1024)); code != 200 || out != strings.Repeat("Z", 1024) {
		t.Fatalf("at the limit: %d %.40q", code, out)
	}
}

// TestNotDeployedCreatesNoSeries: requests to functions that are not
// deployed create no gateway_* series (cardinality is bounded by the
// deployed functions).
func TestNotDeployedCreatesNoSeries(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/function/not-deployed", "/function/not-deployed.openfaas-fn", "/function/x.other-ns/a"} {
		if code, _ := h.do(t, "POST", p, "x"); code != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", p, code)
		}
	}
	for name, mf := range scrape(t, h) {
		if strings.HasPrefix(name, "gateway_") && len(mf.GetMetric()) > 0 {
			t.Errorf("%s has %d series after requests to undeployed functions", name, len(mf.GetMetric()))
		}
	}
}

// TestInvokeKeepsHijack: the body limit's writer still lets the runtime
// take the connection over (websockets through the proxy).
func TestInvokeKeepsHijack(t *testing.T) {
	h := newHarness(t, withInvoke(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, "no hijack: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		rw.Flush()
	}))
	h.deploy(t, "hello-python", "")
	if code, out := h.do(t, "GET", "/function/hello-python", ""); code != 200 || out != "hijacked" {
		t.Fatalf("%d %q", code, out)
	}
}
