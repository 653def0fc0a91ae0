package runtime

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	base, err := os.MkdirTemp("", "prescale-runas-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
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
