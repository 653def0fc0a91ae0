package runtime

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
)

// client is the tests' HTTP client; its timeout is only a safety net.
var client = &http.Client{Timeout: safetyNet}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"relative base dir", func(c *Config) { c.BaseDir = "rel" }, "not absolute"},
		{"ready timeout too small", func(c *Config) { c.ReadyTimeout = time.Millisecond }, "ReadyTimeout 1ms out of range (allowed 100ms..10m0s)"},
		{"cold start wait too long", func(c *Config) { c.ColdStartWait = time.Hour }, "ColdStartWait 1h0m0s out of range"},
		{"negative grace", func(c *Config) { c.StopGrace = -time.Second }, "StopGrace -1s out of range"},
		{"backoff max below backoff", func(c *Config) { c.RestartBackoff = time.Second; c.RestartBackoffMax = time.Millisecond }, "RestartBackoffMax 1ms out of range (allowed 1s..10m0s)"},
		{"log lines", func(c *Config) { c.LogLines = -1 }, "LogLines -1 out of range (allowed 1..1000000)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{BaseDir: t.TempDir()}
			tc.mod(&cfg)
			m, err := New(cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				m.Close(context.Background())
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSpecValidateAndNotFound(t *testing.T) {
	m := newManager(t, nil)
	bad := []struct {
		name string
		mod  func(*Spec)
		want string
	}{
		{"empty name", func(s *Spec) { s.Name = "" }, "name is empty"},
		{"bad mode", func(s *Spec) { s.Mode = "docker" }, `mode "docker" unknown`},
		{"no command", func(s *Spec) { s.Command = nil }, "command is empty"},
		{"negative replicas", func(s *Spec) { s.Replicas = -1 }, "replicas -1 out of range"},
		{"negative timeout", func(s *Spec) { s.ExecTimeout = -time.Second }, "execTimeout -1s out of range"},
		{"bad env", func(s *Spec) { s.Env = map[string]string{"A=B": "x"} }, `env name "A=B" invalid`},
		{"missing dir", func(s *Spec) { s.Dir = "/nonexistent/dir" }, `dir "/nonexistent/dir" is not a directory`},
		{"missing program", func(s *Spec) { s.Command = []string{"./nope"} }, `command "./nope"`},
		{"program not on PATH", func(s *Spec) { s.Command = []string{"no-such-prog-xyz"} }, `not found on PATH`},
		{"fork arg with space", func(s *Spec) { s.Mode = ModeFork; s.Command = []string{"/bin/sh", "-c", "echo hi"} }, "contains whitespace"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			s := httpSpec("bad", 1)
			tc.mod(&s)
			err := m.Deploy(context.Background(), s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Deploy error = %v, want %q", err, tc.want)
			}
		})
	}
	ctx := context.Background()
	notFound := map[string]error{
		"Update": m.Update(ctx, httpSpec("nope", 1)),
		"Remove": m.Remove(ctx, "nope"),
		"Scale":  m.Scale(ctx, "nope", 1),
	}
	_, notFound["Status"] = m.Status("nope")
	_, notFound["Logs"] = m.Logs(ctx, logs.Request{Name: "nope"})
	_, notFound["Replicas"] = m.Replicas("nope")
	for op, err := range notFound {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on an absent function: %v, want ErrNotFound", op, err)
		}
	}
	if len(m.List()) != 0 {
		t.Errorf("List = %v, want empty", m.List())
	}
}
