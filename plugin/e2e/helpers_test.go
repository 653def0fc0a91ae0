package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// project makes a stack directory in a temp dir: testdata/stack.yml and
// functions, the repository's hello-python and templates. faas-cli runs
// with it as cwd so ./template and ./build resolve there.
func project(t *testing.T) string {
	t.Helper()
	root := testenv.Root(t)
	dir := t.TempDir()
	copies := []struct{ from, to string }{
		{filepath.Join(root, "template"), "template"},
		{filepath.Join(root, "functions", "hello-python"), filepath.Join("functions", "hello-python")},
		{filepath.Join("testdata", "functions"), "functions"},
		{filepath.Join("testdata", "stack.yml"), "stack.yml"},
	}
	for _, c := range copies {
		if err := build.CopyTree(c.from, filepath.Join(dir, c.to)); err != nil {
			t.Fatalf("copy %s: %v", c.from, err)
		}
	}
	return dir
}

// startPlatform starts a real Platform on a random port for dir/stack.yml.
func startPlatform(t *testing.T, dir string, deploy bool) *plugin.Platform {
	t.Helper()
	p, _ := platformtest.Start(t, plugin.Config{StackFile: filepath.Join(dir, "stack.yml"), Deploy: deploy}, 0)
	return p
}

// faasCLI runs the real faas-cli in dir with its own config directory.
type faasCLI struct {
	t      *testing.T
	bin    string
	dir    string
	config string
}

func newFaasCLI(t *testing.T, dir string) *faasCLI {
	return &faasCLI{t: t, bin: testenv.FaasCLI(t), dir: dir, config: t.TempDir()}
}

// run returns faas-cli's combined output and whether it exited 0.
func (f *faasCLI) run(stdin string, args ...string) (string, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, args...)
	cmd.Dir = f.dir
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OPENFAAS_") || strings.HasPrefix(kv, "CI=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "OPENFAAS_CONFIG="+f.config)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	f.t.Logf("$ faas-cli %s\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// must runs faas-cli and fails the test unless it exits 0 and its output
// contains every want.
func (f *faasCLI) must(stdin string, want []string, args ...string) string {
	f.t.Helper()
	out, err := f.run(stdin, args...)
	if err != nil {
		f.t.Fatalf("faas-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			f.t.Errorf("faas-cli %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

// functionStatus is the part of /system/function/{name} the tests read.
type functionStatus struct {
	Name              string `json:"name"`
	Replicas          uint64 `json:"replicas"`
	AvailableReplicas uint64 `json:"availableReplicas"`
}

func systemRequest(t *testing.T, p *plugin.Platform, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, p.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", p.Password())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}

// waitAvailable polls /system/function/{name} until availableReplicas == n.
func waitAvailable(t *testing.T, p *plugin.Platform, name string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var last functionStatus
	for time.Now().Before(deadline) {
		res, data := systemRequest(t, p, http.MethodGet, "/system/function/"+name, nil)
		if res.StatusCode == http.StatusOK {
			if err := json.Unmarshal(data, &last); err != nil {
				t.Fatalf("/system/function/%s: %v: %s", name, err, data)
			}
			if last.AvailableReplicas == n && last.Replicas == n {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: want %d available replicas; last status %+v", name, n, last)
}

func scale(t *testing.T, p *plugin.Platform, name string, n uint64) {
	t.Helper()
	res, data := systemRequest(t, p, http.MethodPost, "/system/scale-function/"+name,
		map[string]any{"serviceName": name, "replicas": n})
	if res.StatusCode/100 != 2 {
		t.Fatalf("scale %s to %d: %d %s", name, n, res.StatusCode, data)
	}
	waitAvailable(t, p, name, n)
}

func fmtRatio(a, b float64) string {
	if b == 0 {
		return "inf"
	}
	return fmt.Sprintf("%.2f", a/b)
}
