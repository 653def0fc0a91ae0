package e2e_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFaasCLI drives the real faas-cli against a running plugin: login,
// deploy -f stack.yml, list, describe, invoke (Python and Go), remove, and
// build --shrinkwrap, each asserted on its output.
func TestFaasCLI(t *testing.T) {
	dir := project(t)
	cli := newFaasCLI(t, dir)
	p := startPlatform(t, dir, false)
	gw := p.URL()

	t.Run("login with a wrong password fails", func(t *testing.T) {
		bad := newFaasCLI(t, dir)
		out, err := bad.run("not-the-password", "login", "-u", "admin", "--password-stdin", "-g", gw)
		if err == nil || strings.Contains(out, "credentials saved") {
			t.Fatalf("login with a wrong password succeeded:\n%s", out)
		}
	})

	cli.must(p.Password(), []string{"credentials saved for admin " + gw}, "login", "-u", "admin", "--password-stdin", "-g", gw)

	out := cli.must("", []string{
		"Deploying: hello-python.", "Deploying: echo-go.",
		"URL: " + gw + "/function/hello-python", "URL: " + gw + "/function/echo-go",
	}, "deploy", "-f", "stack.yml", "-g", gw)
	if n := strings.Count(out, "Deployed. 20"); n != 2 {
		t.Errorf("want 2 \"Deployed. 200/202\" lines, got %d", n)
	}
	waitAvailable(t, p, "hello-python", 1)
	waitAvailable(t, p, "echo-go", 1)

	t.Run("deploy of an image the plugin did not build is refused", func(t *testing.T) {
		// Outside the project: with ./stack.yml present faas-cli ignores --image.
		bare := *cli
		bare.t, bare.dir = t, t.TempDir()
		out, err := bare.run("", "deploy", "--image", "nope/unbuilt:1", "--name", "unbuilt", "--fprocess", "./handler", "-g", gw)
		if err == nil {
			t.Fatalf("deploy of an unknown image succeeded:\n%s", out)
		}
		if !strings.Contains(out, "400") || !strings.Contains(out, "nope/unbuilt") {
			t.Errorf("want a 400 naming the image:\n%s", out)
		}
	})

	t.Run("list", func(t *testing.T) {
		out := cli.must("", []string{"Function", "Invocations", "Replicas"}, "list", "-g", gw)
		for _, fn := range []string{"hello-python", "echo-go"} {
			if !regexp.MustCompile(`(?m)^` + fn + `\s+\d+\s+1\s*$`).MatchString(out) {
				t.Errorf("list: no row for %s with 1 replica:\n%s", fn, out)
			}
		}
		cli.must("", []string{"prescale/hello-python:latest", "prescale/echo-go:e2e", "CreatedAt"}, "list", "-v", "-g", gw)
	})

	t.Run("describe", func(t *testing.T) {
		out := cli.must("", nil, "describe", "hello-python", "-g", gw)
		for _, re := range []string{
			`Name:\s+hello-python`, `Status:\s+Ready`, `Replicas:\s+1`, `Available Replicas:\s+1`,
			`Image:\s+prescale/hello-python:latest`, `Function Process:\s+.*index\.py`,
			`URL:\s+` + regexp.QuoteMeta(gw) + `/function/hello-python`,
			`com\.openfaas\.scale\.max`, `cpu_ms`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("describe: output does not match %s:\n%s", re, out)
			}
		}
		out, err := cli.run("", "describe", "no-such-fn", "-g", gw)
		if err == nil || !strings.Contains(strings.ToLower(out), "no such function") {
			t.Errorf("describe of an unknown function: err=%v\n%s", err, out)
		}
	})

	t.Run("invoke hello-python", func(t *testing.T) {
		out := cli.must("prescale", nil, "invoke", "hello-python", "-g", gw)
		if strings.TrimSpace(out) != "Hello, prescale!" {
			t.Errorf("invoke hello-python = %q, want %q", out, "Hello, prescale!")
		}
	})

	t.Run("invoke echo-go", func(t *testing.T) {
		out := cli.must("ping", nil, "invoke", "echo-go", "--query", "a=1", "-g", gw)
		if strings.TrimSpace(out) != "echo-go POST ?a=1 body=ping" {
			t.Errorf("invoke echo-go = %q", out)
		}
		out, err := cli.run("x", "invoke", "no-such-fn", "-g", gw)
		if err == nil {
			t.Errorf("invoke of an unknown function succeeded:\n%s", out)
		}
	})

	t.Run("remove", func(t *testing.T) {
		cli.must("", []string{"Deleting: echo-go"}, "remove", "echo-go", "-g", gw)
		out := cli.must("", []string{"hello-python"}, "list", "-g", gw)
		if strings.Contains(out, "echo-go") {
			t.Errorf("echo-go still listed after remove:\n%s", out)
		}
		out, err := cli.run("", "remove", "echo-go", "-g", gw)
		if err == nil && !strings.Contains(out, "No existing function to remove") {
			t.Errorf("second remove: want \"No existing function to remove\" or a failure:\n%s", out)
		}
	})

	t.Run("build --shrinkwrap", func(t *testing.T) {
		cli.must("", []string{
			"hello-python shrink-wrapped to ./build/hello-python",
			"echo-go shrink-wrapped to ./build/echo-go",
		}, "build", "--shrinkwrap", "-f", "stack.yml")
		for _, f := range []string{"build/echo-go/main.go", "build/echo-go/function/handler.go", "build/hello-python/index.py", "build/hello-python/function/handler.py"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("shrinkwrap: %v", err)
			}
		}
	})
}
