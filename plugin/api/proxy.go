package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/plugin/gwmetrics"
)

// invokeFunction: /function/{name}[/{params}] (any method) → the runtime's
// dispatcher. The name may carry the namespace suffix ".openfaas-fn".
// Only these synchronous calls are counted in gateway_function_* metrics.
func (a *API) invokeFunction(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	name, ok := a.resolve(vars["name"])
	if !ok {
		http.Error(w, "function "+vars["name"]+" not found", http.StatusNotFound)
		return
	}
	r, bl, err := a.limitBody(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	path := "/" + vars["params"]

	m := a.cfg.Metrics
	m.Started(name)
	start := time.Now()
	sw := gwmetrics.NewStatusWriter(bl)
	a.cfg.Runtime.Invoke(sw, r, name, path)
	m.Completed(name, bl.finish(sw.Status()), time.Since(start))
}

// resolve finds the deployed function for a raw name, "fn" or
// "fn.openfaas-fn", and returns its plain name (the metrics label).
func (a *API) resolve(raw string) (string, bool) {
	candidates := []string{raw}
	if base := faas.BaseName(raw, Namespace); base != raw {
		candidates = append(candidates, base)
	}
	for _, c := range candidates {
		if st, err := a.cfg.Runtime.Status(c); err == nil {
			if st.Spec.Name != "" {
				return st.Spec.Name, true
			}
			return c, true
		}
	}
	return "", false
}

// Header and body bounds of the gateway.
const (
	// DefaultMaxHeaderBytes bounds a request's header block (request line
	// and header fields) on the gateway's http.Server: 64 KiB, the order of
	// the per-header limits of common proxies (nginx's 4 × 8 KiB large
	// buffers; the OpenFaaS gateway takes Go's default, 1 MiB). Beyond it
	// net/http answers 431.
	DefaultMaxHeaderBytes = 64 << 10
)

// limitBody starts the body limit: 413 at once when Content-Length says too
// much; otherwise (a known length within the limit, or a chunked body of
// unknown length) the body is counted against the limit while it streams
// to the function, never buffered whole. The returned stream's refused
// tells, after the runtime returned, whether the body went over the limit.
func (a *API) limitBody(w http.ResponseWriter, r *http.Request) (*http.Request, *bodyLimit, error) {
	limit := a.cfg.BodyLimit
	if r.ContentLength > limit {
		return r, nil, tooLarge(limit)
	}
	ctx, cancel := context.WithCancel(r.Context())
	bl := &bodyLimit{ResponseWriter: w, left: limit, limit: limit, cancel: cancel}
	r = r.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		bl.rc = r.Body
		r.Body = bl
	}
	return r, bl, nil
}

func tooLarge(limit int64) *Error {
	return errorf(http.StatusRequestEntityTooLarge, "request body larger than the limit of %d bytes", limit)
}

// bodyLimit is both the counted request body and the response writer the
// runtime writes through. When the body goes over the limit, Read fails
// with an *http.MaxBytesError, the request's context is cancelled (the
// runtime then stops the upstream call as for a client gone away, without
// blaming the replica), and whatever the runtime writes afterwards is
// dropped so the API can answer 413 (finish). A response whose header was
// written before the body went over cannot be turned into a 413; it is cut.
type bodyLimit struct {
	http.ResponseWriter
	rc     io.ReadCloser
	cancel context.CancelFunc

	left, limit int64 // left is the transport goroutine's only

	mu      sync.Mutex
	over    bool // the body went over the limit
	written bool // the runtime wrote a header before that
}

func (b *bodyLimit) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &http.MaxBytesError{Limit: b.limit}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.mu.Lock()
		b.over = true
		b.mu.Unlock()
		b.cancel()
		return 0, &http.MaxBytesError{Limit: b.limit}
	}
	return n, err
}

func (b *bodyLimit) Close() error { return b.rc.Close() }

// pass reports whether a write from the runtime goes through.
func (b *bodyLimit) pass() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.over {
		b.written = true
	}
	return !b.over
}

func (b *bodyLimit) WriteHeader(code int) {
	if b.pass() {
		b.ResponseWriter.WriteHeader(code)
	}
}

func (b *bodyLimit) Write(p []byte) (int, error) {
	if b.pass() {
		return b.ResponseWriter.Write(p)
	}
	return len(p), nil
}

func (b *bodyLimit) Flush() {
	if f, ok := b.ResponseWriter.(http.Flusher); ok && b.pass() {
		f.Flush()
	}
}

// Hijack hands over the connection (websockets) when the server allows it;
// the response is then the function's.
func (b *bodyLimit) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := b.ResponseWriter.(http.Hijacker)
	if !ok || !b.pass() {
		return nil, nil, errors.New("response writer does not support hijacking")
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (b *bodyLimit) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// refused reports whether the body went over the limit before the runtime
// wrote a header: the API then answers 413 itself.
func (b *bodyLimit) refused() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over && !b.written
}

// finish releases the request's context and, for a refused body, answers
// 413 with a message; the connection is closed (the rest of the body is
// never read). It returns the status the client got.
func (b *bodyLimit) finish(status int) int {
	defer b.cancel()
	if !b.refused() {
		return status
	}
	h := b.ResponseWriter.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Connection", "close")
	http.Error(b.ResponseWriter, tooLarge(b.limit).Error(), http.StatusRequestEntityTooLarge)
	return http.StatusRequestEntityTooLarge
}
