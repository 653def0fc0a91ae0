package promtest

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/platformtest"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/plugin"
	"github.com/prescale/prescale/plugin/build"
)

// target is a gateway under test: where to invoke the function and where its /metrics is.
type target struct {
	base     string // gateway base URL; /metrics is scraped here
	function string
	broken   string // a function whose every request fails
	suffix   string // function_name label suffix
	replicas int    // what gateway_service_count should report
}

// stackYML deploys only the workload; its templates and handler are copied
// from the repository.
const stackYML = `version: 1.0
provider:
  name: openfaas
  gateway: http://127.0.0.1:8080
configuration:
  templates:
    - name: python3
functions:
  hello-python:
    lang: python3
    handler: ./functions/hello-python
    image: prescale/hello-python:latest
    environment:
      cpu_ms: "5"
  # The same handler with an invalid setting: every request fails with a 5xx.
  hello-broken:
    lang: python3
    handler: ./functions/hello-python
    image: prescale/hello-broken:latest
    environment:
      cpu_ms: "not-a-number"
`

// startTarget runs the plugin (the embedded OpenFaaS platform) with
// hello-python and hello-broken deployed, its function_name labels carrying ".openfaas-fn" as
// a Kubernetes gateway's do, and waits until the function answers.
func startTarget(t *testing.T) target {
	t.Helper()
	root := testenv.Root(t)
	dir := t.TempDir()
	for _, c := range []struct{ from, to string }{
		{filepath.Join(root, "template", "python3"), filepath.Join("template", "python3")},
		{filepath.Join(root, "functions", "hello-python"), filepath.Join("functions", "hello-python")},
	} {
		if err := build.CopyTree(c.from, filepath.Join(dir, c.to)); err != nil {
			t.Fatalf("copy %s: %v", c.from, err)
		}
	}
	stackFile := filepath.Join(dir, "stack.yml")
	if err := os.WriteFile(stackFile, []byte(stackYML), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := plugin.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.StackFile = stackFile
	cfg.Deploy = true
	cfg.MetricsNamespaceSuffix = true
	p, logs := platformtest.Start(t, cfg, 0) // no deadline: build and deploy take what they take
	ctx := safetyNet(t)                      // the first replica's answer: a hang guard only
	tg := target{base: p.URL(), function: "hello-python", broken: "hello-broken", suffix: ".openfaas-fn", replicas: 1}
	for {
		code := do(ctx, http.DefaultClient, tg.base+"/function/"+tg.function, "ready?")
		if code == http.StatusOK {
			return tg
		}
		select {
		case <-ctx.Done():
			t.Fatalf("hello-python not ready after %s (safety net; last status %d, 0: no answer)\n%s", eventually.SafetyNet, code, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
