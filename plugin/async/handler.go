package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// pathPrefix is where the handler is mounted.
const pathPrefix = "/async-function/"

// Handler returns the handler for POST /async-function/{name}[/path][?query].
// It is open (no auth), as on OpenFaaS.
func (q *Queue) Handler() http.Handler { return http.HandlerFunc(q.serveAsync) }

func (q *Queue) serveAsync(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "async invocation needs POST, got %s", r.Method)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), pathPrefix)
	if !ok {
		httpError(w, http.StatusNotFound, "path %q is not under %s", r.URL.Path, pathPrefix)
		return
	}
	name, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		name, path = rest[:i], rest[i:]
	}
	if name == "" {
		httpError(w, http.StatusNotFound, "no function name in path %q: use %s<name>", r.URL.Path, pathPrefix)
		return
	}
	if !ValidFunctionName(name) {
		httpError(w, http.StatusBadRequest, "invalid function name %q: letters, digits, '-' and '_', optionally .<namespace>", name)
		return
	}
	if !q.cfg.Functions.Exists(name) {
		httpError(w, http.StatusNotFound, "function %q not found", name)
		return
	}
	callback := r.Header.Get("X-Callback-Url")
	if callback != "" {
		if err := validCallback(callback); err != nil {
			httpError(w, http.StatusBadRequest, "invalid X-Callback-Url %q: %v", callback, err)
			return
		}
	}
	body, err := readLimited(w, r, q.cfg.MaxBodyBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpError(w, http.StatusRequestEntityTooLarge, "request body exceeds the async limit of %d bytes", q.cfg.MaxBodyBytes)
			return
		}
		httpError(w, http.StatusBadRequest, "reading request body: %v", err)
		return
	}

	now := time.Now().UTC()
	callID := r.Header.Get("X-Call-Id")
	if callID == "" {
		callID = uuid.NewString()
	}
	header := r.Header.Clone()
	header.Set("X-Call-Id", callID)
	header.Set("X-Start-Time", strconv.FormatInt(now.UnixNano(), 10))
	req := Request{
		CallID:      callID,
		Function:    name,
		Method:      r.Method,
		Path:        path,
		QueryString: r.URL.RawQuery,
		Header:      header,
		Host:        r.Host,
		Body:        body,
		CallbackURL: callback,
		QueuedAt:    now,
	}
	if err := q.enqueue(r.Context(), req); err != nil {
		q.cfg.Logger.Printf("queue %s (call %s): %v", name, callID, err)
		status := http.StatusInternalServerError
		if errors.Is(err, errClosed) {
			status = http.StatusServiceUnavailable
		}
		if errors.Is(err, errQueueFull) {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "30")
		}
		httpError(w, status, "error queuing request: %v", err)
		return
	}
	q.metrics.queued.WithLabelValues(name).Inc()
	w.Header().Set("X-Call-Id", callID)
	w.Header().Set("X-Start-Time", header.Get("X-Start-Time"))
	w.WriteHeader(http.StatusAccepted)
}

// enqueue publishes req and waits for JetStream's acknowledgement.
func (q *Queue) enqueue(ctx context.Context, req Request) error {
	if q.isClosed() {
		return errClosed
	}
	if _, err := q.ensurePool(ctx, req.Function); err != nil {
		return err
	}
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.PublishTimeout)
	defer cancel()
	// The call id is the message id: a client retrying a submission whose
	// 202 it did not see (same X-Call-Id, within DuplicateWindow) queues it
	// once.
	ack, err := q.js.Publish(ctx, q.names.subject(req.Function), data, jetstream.WithExpectStream(q.names.Stream), jetstream.WithMsgID(req.CallID))
	if err != nil {
		if isStreamFull(err) {
			return fmt.Errorf("%w: stream %s: %v", errQueueFull, q.names.Stream, err)
		}
		return fmt.Errorf("publish to stream %s: %w", q.names.Stream, err)
	}
	if ack.Duplicate {
		q.cfg.Logger.Printf("function %s: call %s submitted again within %s: queued once", req.Function, req.CallID, q.cfg.DuplicateWindow)
	}
	return nil
}

// errQueueFull: the work-queue stream is at QueueMaxMsgs or QueueMaxBytes.
var errQueueFull = errors.New("async queue full")

// isStreamFull reports JetStream's refusal of a publish by a full stream
// (DiscardNew at MaxMsgs/MaxBytes): "maximum messages exceeded", "maximum
// bytes exceeded" (JSStreamStoreFailedF carries the store's error text).
func isStreamFull(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		m := apiErr.Description
		return strings.Contains(m, "maximum messages") || strings.Contains(m, "maximum bytes") || strings.Contains(m, "insufficient resources")
	}
	return false
}

func readLimited(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

func validCallback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https")
	}
	if u.Host == "" {
		return fmt.Errorf("must be an absolute URL with a host")
	}
	return nil
}

func httpError(w http.ResponseWriter, code int, format string, a ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, format+"\n", a...)
}
