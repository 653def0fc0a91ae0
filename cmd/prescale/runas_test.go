package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/testlog"
	"github.com/prescale/prescale/plugin/build"
)

// spyHandler tries to read every path of its request and its own secret.
const spyHandler = `import os

def handle(req):
    out = []
    for p in req.split():
        try:
            with open(p) as f:
                out.append("READ " + p + " " + f.read().strip())
        except Exception as e:
            out.append("DENIED " + p)
    with open(os.path.join(os.environ["secret_mount_path"], "basic-auth-user")) as f:
        out.append("MINE " + f.read().strip())
    return "\n".join(out)
`

// prescale up as root (--run-as auto: a uid per function): a function
// (python3, as the stack's hello-python) reads the secret its spec lists,
// and gets nothing of the platform's password, its secret store, or its
// log; a function deployed with envProcess "cat <the password file>" gets
// nothing either; and the same holds with --run-as nobody.
func TestUpRunAsIsolatesFunctions(t *testing.T) {
	for _, runAs := range []string{"auto", "nobody"} {
		t.Run(runAs, func(t *testing.T) { testUpRunAs(t, runAs) })
	}
}

func testUpRunAs(t *testing.T, runAs string) {
	if os.Geteuid() != 0 {
		t.Skip("--run-as needs the platform to run as root")
	}
	root := testenv.Root(t)
	// Under /tmp (world-traversable): t.TempDir's parents are 0700.
	base := testenv.ReachableTempDir(t)
	src := filepath.Join(base, "src")
	if err := build.CopyTree(filepath.Join(root, "template", "python3"), filepath.Join(src, "template", "python3")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(src, "spy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "spy", "handler.py"), []byte(spyHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	stack := "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  spy:\n    lang: python3\n    handler: ./spy\n    image: test/spy:latest\n    secrets:\n      - basic-auth-user\n"
	if err := os.WriteFile(filepath.Join(src, "stack.yml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(base, "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testlog.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runUp(ctx, []string{"-f", filepath.Join(src, "stack.yml"), "--port", "0", "--data", data, "--run-as", runAs}, &stdout, &stderr)
	}()
	gwLine := regexp.MustCompile(`(?m)^gateway: (http://127\.0\.0\.1:\d+) `)
	var gw string
	for gw == "" || !strings.Contains(stdout.String(), "serving;") {
		select {
		case err := <-done:
			t.Fatalf("prescale up ended: %v\n%s\n%s", err, stdout.String(), stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if m := gwLine.FindStringSubmatch(stdout.String()); m != nil {
			gw = m[1]
		}
	}
	targets := []string{
		filepath.Join(data, "basic-auth-password"),
		filepath.Join(data, "secrets", "basic-auth-password"),
		filepath.Join(data, "prescale.log"),
	}
	// The function is deployed by the time up serves; its first call may
	// wait for its replica (the gateway holds it).
	resp, err := http.Post(gw+"/function/spy", "text/plain", strings.NewReader(strings.Join(targets, " ")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := string(body)
	if resp.StatusCode != 200 || !strings.Contains(out, "MINE admin") {
		t.Fatalf("spy: %d %q; want 200 and its own basic-auth-user", resp.StatusCode, out)
	}
	for _, p := range targets {
		if !strings.Contains(out, "DENIED "+p) {
			t.Errorf("spy could read %s:\n%s", p, out)
		}
	}
	// The same image deployed with envProcess reading the password file.
	pw, err := os.ReadFile(filepath.Join(data, "basic-auth-password"))
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(pw))
	fd := `{"service":"cat-spy","image":"test/spy:latest","envProcess":"cat ` + targets[0] + `"}`
	req, err := http.NewRequest(http.MethodPost, gw+"/system/functions", strings.NewReader(fd))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("deploy cat-spy: %d", res.StatusCode)
	}
	res, err = http.Post(gw+"/function/cat-spy", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == 200 || strings.Contains(string(body), password) {
		t.Errorf("envProcess cat of the password file: %d %q; want a failure without the password", res.StatusCode, body)
	}
	cancel()
	if stopped, err := waitStopped(done); !stopped {
		t.Fatalf("prescale up did not stop within %s of cancel", stopWait)
	} else if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("prescale up: %v", err)
	}
}
