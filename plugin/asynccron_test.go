package plugin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/openfaas/connector-sdk/types"
	"github.com/prometheus/common/expfmt"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/plugin/cron"
	"github.com/prescale/prescale/plugin/runtime"
)

const tickHandler = `import os

def handle(req):
    return "tick:%s|%s|%s" % (req, os.environ.get("Http_X_Topic", ""), os.environ.get("NATS_URL", ""))
`

// TestAsyncAndCronWired runs a real platform whose python function is
// scheduled "@every 2s" and invoked asynchronously with a callback.
func TestAsyncAndCronWired(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real replicas")
	}
	dir := t.TempDir()
	copyDir(t, filepath.Join(testenv.Root(t), "template", "python3"), filepath.Join(dir, "template", "python3"))
	if err := os.MkdirAll(filepath.Join(dir, "tick"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tick", "handler.py"), []byte(tickHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	stack := `version: 1.0
provider:
  name: openfaas
functions:
  tick:
    lang: python3
    handler: ./tick
    image: test/tick:latest
    annotations:
      topic: cron-function
      schedule: "@every 2s"
      com.openfaas.queue.concurrency: "2"
`
	if err := os.WriteFile(filepath.Join(dir, "stack.yml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	sub := &cronBodies{ch: make(chan string, 100)}
	p, err := New(Config{Port: 0, DataDir: data, StackFile: filepath.Join(dir, "stack.yml"), Deploy: true,
		Runtime: runtime.Config{StopGrace: 2 * time.Second},
		Cron:    cron.Config{RebuildInterval: 300 * time.Millisecond, Subscriber: sub}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if _, err := os.Stat(filepath.Join(data, "nats", "nats.url")); !os.IsNotExist(err) {
			t.Errorf("nats.url left after Close: %v", err)
		}
	})
	ctx := context.Background() // no deadline on the build: the test's -timeout is the hang guard
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	natsURL := p.functionEnv()["NATS_URL"]
	if !strings.HasPrefix(natsURL, "nats://127.0.0.1:") {
		t.Fatalf("functions' NATS_URL = %q, want the embedded server on loopback", natsURL)
	}
	if _, err := os.Stat(filepath.Join(data, "nats", "jetstream")); err != nil {
		t.Errorf("JetStream store not under DataDir/nats: %v", err)
	}
	// The embedded NATS wants its token: not in the functions' environment
	// (NATS_URL has no credentials and is refused), in their nats-url secret.
	if nc, err := nats.Connect(natsURL, nats.Timeout(5*time.Second)); err == nil {
		nc.Close()
		t.Errorf("NATS_URL %s connects without a token", natsURL)
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Errorf("NATS_URL without a token: %v, want an authorization error", err)
	}
	secretURL, err := os.ReadFile(filepath.Join(data, "secrets", fnutil.NATSURLSecret))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(natsURL, "@") || !strings.Contains(string(secretURL), "@127.0.0.1:") {
		t.Errorf("NATS_URL %q and secret %q: want the token only in the secret", natsURL, secretURL)
	}
	nc, err := nats.Connect(string(secretURL), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("the nats-url secret's URL: %v", err)
	}
	nc.Close()

	got := make(chan *http.Request, 10)
	bodies := make(chan string, 10)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- string(b)
	}))
	defer cb.Close()

	post := func(path string, hdr map[string]string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+path, strings.NewReader("queued"))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("/async-function/tick", map[string]string{"X-Callback-Url": cb.URL}); code != http.StatusAccepted {
		t.Fatalf("async invoke: %d, want 202", code)
	}
	select {
	case r := <-got:
		body := <-bodies
		if r.Header.Get("X-Function-Status") != "200" || r.Header.Get("X-Function-Name") != "tick" ||
			!strings.HasPrefix(body, "tick:queued||"+natsURL) {
			t.Errorf("callback: status %q name %q body %q", r.Header.Get("X-Function-Status"), r.Header.Get("X-Function-Name"), body)
		}
	case <-time.After(eventually.SafetyNet):
		t.Fatalf("no callback (safety net %s)", eventually.SafetyNet)
	}
	if code := post("/async-function/nope", nil); code != http.StatusNotFound {
		t.Errorf("unknown function: %d, want 404", code)
	}

	// cron: the first rebuild after the deploy schedules tick every 2s
	eventually.True(t, "two cron fires answered 200 through the proxy", 200*time.Millisecond, func() bool {
		res, err := http.Get(p.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		var parser expfmt.TextParser
		fams, err := parser.TextToMetricFamilies(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		fires := value(fams["prescale_cron_fires_total"], map[string]string{"function_name": "tick.openfaas-fn"})
		calls := value(fams["gateway_function_invocation_total"], map[string]string{"function_name": "tick", "code": "200"})
		if fires < 2 || calls < fires { // not yet every fire reached tick through the proxy with 200
			return false
		}
		if f := value(fams["prescale_cron_failures_total"], map[string]string{"function_name": "tick.openfaas-fn"}); f > 0 {
			t.Errorf("cron failures %v", f)
		}
		if q := value(fams["prescale_async_queued_total"], map[string]string{"function_name": "tick"}); q != 1 {
			t.Errorf("prescale_async_queued_total{tick} = %v, want 1", q)
		}
		return true
	})
	// The connector hands each answer to its subscriber after the proxy
	// counted the call: wait for it.
	select {
	case b := <-sub.ch:
		if want := "tick:|cron-function|" + natsURL; !strings.HasPrefix(b, want) {
			t.Errorf("cron invocation answered %q, want %q (empty body, X-Topic header)", b, want)
		}
	case <-time.After(eventually.SafetyNet):
		t.Errorf("cron subscriber got no response (safety net %s)", eventually.SafetyNet)
	}
}

type cronBodies struct{ ch chan string }

func (c *cronBodies) Response(r types.InvokerResponse) {
	if r.Body != nil {
		select {
		case c.ch <- string(*r.Body):
		default:
		}
	}
}
