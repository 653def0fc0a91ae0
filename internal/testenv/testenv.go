package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root returns the repository root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "stack.yml")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("repository root (go.mod beside stack.yml) not found above the working directory")
		}
		dir = parent
	}
}

// Traces returns the repository's traces/ directory: the public Azure
// Functions trace files the tests, the demo, `make bench` and `make train`
// use, shipped with the project (traces/SOURCES.md attributes them).
func Traces(t testing.TB) string {
	t.Helper()
	d := filepath.Join(Root(t), "traces")
	if _, err := os.Stat(filepath.Join(d, "SOURCES.md")); err != nil {
		t.Fatalf("traces/ (shipped with the repository) is missing: %v", err)
	}
	return d
}

// Trace returns the path of a file in the repository's traces/.
func Trace(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Traces(t), name)
}

// Tool returns the path of a real tool: $PRESCALE_<NAME> if set, then
// <root>/bin/<name>, then $PATH.
func Tool(t testing.TB, name, envVar, how string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", envVar, p, err)
		}
		return p
	}
	if p := filepath.Join(Root(t), "bin", name); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missing(t, name, how)
	return ""
}

// FaasCLI is the real faas-cli built from tools/ by `make tools`.
func FaasCLI(t testing.TB) string {
	return Tool(t, "faas-cli", "PRESCALE_FAAS_CLI", "run `make tools`")
}

// Helm is the real helm v3.22.0 installed into bin/ by `make tools`.
func Helm(t testing.TB) string {
	return Tool(t, "helm", "PRESCALE_HELM", "run `make tools`")
}

// Hey is Debian's hey.
func Hey(t testing.TB) string {
	return Tool(t, "hey", "PRESCALE_HEY", "run `make deps` (apt-get install hey)")
}

// Prometheus is Debian's prometheus server.
func Prometheus(t testing.TB) string {
	return Tool(t, "prometheus", "PRESCALE_PROMETHEUS", "run `make deps` (apt-get install prometheus)")
}

func missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("PRESCALE_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is required but missing: %s", what, how)
	}
	t.Skipf("%s missing: %s", what, how)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Chrome is a headless-capable Chromium: $PRESCALE_CHROME, else Debian's
// chromium (installed by `make deps`) on $PATH.
func Chrome(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PRESCALE_CHROME"); p != "" {
		return Tool(t, "chromium", "PRESCALE_CHROME", "")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium", "run `make deps` (apt-get install chromium)")
	return ""
}

// ReachableTempDir is a temporary directory other users can reach (0755,
// under os.TempDir, removed when the test ends): t.TempDir's parents are
// 0700, so a replica running as another user could not enter it.
func ReachableTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "prescale-reachable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
