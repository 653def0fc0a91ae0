package devloop_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/platformtest"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/plugin"
	"github.com/prescale/prescale/plugin/build"
)

type faasCLI struct {
	t        *testing.T
	bin, dir string
	config   string
}

// run returns faas-cli's combined output and whether it exited 0. The
// timeout is a hang detector for one command (a deploy includes a build).
func (f *faasCLI) run(stdin string, args ...string) (string, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, args...)
	cmd.Dir = f.dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENFAAS_") && !strings.HasPrefix(kv, "CI=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "OPENFAAS_CONFIG="+f.config)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	f.t.Logf("$ faas-cli %s\n%s", strings.Join(args, " "), out)
	return string(out), err
}

func (f *faasCLI) must(stdin string, args ...string) string {
	f.t.Helper()
	out, err := f.run(stdin, args...)
	if err != nil {
		f.t.Fatalf("faas-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// invokeUntil invokes fn until its answer contains want: a rolled-out
// update answers once its new replica is ready (the event waited on; the
// test's own timeout bounds it). Any other answer must be the old one.
func (f *faasCLI) invokeUntil(gw, fn, body, want, old string) {
	f.t.Helper()
	for {
		out, err := f.run(body, "invoke", fn, "-g", gw)
		if err == nil && strings.Contains(out, want) {
			return
		}
		if err == nil && old != "" && !strings.Contains(out, old) {
			f.t.Fatalf("invoke %s: neither the new answer %q nor the old %q:\n%s", fn, want, old, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFaasCLIInnerLoop is the original OpenFaaS workflow against a running
// platform that was started without these functions: faas-cli new (python3,
// python3-http and golang-http), faas-cli deploy (the plugin builds the image from the
// new stack file), faas-cli invoke, edit the handler, deploy again (rebuilt
// and rolled out), the new code answers; a compile error is answered with
// the compiler's message, which faas-cli prints.
func TestFaasCLIInnerLoop(t *testing.T) {
	root := testenv.Root(t)
	cli := &faasCLI{t: t, bin: testenv.FaasCLI(t), dir: t.TempDir(), config: t.TempDir()}
	// faas-cli new reads ./template/<lang>; vendor ours next to the new functions.
	if err := build.CopyTree(filepath.Join(root, "template"), filepath.Join(cli.dir, "template")); err != nil {
		t.Fatal(err)
	}
	cfg := plugin.DefaultConfig()
	cfg.StackFile, cfg.Deploy, cfg.DataDir = "", false, ""
	cfg.BuildFrom = []string{cli.dir}
	p, logs := platformtest.Start(t, cfg, 0)
	gw := p.URL()
	defer func() {
		if t.Failed() {
			t.Logf("platform log:\n%s", logs.String())
		}
	}()
	cli.must(p.Password(), "login", "-u", "admin", "--password-stdin", "-g", gw)

	cli.must("", "new", "py-fn", "--lang", "python3", "-q")
	cli.must("", "new", "go-fn", "--lang", "golang-http", "-q")
	cli.must("", "new", "http-fn", "--lang", "python3-http", "-q")

	for _, fn := range []string{"py-fn", "go-fn", "http-fn"} {
		out := cli.must("", "deploy", "-f", fn+".yml", "-g", gw)
		if !strings.Contains(out, "Deployed. 202") {
			t.Fatalf("deploy %s: no \"Deployed. 202\":\n%s", fn, out)
		}
	}
	cli.invokeUntil(gw, "py-fn", "hello", "hello", "")
	cli.invokeUntil(gw, "go-fn", "hello", `You said: "hello"`, "")
	cli.invokeUntil(gw, "http-fn", "hello", "You said: hello", "")

	// Edit both handlers and deploy again: the new code answers.
	write(t, filepath.Join(cli.dir, "py-fn", "handler.py"), "def handle(req):\n    return \"v2 \" + req\n")
	goHandler := filepath.Join(cli.dir, "go-fn", "handler.go")
	src, err := os.ReadFile(goHandler)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "Hello from golang-http.", "v2 from golang-http.", 1)
	if edited == string(src) {
		t.Fatalf("template handler changed: %s", src)
	}
	write(t, goHandler, edited)
	for _, fn := range []string{"py-fn", "go-fn"} {
		if out := cli.must("", "deploy", "-f", fn+".yml", "-g", gw); !strings.Contains(out, "Deployed. 202") {
			t.Fatalf("redeploy %s:\n%s", fn, out)
		}
	}
	cli.invokeUntil(gw, "py-fn", "hello", "v2 hello", "hello")
	cli.invokeUntil(gw, "go-fn", "hello", "v2 from golang-http", "Hello from golang-http")

	// A compile error: the deploy fails with the compiler's message, and the
	// previous build keeps serving.
	// (gofmt accepts it; the compiler does not).
	write(t, goHandler, strings.Replace(edited, "StatusCode: http.StatusOK,", "StatusCode: \"ok\",", 1))
	out, err := cli.run("", "deploy", "-f", "go-fn.yml", "-g", gw)
	if err == nil {
		t.Fatalf("deploy of a handler that does not compile succeeded:\n%s", out)
	}
	for _, want := range []string{"Unexpected status: 400", "build go-fn: go ", "handler.go:", "cannot use"} {
		if !strings.Contains(out, want) {
			t.Errorf("failed deploy's output lacks %q:\n%s", want, out)
		}
	}
	if out := cli.must("hello", "invoke", "go-fn", "-g", gw); !strings.Contains(out, "v2 from golang-http") {
		t.Errorf("after a failed build the previous build should serve:\n%s", out)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
