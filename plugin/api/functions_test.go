package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/plugin/runtime"
)

func TestDeployRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("a", MaxNameLength+1)
	img := `"image":"prescale/hello-python:latest"`
	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"malformed JSON", `{"service":`, 400, "malformed JSON"},
		{"wrong JSON type", `{"service":1}`, 400, "malformed JSON"},
		{"empty body", ``, 400, "empty request body"},
		{"missing name", `{` + img + `}`, 400, "function name is required"},
		{"bad name", `{"service":"a/b",` + img + `}`, 400, `invalid function name "a/b"`},
		{"dot name", `{"service":"..",` + img + `}`, 400, "invalid function name"},
		{"long name", `{"service":"` + long + `",` + img + `}`, 400, "the limit is 63"},
		{"other namespace", `{"service":"f","namespace":"prod",` + img + `}`, 400, `namespace "prod" is not available`},
		{"missing image", `{"service":"f"}`, 400, "image is required"},
		{"unknown image", `{"service":"f","image":"nginx:latest"}`, 400,
			"image nginx:latest is not built by this plugin; build it with `prescale up -f stack.yml` (known: prescale/hello-python:latest, prescale/scaler:latest)"},
		{"min not a number", `{"service":"f",` + img + `,"labels":{"com.openfaas.scale.min":"x"}}`, 400,
			`label com.openfaas.scale.min="x" must be an integer between 0 and 100`},
		{"min negative", `{"service":"f",` + img + `,"labels":{"com.openfaas.scale.min":"-1"}}`, 400, "between 0 and 100"},
		{"max zero", `{"service":"f",` + img + `,"labels":{"com.openfaas.scale.max":"0"}}`, 400,
			`label com.openfaas.scale.max="0" must be an integer between 1 and 100`},
		{"max too big", `{"service":"f",` + img + `,"labels":{"com.openfaas.scale.max":"101"}}`, 400, "between 1 and 100"},
		{"min above max", `{"service":"f",` + img + `,"labels":{"com.openfaas.scale.min":"4","com.openfaas.scale.max":"2"}}`, 400,
			"com.openfaas.scale.min=4 is above com.openfaas.scale.max=2"},
		{"factor", `{"service":"f",` + img + `,"labels":{"com.openfaas.scale.factor":"150"}}`, 400,
			`label com.openfaas.scale.factor="150" must be an integer between 0 and 100`},
		{"startup delay", `{"service":"f",` + img + `,"annotations":{"prescale.startup-delay":"3 apples"}}`, 400,
			`annotation prescale.startup-delay="3 apples" must be a Go duration between 0s and 10m0s`},
		{"startup delay too long", `{"service":"f",` + img + `,"annotations":{"prescale.startup-delay":"1h"}}`, 400, "between 0s and 10m0s"},
		{"startup distribution above the bound", `{"service":"f",` + img + `,"annotations":{"prescale.startup-delay":"lognormal:2.5s,0.35,20m"}}`, 400,
			"every value in 0s..10m0s"},
		{"startup distribution sigma", `{"service":"f",` + img + `,"annotations":{"prescale.startup-delay":"lognormal:2.5s,9,10s"}}`, 400,
			"sigma must be a number in [0, 3]"},
		{"missing secret", `{"service":"f",` + img + `,"secrets":["nope"]}`, 400, `secret "nope" not found`},
		{"max_inflight", `{"service":"f",` + img + `,"envVars":{"max_inflight":"-2"}}`, 400,
			`environment max_inflight="-2" must be an integer between 0 and`},
		{"env name", `{"service":"f",` + img + `,"envVars":{"a=b":"1"}}`, 400, `environment variable name "a=b" is invalid`},
		{"read_timeout", `{"service":"f",` + img + `,"envVars":{"read_timeout":"soon"}}`, 400,
			`environment read_timeout="soon" must be a non-negative number of seconds or a Go duration`},
		{"exec_timeout negative", `{"service":"f",` + img + `,"envVars":{"exec_timeout":"-5s"}}`, 400, "exec_timeout"},
		{"too large", `{"service":"f",` + img + `,"envVars":{"x":"` + strings.Repeat("x", 2000) + `"}}`, 413,
			"request body larger than the limit of 1024 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{http.MethodPost, http.MethodPut} {
				code, body := h.do(t, method, "/system/functions", tc.body)
				want := tc.code
				if method == http.MethodPut && tc.code == 400 && strings.Contains(tc.body, `"service":"f"`) &&
					!strings.Contains(tc.name, "namespace") {
					want = http.StatusNotFound // update checks existence once the name is valid
				}
				if code != want {
					t.Errorf("%s: status %d, want %d (body %q)", method, code, want, body)
				}
				if want == tc.code && !strings.Contains(body, tc.want) {
					t.Errorf("%s: body %q does not contain %q", method, body, tc.want)
				}
			}
		})
	}
	if n := len(h.rt.List()); n != 0 {
		t.Fatalf("bad deployments reached the runtime: %d functions", n)
	}
}

func TestDeployMapsToSpec(t *testing.T) {
	h := newHarness(t)
	if err := h.store.Create("api-key", []byte("k")); err != nil {
		t.Fatal(err)
	}
	h.deploy(t, "hello-python", `,"envProcess":"python3 index.py --x","namespace":"openfaas-fn",
		"envVars":{"read_timeout":"5","write_timeout":"1m","exec_timeout":"2s","max_inflight":"3","gateway_url":"http://gateway.openfaas:8080"},
		"labels":{"com.openfaas.scale.min":"2","com.openfaas.scale.max":"4","app":"x"},
		"annotations":{"prescale.startup-delay":"3s","topic":"cron-function"},
		"secrets":["api-key"]`)
	s := h.rt.lastSpec(t)
	checks := []struct {
		what      string
		got, want any
	}{
		{"name", s.Name, "hello-python"},
		{"namespace", s.Namespace, Namespace},
		{"dir", s.Dir, "/build/hello-python"},
		{"mode", s.Mode, runtime.ModeFork},
		{"command from envProcess", strings.Join(s.Command, " "), "python3 index.py --x"},
		{"env fprocess", s.Env["fprocess"], "python3 index.py --x"},
		{"template env", s.Env["template_default"], "1"},
		{"gateway_url overrides", s.Env["gateway_url"], "http://127.0.0.1:9999/"},
		{"NATS_URL", s.Env["NATS_URL"], "nats://127.0.0.1:4222"},
		{"replicas = scale.min", s.Replicas, 2},
		{"max_inflight", s.MaxInflight, 3},
		{"read_timeout integer = seconds", s.ReadTimeout, 5 * time.Second},
		{"write_timeout duration", s.WriteTimeout, time.Minute},
		{"exec_timeout", s.ExecTimeout, 2 * time.Second},
		{"startup delay", s.StartupDelay, 3 * time.Second},
		{"annotation passed", (*s.Deployment.Annotations)["topic"], "cron-function"},
		{"secret file", s.SecretFiles["api-key"], filepath.Join(h.dir, "secrets", "api-key")},
		{"only the listed secrets", len(s.SecretFiles), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	b, err := os.ReadFile(s.SecretFiles["api-key"])
	if err != nil || string(b) != "k" {
		t.Errorf("the function's secret file reads %q, %v", b, err)
	}

	t.Run("envVars fprocess wins and template command is the default", func(t *testing.T) {
		h.deploy(t, "f2", `,"envProcess":"python3 a.py","envVars":{"fprocess":"python3 b.py"}`)
		if got := strings.Join(h.rt.lastSpec(t).Command, " "); got != "python3 b.py" {
			t.Errorf("command %q, want envVars fprocess", got)
		}
		h.deploy(t, "f3", ``)
		s := h.rt.lastSpec(t)
		if got := strings.Join(s.Command, " "); got != "/usr/bin/python3 index.py" || s.Replicas != 1 || s.Env["fprocess"] != "python3 index.py" {
			t.Errorf("default command %q (fprocess %q) replicas %d, want the build's resolved argv and 1", got, s.Env["fprocess"], s.Replicas)
		}
		h.deploy(t, "f4", `,"envProcess":"python3  index.py"`)
		if got := strings.Join(h.rt.lastSpec(t).Command, " "); got != "/usr/bin/python3 index.py" {
			t.Errorf("envProcess equal to the build's fprocess: command %q, want the build's resolved argv", got)
		}
	})
}

// TestDeployStartupDistribution: a distribution annotation becomes
// Spec.StartupDist (drawn per replica start), a duration stays StartupDelay.
func TestDeployStartupDistribution(t *testing.T) {
	h := newHarness(t)
	h.deploy(t, "hello-python", `,"annotations":{"prescale.startup-delay":"lognormal:2.5s,0.35,10s"}`)
	s := h.rt.lastSpec(t)
	if s.StartupDist == nil || s.StartupDist.String() != "lognormal:2.5s,0.35,10s" || s.StartupDelay != 0 {
		t.Fatalf("StartupDist %v, StartupDelay %s; want lognormal:2.5s,0.35,10s and 0", s.StartupDist, s.StartupDelay)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	h := newHarness(t)
	body := `{"service":"hello-python","image":"prescale/hello-python:latest"}`
	if code, out := h.do(t, http.MethodPut, "/system/functions", body); code != http.StatusNotFound || !strings.Contains(out, "not found") {
		t.Fatalf("PUT absent: %d %q, want 404 (faas-cli then POSTs)", code, out)
	}
	if code, out := h.do(t, http.MethodPost, "/system/functions", body); code != http.StatusAccepted {
		t.Fatalf("POST: %d %q", code, out)
	}
	if code, _ := h.do(t, http.MethodPost, "/system/scale-function/hello-python", `{"serviceName":"hello-python","replicas":3}`); code != http.StatusAccepted {
		t.Fatalf("scale: %d", code)
	}
	if code, out := h.do(t, http.MethodPut, "/system/functions",
		`{"service":"hello-python","image":"prescale/hello-python:latest","envVars":{"k":"v"}}`); code != http.StatusAccepted {
		t.Fatalf("PUT present: %d %q", code, out)
	}
	s := h.rt.lastSpec(t)
	if s.Env["k"] != "v" || s.Replicas != 3 {
		t.Errorf("update: env k=%q replicas=%d, want v and the current 3", s.Env["k"], s.Replicas)
	}
	// POST on an existing function updates it rather than failing.
	if code, out := h.do(t, http.MethodPost, "/system/functions", body); code != http.StatusAccepted {
		t.Fatalf("POST existing: %d %q", code, out)
	}

	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"malformed", `{`, 400, "malformed JSON"},
		{"bad name", `{"functionName":"a b"}`, 400, "invalid function name"},
		{"other namespace", `{"functionName":"hello-python","namespace":"x"}`, 404, `namespace "x" not found`},
		{"present", `{"functionName":"hello-python","namespace":"openfaas-fn"}`, 202, ""},
		{"absent", `{"functionName":"hello-python"}`, 404, `function "hello-python" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.do(t, http.MethodDelete, "/system/functions", tc.body)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("DELETE: %d %q, want %d containing %q", code, out, tc.code, tc.want)
			}
		})
	}
	if code, _ := h.do(t, http.MethodGet, "/system/function/hello-python", ""); code != http.StatusNotFound {
		t.Errorf("status after delete: %d, want 404", code)
	}
}

func TestListAndStatus(t *testing.T) {
	h := newHarness(t)
	code, out := h.do(t, http.MethodGet, "/system/functions", "")
	if code != 200 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty list: %d %q, want 200 []", code, out)
	}
	h.deploy(t, "b-fn", `,"labels":{"com.openfaas.scale.min":"2"},"annotations":{"a":"1"},"envVars":{"e":"1"},"envProcess":"python3 index.py"`)
	h.deploy(t, "a-fn", ``)

	code, out = h.do(t, http.MethodGet, "/system/functions?namespace=openfaas-fn", "")
	var list []types.FunctionStatus
	if err := json.Unmarshal([]byte(out), &list); code != 200 || err != nil {
		t.Fatalf("list: %d %v %q", code, err, out)
	}
	if len(list) != 2 || list[0].Name != "a-fn" || list[1].Name != "b-fn" {
		t.Fatalf("list = %+v, want a-fn, b-fn", list)
	}
	for _, f := range list {
		if f.Namespace != Namespace {
			t.Errorf("%s: namespace %q, want %q", f.Name, f.Namespace, Namespace)
		}
	}
	if code, out := h.do(t, http.MethodGet, "/system/functions?namespace=kube-system", ""); code != 404 || !strings.Contains(out, "kube-system") {
		t.Errorf("list other namespace: %d %q, want 404 naming it", code, out)
	}

	if code, _ := h.do(t, http.MethodPost, "/function/b-fn", "x"); code != 200 {
		t.Fatalf("invoke: %d", code)
	}
	h.rt.mu.Lock()
	st := h.rt.fns["b-fn"]
	st.AvailableReplicas = 1
	h.rt.fns["b-fn"] = st
	h.rt.mu.Unlock()

	code, out = h.do(t, http.MethodGet, "/system/function/b-fn?namespace=openfaas-fn&usage=1", "")
	var fs types.FunctionStatus
	if err := json.Unmarshal([]byte(out), &fs); code != 200 || err != nil {
		t.Fatalf("status: %d %v %q", code, err, out)
	}
	if fs.Name != "b-fn" || fs.Image != "prescale/hello-python:latest" || fs.Namespace != Namespace ||
		fs.Replicas != 2 || fs.AvailableReplicas != 1 || fs.InvocationCount != 1 || fs.EnvProcess != "python3 index.py" ||
		fs.EnvVars["e"] != "1" || (*fs.Labels)["com.openfaas.scale.min"] != "2" || (*fs.Annotations)["a"] != "1" ||
		!fs.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("status = %+v", fs)
	}
	if code, out := h.do(t, http.MethodGet, "/system/function/nope", ""); code != 404 || !strings.Contains(out, `"nope" not found`) {
		t.Errorf("status absent: %d %q", code, out)
	}
}

func TestScale(t *testing.T) {
	h := newHarness(t)
	h.deploy(t, "hello-python", ``)
	tests := []struct {
		name, path, body string
		code             int
		want             string
		replicas         int
	}{
		{"up", "/system/scale-function/hello-python", `{"serviceName":"hello-python","replicas":4}`, 202, "", 4},
		{"zero allowed", "/system/scale-function/hello-python", `{"serviceName":"hello-python","replicas":0}`, 202, "", 0},
		{"name from path only", "/system/scale-function/hello-python?namespace=openfaas-fn", `{"replicas":2}`, 202, "", 2},
		{"negative", "/system/scale-function/hello-python", `{"replicas":-1}`, 400, "replicas must be an integer between 0 and 100, got -1", 2},
		{"absurd", "/system/scale-function/hello-python", `{"replicas":1000}`, 400, "between 0 and 100, got 1000", 2},
		{"fraction", "/system/scale-function/hello-python", `{"replicas":1.5}`, 400, "got 1.5", 2},
		{"string", "/system/scale-function/hello-python", `{"replicas":"3"}`, 400, `got "3"`, 2},
		{"missing", "/system/scale-function/hello-python", `{"serviceName":"hello-python"}`, 400, "got missing", 2},
		{"malformed", "/system/scale-function/hello-python", `{"replicas":`, 400, "malformed JSON", 2},
		{"absent", "/system/scale-function/nope", `{"replicas":1}`, 404, `function "nope" not found`, 2},
		{"namespace", "/system/scale-function/hello-python", `{"replicas":1,"namespace":"x"}`, 404, `namespace "x" not found`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.do(t, http.MethodPost, tc.path, tc.body)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("%d %q, want %d containing %q", code, out, tc.code, tc.want)
			}
			st, _ := h.rt.Status("hello-python")
			if st.Replicas != tc.replicas {
				t.Errorf("replicas %d, want %d", st.Replicas, tc.replicas)
			}
		})
	}
	if code, _ := h.do(t, http.MethodGet, "/system/scale-function/hello-python", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET scale: %d, want 405", code)
	}
}
