package fnutil_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/fnutil"
)

func TestChainKeys(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("secret_mount_path", dir)
	if _, err := fnutil.ChainKeys(); !errors.Is(err, chainauth.ErrNoKey) || !strings.Contains(err.Error(), chainauth.SecretName) {
		t.Fatalf("missing secret: %v", err)
	}
	write := func(v string) {
		if err := os.WriteFile(filepath.Join(dir, chainauth.SecretName), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("current-key-0123456789abcdef\nprevious-key-0123456789abcdef\n")
	if k, err := fnutil.ChainKeys(); err != nil || k.Len() != 2 {
		t.Fatalf("two keys: %d %v", k.Len(), err)
	}
	write("tiny")
	if _, err := fnutil.ChainKeys(); !errors.Is(err, chainauth.ErrBadKey) {
		t.Fatalf("short key: %v", err)
	}
}
