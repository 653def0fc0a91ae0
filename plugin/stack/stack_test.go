package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `version: 1.0
provider:
  name: openfaas
  gateway: ${GW:-http://127.0.0.1:8080}
configuration:
  templates:
    - name: golang-http
  copy:
    - ./go.mod
    - ./pkg
functions:
  hello:
    lang: python3
    handler: ./functions/hello
    image: ${REGISTRY}/hello:${TAG:-latest}
    fprocess: python3 index.py
    environment:
      cpu_ms: 20
      debug: true
    environment_file:
      - env.yml
    secrets:
      - api-key
    labels:
      com.openfaas.scale.min: 1
    annotations:
      topic: cron-function
      schedule: "*/1 * * * *"
    limits:
      memory: 128Mi
      cpu: 500m
    requests:
      memory: 64Mi
    build_args:
      GO111MODULE: "on"
    tpyo: 1
  ext:
    skip_build: true
    image: ghcr.io/openfaas/figlet:latest
`

func TestParseGood(t *testing.T) {
	env := map[string]string{"REGISTRY": "ttl.sh"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	s, err := Parse([]byte(good), "stack.yml", Options{Lookup: lookup})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := s.Names(); strings.Join(got, ",") != "ext,hello" {
		t.Fatalf("Names = %v", got)
	}
	h := s.Functions["hello"]
	checks := []struct{ name, got, want string }{
		{"version", s.Version, "1.0"},
		{"gateway default", s.Provider.Gateway, "http://127.0.0.1:8080"},
		{"image envsubst", h.Image, "ttl.sh/hello:latest"},
		{"name", h.Name, "hello"},
		{"lang", h.Lang, "python3"},
		{"fprocess", h.FProcess, "python3 index.py"},
		{"env number", h.Environment["cpu_ms"], "20"},
		{"env bool", h.Environment["debug"], "true"},
		{"label number", h.Labels["com.openfaas.scale.min"], "1"},
		{"annotation", h.Annotations["schedule"], "*/1 * * * *"},
		{"limits", h.Limits.Memory + "/" + h.Limits.CPU, "128Mi/500m"},
		{"requests", h.Requests.Memory, "64Mi"},
		{"build arg", h.BuildArgs["GO111MODULE"], "on"},
		{"secret", strings.Join(h.Secrets, ","), "api-key"},
		{"copy", strings.Join(s.Configuration.Copy, ","), "./go.mod,./pkg"},
		{"template", s.Configuration.Templates[0].Name, "golang-http"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
	if !s.Functions["ext"].SkipBuild {
		t.Error("ext: skip_build not parsed")
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], `"tpyo"`) || !strings.Contains(s.Warnings[0], `function "hello"`) {
		t.Errorf("Warnings = %q, want one naming tpyo in function hello", s.Warnings)
	}
}

func TestParseErrors(t *testing.T) {
	base := "provider:\n  name: openfaas\nfunctions:\n  f:\n    lang: python3\n    handler: ./f\n    image: f:latest\n"
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"bad version", "version: 2.0\n" + base, []string{"x.yml", "version", `"2.0"`, `"1.0"`}},
		{"bad provider", strings.Replace(base, "openfaas", "faasd", 1), []string{"provider.name", `"faasd"`, `"openfaas"`}},
		{"no provider", "functions:\n  f:\n    image: x\n    skip_build: true\n", []string{"provider.name"}},
		{"no functions", "provider:\n  name: openfaas\n", []string{"no functions"}},
		{"no image", strings.Replace(base, "    image: f:latest\n", "", 1), []string{`function "f"`, "image: required"}},
		{"no lang", strings.Replace(base, "    lang: python3\n", "", 1), []string{`function "f"`, "lang: required"}},
		{"no handler", strings.Replace(base, "    handler: ./f\n", "", 1), []string{`function "f"`, "handler: required"}},
		{"bad name", strings.Replace(base, "  f:", "  F_1:", 1), []string{`function "F_1"`, "invalid name"}},
		{"bad secret", base + "    secrets: [\"Bad Name\"]\n", []string{`secrets[0]`}},
		{"copy outside", base + "configuration:\n  copy: [../x]\n", []string{"configuration.copy[0]", "outside"}},
		{"copy abs", base + "configuration:\n  copy: [/etc]\n", []string{"configuration.copy[0]", "relative"}},
		{"copy root", base + "configuration:\n  copy: [./]\n", []string{"configuration.copy[0]", "whole project"}},
		{"bad yaml", "provider: [\n", []string{"x.yml", "invalid YAML"}},
		{"wrong type", base + "    labels: [a, b]\n", []string{"x.yml", "line"}},
		{"empty", "", []string{"empty stack file"}},
		{"unterminated subst", base + "    environment: {a: ${OOPS}\n" + "x: ${NOPE\n", []string{"unterminated"}},
		{"bad subst", base + "    environment: {a: \"${A:?x}\"}\n", []string{"bad substitution"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "x.yml", Options{Lookup: func(string) (string, bool) { return "", false }})
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNoEnvsubst(t *testing.T) {
	src := "provider:\n  name: openfaas\nfunctions:\n  f:\n    image: x:${TAG}\n    skip_build: true\n"
	s, err := Parse([]byte(src), "", Options{NoEnvsubst: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Functions["f"].Image; got != "x:${TAG}" {
		t.Errorf("image = %q, want it unsubstituted", got)
	}
}

func TestLoadAndEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("env.yml", "environment:\n  a: from-file\n  b: from-file\n")
	write("stack.yml", "provider:\n  name: openfaas\nfunctions:\n  f:\n    lang: python3\n    handler: ./f\n    image: f\n    environment_file: [env.yml]\n    environment:\n      b: inline\n")
	s, err := Load(filepath.Join(dir, "stack.yml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != dir {
		t.Errorf("Dir = %q, want %q", s.Dir, dir)
	}
	if got := s.Path("./f"); got != filepath.Join(dir, "f") {
		t.Errorf("Path = %q", got)
	}
	env, err := s.Env("f")
	if err != nil {
		t.Fatal(err)
	}
	if env["a"] != "from-file" || env["b"] != "inline" {
		t.Errorf("Env = %v, want a from the file and b inline", env)
	}

	write("stack2.yml", "provider:\n  name: openfaas\nfunctions:\n  f:\n    lang: python3\n    handler: ./f\n    image: f\n    environment_file: [missing.yml]\n")
	s2, err := Load(filepath.Join(dir, "stack2.yml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Env("f"); err == nil || !strings.Contains(err.Error(), "environment_file[0]") {
		t.Errorf("Env with a missing file: %v, want an error naming environment_file[0]", err)
	}
	if _, err := Load(filepath.Join(dir, "nope.yml"), Options{}); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestLoadTemplate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "template.yml"), []byte("language: x\nfprocess: ./handler\nhandler_folder: src\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tm, err := LoadTemplate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tm.FProcess != "./handler" || tm.HandlerFolder != "src" {
		t.Errorf("template = %+v", tm)
	}
	if _, err := LoadTemplate(t.TempDir()); err == nil {
		t.Error("LoadTemplate of an empty dir succeeded")
	}
}

func TestRepoStack(t *testing.T) {
	// The repository's own stack.yml must parse.
	s, err := Load(filepath.Join("..", "..", "stack.yml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := s.Functions["hello-python"]
	if !ok || f.Lang != "python3" {
		t.Fatalf("hello-python = %+v, %v", f, ok)
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings: %v", s.Warnings)
	}
}
