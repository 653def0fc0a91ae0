package async

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fnSet is the Functions (and Annotations) seam: the plugin's function
// registry has no real peer in this package.
type fnSet struct {
	mu  sync.Mutex
	fns map[string]map[string]string
}

func newFnSet(names ...string) *fnSet {
	s := &fnSet{fns: map[string]map[string]string{}}
	for _, n := range names {
		s.fns[n] = map[string]string{}
	}
	return s
}

func (s *fnSet) Exists(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.fns[name]
	return ok
}

func (s *fnSet) Annotations(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fns[name]
}

// received is one request seen by a fake server.
type received struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
	At                  time.Time
}

// recorder is an httptest server that records requests and answers with
// respond (200 and no body when nil).
type recorder struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []received
	notify  chan received
	respond func(r received, w http.ResponseWriter)
}

func newRecorder(t testing.TB, respond func(r received, w http.ResponseWriter)) *recorder {
	rec := &recorder{notify: make(chan received, 100000), respond: respond}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := received{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, At: time.Now()}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, got)
		rec.mu.Unlock()
		if rec.respond != nil {
			rec.respond(got, w)
		}
		rec.notify <- got
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

func (rec *recorder) all() []received {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]received(nil), rec.reqs...)
}

// testConfig is a fast configuration for tests: short retry and fetch
// waits; the function and callback timeouts and the ack wait are long
// enough that a loaded machine's stall never turns a slow local call into
// a retry (which would change the counts the tests check).
func testConfig(t testing.TB, gateway string, fns Functions) Config {
	return Config{
		StoreDir:         t.TempDir(),
		GatewayURL:       gateway,
		Functions:        fns,
		FunctionTimeout:  30 * time.Second,
		CallbackTimeout:  10 * time.Second,
		AckWait:          time.Minute,
		InitialRetryWait: 20 * time.Millisecond,
		MaxRetryWait:     100 * time.Millisecond,
		FetchWait:        200 * time.Millisecond,
		RescanInterval:   200 * time.Millisecond,
		Logger:           log.New(testWriter{t}, "async: ", 0),
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startQueue creates and starts a queue and serves its handler.
func startQueue(t testing.TB, cfg Config) (*Queue, *httptest.Server) {
	t.Helper()
	q, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/async-function/", q.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q, srv
}

// post sends an async request and returns the response and its body.
func post(t testing.TB, url string, body []byte, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
