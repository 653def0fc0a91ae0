package runtime

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/prescale/prescale/internal/fsutil"
)

// runDirPrefix names a Manager's run directory under Config.BaseDir.
const runDirPrefix = "prescale-run-"

// runDirLock is the file a live Manager holds an exclusive flock on.
const runDirLock = ".owner.lock"

// createRunDir makes this Manager's run directory and locks it for the
// Manager's lifetime (the kernel drops the lock when the process dies,
// even by SIGKILL). Run directories under base that nobody holds are the
// leftovers of a Manager that died without Close, and are removed.
func createRunDir(base string, log *slog.Logger, runAs bool) (dir string, lock *os.File, err error) {
	sweepRunDirs(base, log)
	dir, err = os.MkdirTemp(base, runDirPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("runtime run dir: %w", err)
	}
	if runAs { // replicas of another user traverse it to their own dirs, and cannot list it
		if err := os.Chmod(dir, 0o711); err != nil {
			_ = os.RemoveAll(dir)
			return "", nil, fmt.Errorf("runtime run dir: %w", err)
		}
	}
	lock, err = lockRunDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, lock, nil
}

func lockRunDir(dir string) (*os.File, error) {
	f, err := fsutil.TryLock(filepath.Join(dir, runDirLock))
	if err != nil {
		return nil, fmt.Errorf("runtime run dir: %w", err)
	}
	return f, nil
}

// sweepRunDirs removes the run directories under base whose lock nobody
// holds. A directory without a lock file is left alone (it may be a Manager
// between MkdirTemp and its lock).
func sweepRunDirs(base string, log *slog.Logger) {
	ents, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), runDirPrefix) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		if _, err := os.Stat(filepath.Join(dir, runDirLock)); err != nil {
			continue
		}
		f, err := fsutil.TryLock(filepath.Join(dir, runDirLock))
		if err != nil {
			continue // a live Manager's
		}
		rerr := os.RemoveAll(dir)
		f.Close()
		if rerr != nil {
			log.Warn("removing a dead Manager's run dir", "dir", dir, "err", rerr)
			continue
		}
		log.Info("removed the run dir of a Manager that did not close", "dir", dir)
	}
}

// randomSuffix is 8 random hex digits.
func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}
