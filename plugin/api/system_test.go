package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
)

func TestInfoAndNamespaces(t *testing.T) {
	h := newHarness(t)
	code, out := h.do(t, http.MethodGet, "/system/info", "")
	var info struct {
		Provider *types.ProviderInfo `json:"provider"`
		Version  *types.VersionInfo  `json:"version"`
		Arch     string              `json:"arch"`
	}
	if err := json.Unmarshal([]byte(out), &info); code != 200 || err != nil {
		t.Fatalf("info: %d %v %q", code, err, out)
	}
	if info.Provider == nil || info.Provider.Name != "prescale" || info.Provider.Orchestration != "process" ||
		info.Provider.Version == nil || info.Provider.Version.Release != "0.1.0-test" || info.Provider.Version.SHA != "abc123" {
		t.Errorf("provider = %+v", info.Provider)
	}
	if info.Version == nil || info.Version.Release != "0.1.0-test" || info.Arch == "" {
		t.Errorf("top-level version = %+v arch %q", info.Version, info.Arch)
	}

	code, out = h.doAuth(t, http.MethodGet, "/system/namespaces", "", false)
	if code != 200 || strings.TrimSpace(out) != `["openfaas-fn"]` {
		t.Errorf("namespaces (no auth): %d %q", code, out)
	}
	if code, _ := h.do(t, http.MethodGet, "/system/namespace/x", ""); code != http.StatusNotImplemented {
		t.Errorf("namespace mutation: %d, want 501", code)
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		if code, out := h.doAuth(t, m, "/healthz", "", false); code != 200 || (m == http.MethodGet && out != "OK") {
			t.Errorf("%s /healthz: %d %q", m, code, out)
		}
	}
}

func TestLogs(t *testing.T) {
	h := newHarness(t)
	h.deploy(t, "hello-python", ``)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.rt.logs = []logs.Message{
		{Name: "hello-python", Instance: "hello-python-0", Timestamp: ts, Text: "line 1"},
		{Name: "other", Instance: "other-0", Timestamp: ts, Text: "not mine"},
		{Name: "hello-python", Instance: "hello-python-1", Timestamp: ts, Text: "line 2"},
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/system/logs?name=hello-python&tail=10&follow=false&since=2025-01-01T00:00:00Z", nil)
	req.SetBasicAuth("admin", testPassword)
	res, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("logs: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var m logs.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("ndjson line %q: %v", sc.Text(), err)
		}
		if m.Namespace != Namespace || m.Name != "hello-python" {
			t.Errorf("message %+v", m)
		}
		got = append(got, m.Instance+":"+m.Text)
	}
	if strings.Join(got, ",") != "hello-python-0:line 1,hello-python-1:line 2" {
		t.Errorf("log lines %v", got)
	}

	tests := []struct {
		query string
		code  int
		want  string
	}{
		{"", 400, "function name is required"},
		{"name=nope", 404, `"nope" not found`},
		{"name=hello-python&tail=x", 400, `tail="x" must be an integer`},
		{"name=hello-python&follow=maybe", 400, "follow"},
		{"name=hello-python&since=yesterday", 400, "RFC 3339"},
		{"name=hello-python&namespace=dev", 404, `namespace "dev" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			code, out := h.do(t, http.MethodGet, "/system/logs?"+tc.query, "")
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("%d %q, want %d containing %q", code, out, tc.code, tc.want)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	h := newHarness(t)
	h.deploy(t, "hello-python", ``)
	protected := []struct{ method, path, body string }{
		{"GET", "/system/functions", ""},
		{"POST", "/system/functions", `{"service":"x","image":"prescale/hello-python:latest"}`},
		{"PUT", "/system/functions", `{"service":"hello-python","image":"prescale/hello-python:latest"}`},
		{"DELETE", "/system/functions", `{"functionName":"nope"}`},
		{"GET", "/system/function/hello-python", ""},
		{"POST", "/system/scale-function/hello-python", `{"replicas":1}`},
		{"GET", "/system/info", ""},
		{"GET", "/system/logs?name=hello-python", ""},
		{"GET", "/system/secrets", ""},
		{"POST", "/system/secrets", `{"name":"s1","value":"v"}`},
		{"PUT", "/system/secrets", `{"name":"s1","value":"v2"}`},
		{"DELETE", "/system/secrets", `{"name":"s1"}`},
	}
	for _, p := range protected {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			req, _ := http.NewRequest(p.method, h.srv.URL+p.path, strings.NewReader(p.body))
			req.SetBasicAuth("admin", "wrong")
			res, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != `Basic realm="Restricted"` {
				t.Errorf("wrong password: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			code, out := h.doAuth(t, p.method, p.path, p.body, false)
			if code != 401 || out != "invalid credentials" {
				t.Errorf("no credentials: %d %q, want 401 invalid credentials", code, out)
			}
			code, out = h.do(t, p.method, p.path, p.body)
			if code == 401 || code >= 500 {
				t.Errorf("with credentials: %d %q", code, out)
			}
			if p.method == "GET" && code != 200 {
				t.Errorf("with credentials: %d %q, want 200", code, out)
			}
		})
	}
	open := []string{"/healthz", "/system/namespaces", "/function/hello-python", "/metrics"}
	for _, p := range open {
		if code, out := h.doAuth(t, http.MethodGet, p, "", false); code != 200 {
			t.Errorf("open %s: %d %q", p, code, out)
		}
	}
}
