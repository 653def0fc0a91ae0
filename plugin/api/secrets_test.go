package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openfaas/faas-provider/types"
)

func TestSecrets(t *testing.T) {
	h := newHarness(t)
	steps := []struct {
		name, method, body string
		code               int
		want               string
	}{
		{"create", "POST", `{"name":"db-password","value":"v1"}`, 201, ""},
		{"create raw", "POST", `{"name":"raw","rawValue":"AAEC"}`, 201, ""},
		{"duplicate", "POST", `{"name":"db-password","value":"v1"}`, 409, "secret already exists"},
		{"bad name", "POST", `{"name":"../etc","value":"x"}`, 400, `name "../etc" must be 1-253 characters`},
		{"empty name", "POST", `{"value":"x"}`, 400, "must be 1-253"},
		{"malformed", "POST", `{"name":`, 400, "malformed JSON"},
		{"other namespace", "POST", `{"name":"a","namespace":"x","value":"x"}`, 404, `namespace "x" not found`},
		{"managed", "PUT", `{"name":"basic-auth-password","value":"x"}`, 403, "managed by the plugin"},
		{"update", "PUT", `{"name":"db-password","value":"v2"}`, 202, ""},
		{"update absent", "PUT", `{"name":"nope","value":"v2"}`, 404, "secret not found"},
		{"delete absent", "DELETE", `{"name":"nope"}`, 404, "secret not found"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out := h.do(t, s.method, "/system/secrets", s.body)
			if code != s.code || !strings.Contains(out, s.want) {
				t.Errorf("%d %q, want %d containing %q", code, out, s.code, s.want)
			}
		})
	}
	path := filepath.Join(h.store.Dir(), "db-password")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v mode %v, want 0600", err, fi)
	}
	if b, _ := os.ReadFile(path); string(b) != "v2" {
		t.Errorf("secret value %q, want v2", b)
	}
	if b, _ := os.ReadFile(filepath.Join(h.store.Dir(), "raw")); string(b) != "\x00\x01\x02" {
		t.Errorf("raw secret value %q", b)
	}
	code, out := h.do(t, http.MethodGet, "/system/secrets", "")
	var list []types.Secret
	if err := json.Unmarshal([]byte(out), &list); code != 200 || err != nil {
		t.Fatalf("list: %d %v %q", code, err, out)
	}
	if len(list) != 2 || list[0].Name != "db-password" || list[1].Name != "raw" || list[0].Value != "" || list[0].Namespace != Namespace {
		t.Errorf("list = %+v", list)
	}
	if code, _ := h.do(t, http.MethodDelete, "/system/secrets", `{"name":"raw"}`); code != 202 {
		t.Errorf("delete: %d", code)
	}
	if _, err := os.Stat(filepath.Join(h.store.Dir(), "raw")); !os.IsNotExist(err) {
		t.Errorf("deleted secret still on disk: %v", err)
	}
}

// The chain key can be created and rotated through the API (faas-cli
// secret update), but only with a value the functions can use.
func TestChainKeySecretValidated(t *testing.T) {
	h := newHarness(t)
	for _, s := range []struct {
		name, method, body string
		code               int
		want               string
	}{
		{"too short", "POST", `{"name":"prescale-chain-key","value":"short"}`, 400, "must have 16..4096"},
		{"create", "POST", `{"name":"prescale-chain-key","value":"0123456789abcdef0123"}`, 201, ""},
		{"rotate", "PUT", `{"name":"prescale-chain-key","value":"new-key-0123456789abcdef\nold-key-0123456789abcdef"}`, 202, ""},
		{"three keys", "PUT", `{"name":"prescale-chain-key","value":"a-key-0123456789abcdef\nb-key-0123456789abcdef\nc-key-0123456789abcdef"}`, 400, "at most 2"},
		{"empty", "PUT", `{"name":"prescale-chain-key","value":""}`, 400, "is empty"},
	} {
		t.Run(s.name, func(t *testing.T) {
			code, out := h.do(t, s.method, "/system/secrets", s.body)
			if code != s.code || !strings.Contains(out, s.want) {
				t.Errorf("%d %q, want %d containing %q", code, out, s.code, s.want)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(h.store.Dir(), "prescale-chain-key")); !strings.HasPrefix(string(b), "new-key-") {
		t.Errorf("stored chain key %q, want the rotated one", b)
	}
}
