package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/plugin/async"
)

type oneFn struct{}

func (oneFn) Exists(name string) bool { return name == "fails" }

// deadLetterOne queues one request to a function that always answers 500
// (MaxAttempts 1) and waits until it is dead-lettered. The queue keeps
// running so the CLI finds it through nats.url.
func deadLetterOne(t *testing.T, dataDir string, enqueue bool) *async.Queue {
	t.Helper()
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(fn.Close)
	q, err := async.New(async.Config{
		StoreDir: filepath.Join(dataDir, "nats"), GatewayURL: fn.URL, Functions: oneFn{},
		MaxAttempts: 1, FunctionTimeout: time.Second, CallbackTimeout: time.Second,
		FetchWait: 100 * time.Millisecond, Logger: log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close(context.Background()) })
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if enqueue {
		req := httptest.NewRequest(http.MethodPost, "/async-function/fails", strings.NewReader("the-body"))
		req.Header.Set("X-Call-Id", "cli-call-1")
		rec := httptest.NewRecorder()
		q.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("enqueue: %d %s", rec.Code, rec.Body)
		}
	}
	var last error // the last List error, reported if the wait fails
	defer func() {
		if t.Failed() && last != nil {
			t.Logf("last dead-letter List error: %v", last)
		}
	}()
	eventually.True(t, "one dead letter", 20*time.Millisecond, func() bool {
		es, err := q.DLQ().List(context.Background())
		last = err
		return err == nil && len(es) == 1
	})
	return q
}

// closeQueue closes q with a context of its own: Close is bounded work
// (the workers stop on cancel), the safety net only turns a hang into a failure.
func closeQueue(t *testing.T, q *async.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.SafetyNet)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func dlq(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runDLQ(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestDLQCommand(t *testing.T) {
	dir := t.TempDir()
	q := deadLetterOne(t, dir, true)

	// against the running plugin (nats.url)
	out, err := dlq(t, "--data", dir, "list")
	if err != nil || !strings.Contains(out, "fails") || !strings.Contains(out, "cli-call-1") || !strings.Contains(out, "1 dead letters") {
		t.Fatalf("list (running): err %v\n%s", err, out)
	}
	closeQueue(t, q)

	// no plugin running: the CLI opens the store itself
	// wantIs: a sentinel the error wraps; wantErr: a text it holds (the
	// CLI's own usage errors have no sentinel)
	steps := []struct {
		args    []string
		wantErr string
		wantIs  error
		want    []string
	}{
		{[]string{"--data", dir, "show", "1"}, "", nil, []string{`"callId": "cli-call-1"`, `"lastStatus": 500`, "the-body"}},
		{[]string{"--data", dir, "show", "x"}, "positive integer", nil, nil},
		{[]string{"--data", dir, "bogus"}, "unknown command", nil, nil},
		{[]string{"--data", dir, "replay"}, "--all", nil, nil},
		{[]string{"--data", dir, "replay", "1"}, "", nil, []string{"replayed 1: fails call cli-call-1"}},
		{[]string{"--data", dir, "list"}, "", nil, []string{"0 dead letters"}},
		{[]string{"--data", dir, "show", "1"}, "", jetstream.ErrMsgNotFound, nil},
		{[]string{"--data", filepath.Join(dir, "nope"), "list"}, "", fs.ErrNotExist, nil},
	}
	for _, s := range steps {
		t.Run(strings.Join(s.args[2:], " "), func(t *testing.T) {
			out, err := dlq(t, s.args...)
			if s.wantIs != nil {
				if !errors.Is(err, s.wantIs) {
					t.Fatalf("err %v, want one wrapping %v\n%s", err, s.wantIs, out)
				}
				return
			}
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("err %v, want %q\n%s", err, s.wantErr, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("err %v\n%s", err, out)
			}
			for _, w := range s.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// the replayed request is back on the work stream: a queue on the same
	// store processes it (and dead-letters it again); then purge
	closeQueue(t, deadLetterOne(t, dir, false))
	out, err = dlq(t, "--data", dir, "purge")
	if err != nil || !strings.Contains(out, "purged 1 dead letters") {
		t.Fatalf("purge: %v %s", err, out)
	}
	if out, _ := dlq(t, "--data", dir, "list"); !strings.Contains(out, "0 dead letters") {
		t.Errorf("after purge: %s", out)
	}
}
