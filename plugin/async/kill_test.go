package async

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"github.com/prescale/prescale/pkg/eventually"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// childEnv switches the test binary into a queue-serving child process used
// by TestKill9KeepsEveryMessage.
const childEnv = "PRESCALE_ASYNC_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild serves a queue on the store and gateway given in the environment
// and prints "LISTEN <addr>" once ready. It runs until killed.
func runChild() int {
	logger := log.New(os.Stderr, "child: ", log.Lmicroseconds)
	q, err := New(Config{
		StoreDir:         os.Getenv("CHILD_STORE"),
		GatewayURL:       os.Getenv("CHILD_GATEWAY"),
		Functions:        newFnSet("slow"),
		Concurrency:      2,
		FunctionTimeout:  2 * time.Second,
		CallbackTimeout:  time.Second,
		AckWait:          4 * time.Second,
		InitialRetryWait: 50 * time.Millisecond,
		MaxRetryWait:     200 * time.Millisecond,
		FetchWait:        200 * time.Millisecond,
		Logger:           logger,
	})
	if err != nil {
		logger.Print(err)
		return 1
	}
	if err := q.Start(context.Background()); err != nil {
		logger.Print(err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logger.Print(err)
		return 1
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())
	mux := http.NewServeMux()
	mux.Handle("/async-function/", q.Handler())
	logger.Print(http.Serve(ln, mux))
	return 1
}

type child struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
}

func startChild(t *testing.T, store, gateway string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "CHILD_STORE="+store, "CHILD_GATEWAY="+gateway)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: c.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
				lines <- a
			}
		}
	}()
	select {
	case c.addr = <-lines:
	case <-time.After(eventually.SafetyNet):
		t.Fatalf("child did not start (safety net %s): %s", eventually.SafetyNet, c.stderr)
	}
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestKill9KeepsEveryMessage(t *testing.T) {
	const total = 60
	var inflight atomic.Int32
	fn := newRecorder(t, func(r received, w http.ResponseWriter) {
		inflight.Add(1)
		defer inflight.Add(-1)
		time.Sleep(100 * time.Millisecond)
		w.Write(r.Body)
	})
	cb := newRecorder(t, nil)
	store := t.TempDir()

	first := startChild(t, store, fn.srv.URL)
	for i := 0; i < total; i++ {
		resp, body := post(t, "http://"+first.addr+"/async-function/slow", []byte(fmt.Sprint(i)), map[string]string{
			"X-Callback-Url": cb.srv.URL, "X-Call-Id": fmt.Sprintf("k-%d", i)})
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	eventually.True(t, "a few callbacks and calls in flight", 20*time.Millisecond, func() bool {
		return cb.count() >= 4 && inflight.Load() > 0
	})
	inflightAtKill, doneAtKill := inflight.Load(), cb.count()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	_ = first.cmd.Wait()
	t.Logf("killed with %d calls in flight and %d of %d called back", inflightAtKill, doneAtKill, total)
	if doneAtKill >= total {
		t.Fatalf("everything finished before the kill; the test proves nothing")
	}

	second := startChild(t, store, fn.srv.URL)
	// Every callback since the start is in cb.notify (nothing else reads
	// it): count them as they arrive until every call id has come back. A
	// silence of 40 s (redelivery waits AckWait, 4 s) is the safety net
	// that ends a test that lost messages.
	seen := map[string]int{}
wait:
	for len(seen) < total {
		select {
		case r := <-cb.notify:
			seen[r.Header.Get("X-Call-Id")]++
		case <-time.After(40 * time.Second):
			break wait
		}
	}
	for drained := false; !drained; { // redeliveries already here count as duplicates
		select {
		case r := <-cb.notify:
			seen[r.Header.Get("X-Call-Id")]++
		default:
			drained = true
		}
	}
	missing := []string{}
	for i := 0; i < total; i++ {
		if seen[fmt.Sprintf("k-%d", i)] == 0 {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("lost %d messages after kill -9 and restart: %v\nchild log:\n%s", len(missing), missing, second.stderr)
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	t.Logf("all %d delivered after restart; duplicates (at-least-once redeliveries): %d", total, dups)
}
