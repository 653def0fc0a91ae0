package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/plugin/build"
	"github.com/prescale/prescale/plugin/runtime"
)

const echoHandler = `import os

def handle(req):
    with open(os.path.join(os.environ["secret_mount_path"], "basic-auth-user")) as f:
        user = f.read()
    return "echo:%s|%s|%s" % (req, os.environ.get("gateway_url"), user)
`

// writeEchoStack writes a one-function python3 stack using the repository's template.
func writeEchoStack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root := testenv.Root(t)
	copyDir(t, filepath.Join(root, "template", "python3"), filepath.Join(dir, "template", "python3"))
	if err := os.MkdirAll(filepath.Join(dir, "echo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "echo", "handler.py"), []byte(echoHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	stack := `version: 1.0
provider:
  name: openfaas
functions:
  echo:
    lang: python3
    handler: ./echo
    image: test/echo:latest
    secrets:
      - basic-auth-user
    labels:
      com.openfaas.scale.min: "1"
`
	file := filepath.Join(dir, "stack.yml")
	if err := os.WriteFile(file, []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := build.CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
}

// childPIDs lists the processes whose parent is this test process.
func childPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[0] != "Z" && fields[1] == strconv.Itoa(me) {
			out = append(out, pid)
		}
	}
	return out
}

func TestPlatformRunsAStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real replicas")
	}
	stackFile := writeEchoStack(t)
	p, err := New(Config{Port: 0, DataDir: t.TempDir(), StackFile: stackFile, Deploy: true,
		Runtime: runtime.Config{StopGrace: 2 * time.Second}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = p.Close(context.Background())
		}
	})
	ctx, cancel := context.WithCancel(context.Background()) // no deadline: waits are on the runtime's events
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}

	call := func(method, path, body string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, p.URL()+path, strings.NewReader(body))
		if auth {
			req.SetBasicAuth("admin", p.Password())
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	waitAvailable := func(n uint64) types.FunctionStatus {
		t.Helper()
		if err := runtimeAvailable(ctx, p, "echo", int(n)); err != nil {
			t.Fatalf("echo never reached %d available replicas: %v", n, err)
		}
		var st types.FunctionStatus
		code, body := call("GET", "/system/function/echo", "", true)
		if code != 200 {
			t.Fatalf("GET /system/function/echo: %d %s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		if st.AvailableReplicas != n || st.Replicas != n {
			t.Fatalf("the runtime has %d available replicas, the API says %+v", n, st)
		}
		return st
	}
	st := waitAvailable(1)
	if st.Image != "test/echo:latest" || st.Namespace != "openfaas-fn" || st.EnvProcess != "python3 index.py" {
		t.Errorf("deployed as faas-cli would: %+v", st)
	}

	code, body := call("POST", "/system/functions", `{"service":"web","image":"nginx:latest"}`, true)
	if code != 400 || !strings.Contains(body, "image nginx:latest is not built by this plugin") || !strings.Contains(body, "test/echo:latest") {
		t.Errorf("unknown image: %d %q", code, body)
	}
	code, body = call("POST", "/function/echo", "hi", false)
	if want := "echo:hi|" + p.URL() + "|admin"; code != 200 || !strings.HasPrefix(body, want) {
		t.Fatalf("invoke: %d %q, want 200 %q", code, body, want)
	}
	if code, body := call("POST", "/system/scale-function/echo", `{"serviceName":"echo","replicas":2}`, true); code != 202 {
		t.Fatalf("scale: %d %q", code, body)
	}
	waitAvailable(2)

	code, body = call("GET", "/metrics", "", false)
	var parser expfmt.TextParser
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if code != 200 || err != nil {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	if v := value(fams["gateway_function_invocation_total"], map[string]string{"function_name": "echo", "code": "200"}); v != 1 {
		t.Errorf("gateway_function_invocation_total{echo,200} = %v, want 1", v)
	}
	if v := value(fams["gateway_service_count"], map[string]string{"function_name": "echo"}); v != 2 {
		t.Errorf("gateway_service_count{echo} = %v, want 2", v)
	}

	if n := len(childPIDs(t)); n < 2 {
		t.Errorf("%d child processes with 2 replicas running", n)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	if err := p.Close(cctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	closed = true
	if pids := childPIDs(t); len(pids) != 0 {
		t.Errorf("processes left after Close: %v", pids)
	}
}

func value(mf *dto.MetricFamily, labels map[string]string) float64 {
	for _, m := range mf.GetMetric() {
		match := true
		for _, l := range m.GetLabel() {
			if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		if m.Counter != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

// runtimeAvailable waits, on the runtime's change events, until function
// name has n available replicas.
func runtimeAvailable(ctx context.Context, p *Platform, name string, n int) error {
	m, ok := p.rt.(*runtime.Manager)
	if !ok {
		return fmt.Errorf("the platform's runtime is a %T, not the real one", p.rt)
	}
	return m.WaitAvailable(ctx, name, n)
}
