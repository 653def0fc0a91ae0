package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"basic-auth-password", true},
		{"a.b_c-1", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/b", false},
		{"-x", false},
		{string(make([]byte, MaxNameLength+1)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create("db", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create("db", []byte("v1")); !errors.Is(err, ErrExists) {
		t.Errorf("second Create: %v, want ErrExists", err)
	}
	if err := s.Update("nope", []byte("x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update absent: %v, want ErrNotFound", err)
	}
	if err := s.Create("api", []byte("k")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), "db"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode: %v %v, want 0600", fi, err)
	}
	names, err := s.List()
	if err != nil || len(names) != 2 || names[0] != "api" || names[1] != "db" {
		t.Fatalf("List = %v %v", names, err)
	}

	if err := s.Update("db", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(s.Path("db")); err != nil || string(b) != "v2" {
		t.Errorf("Path(db) reads %q %v, want the updated v2", b, err)
	}
	if err := s.Delete("db"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("db"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

func TestEnsureCredentials(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	c1, err := EnsureCredentials(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if !c1.Created || c1.User != AdminUser || len(c1.Password) != 40 {
		t.Fatalf("first: %+v", c1)
	}
	// A loosened mode is repaired; the password is kept.
	if err := os.Chmod(c1.PasswordFile, 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := EnsureCredentials(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Created || c2.Password != c1.Password {
		t.Fatalf("second: created=%v same=%v", c2.Created, c2.Password == c1.Password)
	}
	fi, _ := os.Stat(c1.PasswordFile)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(filepath.Join(s.Dir(), PasswordFile)); string(b) != c1.Password {
		t.Errorf("secret %s does not hold the password", PasswordFile)
	}
	// Whitespace around a hand-edited password is trimmed, as faas-provider does.
	if err := os.WriteFile(c1.PasswordFile, []byte("  pw-x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c3, err := EnsureCredentials(dir, s)
	if err != nil || c3.Password != "pw-x" {
		t.Errorf("trimmed: %q %v", c3.Password, err)
	}
}

// The chain key is created once, random, and kept across restarts (also a
// rotated two-line one); a broken one is an error naming the secret.
func TestEnsureChainKey(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	created, err := EnsureChainKey(s)
	if err != nil || !created {
		t.Fatalf("first start: %v %v", created, err)
	}
	first, _ := ReadTrimmed(filepath.Join(s.Dir(), ChainKey))
	if len(first) != 64 {
		t.Fatalf("key %d characters, want 64 hex digits", len(first))
	}
	if created, err := EnsureChainKey(s); err != nil || created {
		t.Fatalf("second start: %v %v", created, err)
	}
	if again, _ := ReadTrimmed(filepath.Join(s.Dir(), ChainKey)); again != first {
		t.Fatal("the key changed on a restart")
	}
	other, _ := Open(t.TempDir())
	if _, err := EnsureChainKey(other); err != nil {
		t.Fatal(err)
	}
	if k, _ := ReadTrimmed(filepath.Join(other.Dir(), ChainKey)); k == first {
		t.Fatal("two platforms got the same key")
	}
	rotated := first + "\n0123456789abcdef0123456789abcdef\n"
	if err := s.Update(ChainKey, []byte(rotated)); err != nil {
		t.Fatal(err)
	}
	if created, err := EnsureChainKey(s); err != nil || created {
		t.Fatalf("rotated key: %v %v", created, err)
	}
	if err := s.Update(ChainKey, []byte("short")); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureChainKey(s); err == nil || !strings.Contains(err.Error(), ChainKey) {
		t.Fatalf("a 5-byte key: %v", err)
	}
}
