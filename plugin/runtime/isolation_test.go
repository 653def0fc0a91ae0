package runtime

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// get is a GET of the function's path, body returned.
func get(t *testing.T, gw, fn, path string) result {
	t.Helper()
	return do(client, "GET", gw+"/function/"+fn+path, "", nil)
}

// A replica's secrets are copies of the listed secrets only, in its own
// directory; a secret update reaches the running replica; a failed update
// leaves the replica and its secrets as they were.
func TestReplicaSecretsAreCopies(t *testing.T) {
	store := t.TempDir()
	for n, v := range map[string]string{"mine": "v1", "other": "not yours"} {
		if err := os.WriteFile(filepath.Join(store, n), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := newManager(t, nil)
	gw := gateway(t, m)
	s := httpSpec("sec", 1)
	s.SecretFiles = map[string]string{"mine": filepath.Join(store, "mine")}
	deploy(t, m, s)
	waitAvailable(t, m, "sec", 1)
	dir := get(t, gw.URL, "sec", "/env?k=secret_mount_path").body
	if dir == "" || strings.HasPrefix(dir, store) {
		t.Fatalf("secret_mount_path %q: want the replica's own directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 || ents[0].Name() != "mine" || ents[0].Type()&os.ModeSymlink != 0 {
		t.Fatalf("secrets dir holds %v (%v), want one regular file: mine", ents, err)
	}
	if r := get(t, gw.URL, "sec", "/read?path="+url.QueryEscape(filepath.Join(dir, "mine"))); r.body != "v1" {
		t.Fatalf("the replica reads %q, want v1", r.body)
	}
	pid := get(t, gw.URL, "sec", "/pid").body

	if err := os.WriteFile(filepath.Join(store, "mine"), []byte("v2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.RefreshSecret("mine", filepath.Join(store, "mine")); err != nil {
		t.Fatal(err)
	}
	if r := get(t, gw.URL, "sec", "/read?path="+url.QueryEscape(filepath.Join(dir, "mine"))); r.body != "v2" {
		t.Fatalf("after the update the replica reads %q, want v2", r.body)
	}

	bad := s
	bad.SecretFiles = map[string]string{"other": filepath.Join(store, "other")}
	bad.Command = nil
	if err := m.Update(t.Context(), bad); err == nil {
		t.Fatal("an update without a command was accepted")
	}
	if r := get(t, gw.URL, "sec", "/pid"); r.body != pid {
		t.Errorf("after the failed update the replica is %q, want the same process %s", r.body, pid)
	}
	if r := get(t, gw.URL, "sec", "/read?path="+url.QueryEscape(filepath.Join(dir, "mine"))); r.body != "v2" {
		t.Errorf("after the failed update the replica's secret reads %q, want v2", r.body)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); !os.IsNotExist(err) {
		t.Errorf("the failed update's secret reached the replica: %v", err)
	}
}

// With RunAs (the platform is root), a replica cannot read the platform's
// files (a 0600 password beside the store) nor list the run directory to
// find another replica's secrets, but reads its own.
func TestRunAsIsolatesReplicas(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("RunAs needs root: the runtime refuses it otherwise (TestConfigValidate)")
	}
	nobody, err := LookupUser("nobody")
	if err != nil {
		t.Fatal(err)
	}
	// Directories the unprivileged user may traverse: /tmp, then 0755.
	base := testenv.ReachableTempDir(t)
	data := filepath.Join(base, "data") // the platform's: 0700
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	password := filepath.Join(data, "basic-auth-password")
	if err := os.WriteFile(password, []byte("admin-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, func(c *Config) { c.RunAs, c.BaseDir = nobody, filepath.Join(base, "run") })
	gw := gateway(t, m)
	a := httpSpec("a", 1)
	a.SecretFiles = map[string]string{"key": password}
	deploy(t, m, a)
	deploy(t, m, httpSpec("b", 1))
	waitAvailable(t, m, "a", 1)
	waitAvailable(t, m, "b", 1)
	adir := get(t, gw.URL, "a", "/env?k=secret_mount_path").body
	if r := get(t, gw.URL, "a", "/read?path="+url.QueryEscape(filepath.Join(adir, "key"))); r.body != "admin-secret" {
		t.Fatalf("a reads its own secret as %q (%d)", r.body, r.code)
	}
	for what, path := range map[string]string{"the platform's password": password, "the run dir listing": m.runDir} {
		if r := get(t, gw.URL, "b", "/read?path="+url.QueryEscape(path)); r.code != 403 || strings.Contains(r.body, "admin-secret") {
			t.Errorf("b reading %s: %d %q, want refused", what, r.code, r.body)
		}
	}
	if r := get(t, gw.URL, "b", "/env?k=HOME"); !strings.HasPrefix(r.body, m.runDir) {
		t.Errorf("b's HOME is %q, want its own directory", r.body)
	}
}

// With RunAsPerFunction every function's replicas run as a uid of their
// own: one function cannot read another's secret copy even knowing its
// exact path, nor the platform's files; each reads its own.
func TestRunAsPerFunctionIsolatesFunctions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("per-function users need root")
	}
	base := testenv.ReachableTempDir(t)
	store := filepath.Join(base, "store")
	if err := os.Mkdir(store, 0o700); err != nil {
		t.Fatal(err)
	}
	for n, v := range map[string]string{"a-key": "secret of a", "b-key": "secret of b"} {
		if err := os.WriteFile(filepath.Join(store, n), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := newManager(t, func(c *Config) { c.RunAsPerFunction, c.BaseDir = true, filepath.Join(base, "run") })
	gw := gateway(t, m)
	a, b := httpSpec("a", 1), httpSpec("b", 1)
	a.SecretFiles = map[string]string{"a-key": filepath.Join(store, "a-key")}
	b.SecretFiles = map[string]string{"b-key": filepath.Join(store, "b-key")}
	deploy(t, m, a)
	deploy(t, m, b)
	waitAvailable(t, m, "a", 1)
	waitAvailable(t, m, "b", 1)
	aKey := filepath.Join(get(t, gw.URL, "a", "/env?k=secret_mount_path").body, "a-key")
	bKey := filepath.Join(get(t, gw.URL, "b", "/env?k=secret_mount_path").body, "b-key")
	if r := get(t, gw.URL, "a", "/read?path="+url.QueryEscape(aKey)); r.body != "secret of a" {
		t.Fatalf("a reads its own secret as %d %q", r.code, r.body)
	}
	if r := get(t, gw.URL, "b", "/read?path="+url.QueryEscape(bKey)); r.body != "secret of b" {
		t.Fatalf("b reads its own secret as %d %q", r.code, r.body)
	}
	for who, path := range map[string]string{"a": bKey, "b": aKey} {
		if r := get(t, gw.URL, who, "/read?path="+url.QueryEscape(path)); r.code != 403 || strings.Contains(r.body, "secret of") {
			t.Errorf("%s reading the other function's secret %s: %d %q, want refused", who, path, r.code, r.body)
		}
	}
	if r := get(t, gw.URL, "a", "/read?path="+url.QueryEscape(filepath.Join(store, "b-key"))); r.code != 403 {
		t.Errorf("a reading the platform's store: %d %q, want refused", r.code, r.body)
	}
	pa, pb := get(t, gw.URL, "a", "/pid").body, get(t, gw.URL, "b", "/pid").body
	if ua, ub := uidOf(t, pa), uidOf(t, pb); ua == ub || ua < PerFunctionUIDBase || ub < PerFunctionUIDBase {
		t.Errorf("uids %d and %d: want two distinct uids from %d", ua, ub, PerFunctionUIDBase)
	}
}

// uidOf is the real uid of process pid (/proc/<pid>/status).
func uidOf(t *testing.T, pid string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Uid:" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no Uid line for %s", pid)
	return -1
}
