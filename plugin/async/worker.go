package async

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/pkg/faas"
)

// maxResponseBytes bounds a function response kept for the callback.
const maxResponseBytes = 64 << 20

// copyHeader copies src's end-to-end fields (faas.CopyHeaders) without
// Content-Length, which the new request's body sets.
func copyHeader(dst, src http.Header) {
	faas.CopyHeaders(dst, src)
	dst.Del("Content-Length")
}

func (q *Queue) rescanLoop(ctx context.Context) {
	t := time.NewTicker(q.cfg.RescanInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(q.ctx, 10*time.Second)
			if err := q.rescan(rctx); err != nil && q.ctx.Err() == nil {
				q.cfg.Logger.Printf("%v", err)
			}
			cancel()
		}
	}
}

// work pulls one message at a time, so a worker never holds a message it is
// not processing (its AckWait clock starts when it is actually worked on).
func (q *Queue) work(ctx context.Context, p *pool) {
	for ctx.Err() == nil {
		msg, err := p.cons.Next(jetstream.FetchMaxWait(q.cfg.FetchWait))
		if err != nil {
			if ctx.Err() != nil || q.nc.IsClosed() {
				return
			}
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			if q.consumerGone(p) {
				return
			}
			q.cfg.Logger.Printf("function %s: fetch: %v", p.fn, err)
			select {
			case <-ctx.Done():
			case <-time.After(q.cfg.FetchWait):
			}
			continue
		}
		q.process(p.fn, msg)
	}
}

// consumerGone drops p when its consumer was deleted behind the queue's back
// (its workers stop; the next rescan recreates it if messages wait).
func (q *Queue) consumerGone(p *pool) bool {
	ctx, cancel := context.WithTimeout(q.ctx, 5*time.Second)
	defer cancel()
	if _, err := q.stream.Consumer(ctx, consumerName(p.fn)); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pools[p.fn] == p {
		for _, stop := range p.workers {
			stop()
		}
		p.workers = nil
		delete(q.pools, p.fn)
		q.cfg.Logger.Printf("function %s: consumer deleted; workers stopped until the next rescan", p.fn)
	}
	return true
}

// result is one invocation's outcome.
type result struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (r result) failed(retry map[int]bool) bool { return r.err != nil || retry[r.status] }

func (r result) describe() string {
	if r.err != nil {
		return r.err.Error()
	}
	msg := fmt.Sprintf("function returned status %d", r.status)
	if b := strings.TrimSpace(string(r.body)); b != "" {
		if len(b) > 200 {
			b = b[:200] + "…"
		}
		msg += ": " + b
	}
	return msg
}

// process handles one delivery: invoke, call back, then ack, retry later
// or dead-letter.
func (q *Queue) process(fn string, msg jetstream.Msg) {
	attempt := 1
	if md, err := msg.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	var req Request
	if err := json.Unmarshal(msg.Data(), &req); err != nil || req.Function == "" {
		q.cfg.Logger.Printf("function %s: malformed queued message dead-lettered: %v", fn, err)
		q.deadLetter(fn, msg, DeadLetter{
			Request:   Request{Function: fn, Body: msg.Data()},
			Attempts:  attempt,
			LastError: fmt.Sprintf("malformed queued message: %v", err),
		})
		return
	}
	if attempt > q.cfg.MaxAttempts {
		// Every attempt was made and the final callback sent; only the
		// dead-letter write failed. Retry that write, never the function.
		q.deadLetter(fn, msg, DeadLetter{Request: req, Attempts: q.cfg.MaxAttempts,
			LastError: fmt.Sprintf("%d attempts failed; dead-letter write retried on delivery %d", q.cfg.MaxAttempts, attempt)})
		return
	}
	if attempt == 1 && !req.QueuedAt.IsZero() {
		q.metrics.latency.WithLabelValues(fn).Observe(time.Since(req.QueuedAt).Seconds())
	}
	q.metrics.inflight.WithLabelValues(fn).Inc()
	defer q.metrics.inflight.WithLabelValues(fn).Dec()

	start := time.Now()
	var res result
	if q.cfg.Functions.Exists(fn) {
		res = q.invoke(q.ctx, req)
	} else { // e.g. after a restart, before the stack is deployed again: wait
		res = result{status: http.StatusNotFound, err: fmt.Errorf("function %s is not deployed", fn)}
	}
	if q.ctx.Err() != nil { // shutting down: leave it for redelivery
		_ = msg.Nak()
		return
	}
	if res.failed(q.retry) {
		if attempt < q.cfg.MaxAttempts {
			q.retryLater(fn, msg, attempt, res)
			return
		}
		if req.CallbackURL != "" {
			q.callback(req, res, start) // tell the caller the final status, once
		}
		q.deadLetter(fn, msg, DeadLetter{Request: req, Attempts: attempt, LastStatus: res.status, LastError: res.describe()})
		return
	}
	if req.CallbackURL != "" {
		if cbStatus, err := q.callback(req, res, start); err != nil {
			if q.ctx.Err() != nil {
				_ = msg.Nak()
				return
			}
			retryable := cbStatus == 0 || q.retry[cbStatus]
			if retryable && attempt < q.cfg.MaxAttempts {
				q.retryLater(fn, msg, attempt, result{status: cbStatus, err: err})
				return
			}
			q.deadLetter(fn, msg, DeadLetter{Request: req, Attempts: attempt, LastStatus: res.status, LastError: err.Error()})
			return
		}
	}
	q.ack(fn, msg)
	q.metrics.completed.WithLabelValues(fn, strconv.Itoa(res.status)).Inc()
}

func (q *Queue) ack(fn string, msg jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.PublishTimeout)
	defer cancel()
	if err := msg.DoubleAck(ctx); err != nil {
		q.cfg.Logger.Printf("function %s: ack: %v (the message will be redelivered)", fn, err)
	}
}

// backoff is the wait before attempt+1: exponential with equal jitter.
func (q *Queue) backoff(attempt int) time.Duration {
	d := q.cfg.InitialRetryWait
	for i := 1; i < attempt && d < q.cfg.MaxRetryWait; i++ {
		d *= 2
	}
	d = min(d, q.cfg.MaxRetryWait)
	half := d / 2
	return half + rand.N(d-half+1)
}

func (q *Queue) retryLater(fn string, msg jetstream.Msg, attempt int, res result) {
	delay := q.backoff(attempt)
	if ra := res.header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s > 0 {
			delay = min(max(delay, time.Duration(s)*time.Second), q.cfg.MaxRetryWait)
		}
	}
	q.metrics.retried.WithLabelValues(fn).Inc()
	q.cfg.Logger.Printf("function %s: attempt %d/%d failed (%s); retrying in %v", fn, attempt, q.cfg.MaxAttempts, res.describe(), delay.Round(time.Millisecond))
	if err := msg.NakWithDelay(delay); err != nil {
		q.cfg.Logger.Printf("function %s: nak: %v (redelivery after AckWait)", fn, err)
	}
}

// deadLetter stores dl on the dead-letter stream, then acks the original.
// If the store fails the original is not acked, so it is not lost.
func (q *Queue) deadLetter(fn string, msg jetstream.Msg, dl DeadLetter) {
	dl.FailedAt = time.Now().UTC()
	data, err := json.Marshal(dl)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), q.cfg.PublishTimeout)
		_, err = q.js.Publish(ctx, q.names.dlqSubject(fn), data, jetstream.WithExpectStream(q.names.DLQStream))
		cancel()
	}
	if err != nil {
		delivery, seq := 0, uint64(0)
		if md, merr := msg.Metadata(); merr == nil {
			delivery, seq = int(md.NumDelivered), md.Sequence.Stream
		}
		if last := q.cfg.MaxAttempts + q.cfg.DeadLetterRetries; delivery >= last {
			// JetStream delivers it no more (MaxDeliver); unacknowledged,
			// it stays in the work-queue stream: kept, not lost.
			q.cfg.Logger.Printf("function %s: call %s: dead-letter write failed on the last of %d deliveries (%v); the message stays in stream %s at sequence %d",
				fn, dl.Request.CallID, last, err, q.names.Stream, seq)
			q.metrics.deadLetterFailed.WithLabelValues(fn).Inc()
			return
		}
		q.cfg.Logger.Printf("function %s: dead-letter failed (delivery %d of at most %d), will retry: %v", fn, delivery, q.cfg.MaxAttempts+q.cfg.DeadLetterRetries, err)
		_ = msg.NakWithDelay(q.cfg.MaxRetryWait)
		return
	}
	q.cfg.Logger.Printf("function %s: call %s dead-lettered after %d attempts: %s", fn, dl.Request.CallID, dl.Attempts, dl.LastError)
	q.metrics.deadLettered.WithLabelValues(fn).Inc()
	q.ack(fn, msg)
}

// invoke calls the function through the gateway's proxy.
func (q *Queue) invoke(parent context.Context, req Request) result {
	u := strings.TrimRight(q.cfg.GatewayURL, "/") + "/function/" + req.Function + req.Path
	if req.QueryString != "" {
		u += "?" + req.QueryString
	}
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	ctx, cancel := context.WithTimeout(parent, q.cfg.FunctionTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(req.Body))
	if err != nil {
		return result{status: http.StatusServiceUnavailable, err: fmt.Errorf("build request %s: %w", u, err)}
	}
	copyHeader(hreq.Header, req.Header)
	hreq.Header.Set("User-Agent", q.cfg.UserAgent)
	resp, err := q.cfg.HTTPClient.Do(hreq)
	if err != nil {
		return result{status: http.StatusServiceUnavailable, err: fmt.Errorf("invoke %s: %w", u, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return result{status: http.StatusServiceUnavailable, header: resp.Header, err: fmt.Errorf("read response of %s: %w", u, err)}
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body}
}

// callback posts res to req.CallbackURL. It returns the receiver's status
// and an error unless that status is 2xx.
func (q *Queue) callback(req Request, res result, start time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(q.ctx, q.cfg.CallbackTimeout)
	defer cancel()
	creq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.CallbackURL, bytes.NewReader(res.body))
	if err != nil {
		q.metrics.callbacks.WithLabelValues(req.Function, "failed").Inc()
		return 0, fmt.Errorf("callback %s: %w", req.CallbackURL, err)
	}
	copyHeader(creq.Header, res.header)
	creq.Header.Set("X-Call-Id", req.CallID)
	creq.Header.Set("X-Function-Name", req.Function)
	creq.Header.Set("X-Function-Status", strconv.Itoa(res.status))
	creq.Header.Set("X-Duration-Seconds", fmt.Sprintf("%f", time.Since(start).Seconds()))
	creq.Header.Set("User-Agent", q.cfg.UserAgent)
	resp, err := q.cfg.HTTPClient.Do(creq)
	if err != nil {
		q.metrics.callbacks.WithLabelValues(req.Function, "failed").Inc()
		return 0, fmt.Errorf("callback %s: %w", req.CallbackURL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		q.metrics.callbacks.WithLabelValues(req.Function, "failed").Inc()
		return resp.StatusCode, fmt.Errorf("callback %s: status %d", req.CallbackURL, resp.StatusCode)
	}
	q.metrics.callbacks.WithLabelValues(req.Function, "ok").Inc()
	return resp.StatusCode, nil
}
