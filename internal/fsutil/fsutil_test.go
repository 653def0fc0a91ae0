package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	f, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := TryLock(path); !errors.Is(err, ErrLocked) {
		if g != nil {
			g.Close()
		}
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	f.Close()
	g, err := TryLock(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	g.Close()
}

func TestCopyAtomic(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.WriteFile(src, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	refuse := errors.New("no")
	if err := CopyAtomic(src, dst, 0o400, func(string) error { return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("a failing prepare: %v", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "old" {
		t.Fatalf("after a failed copy dst reads %q, want old", b)
	}
	if err := CopyAtomic(src, dst, 0o400, nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	if b, _ := os.ReadFile(dst); string(b) != "new" || err != nil || fi.Mode().Perm() != 0o400 {
		t.Fatalf("dst %q mode %v (%v), want new 0400", b, fi.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("%d files left, want src and dst only", len(ents))
	}
}
