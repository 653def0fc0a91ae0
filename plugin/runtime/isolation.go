package runtime

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/prescale/prescale/internal/fsutil"
)

// replicaSecretsDir is the replica's secret_mount_path, under its own
// directory: copies of the secrets its spec lists, and nothing else.
func replicaSecretsDir(r *replica) string { return filepath.Join(r.dir, "secrets") }

// copySecrets fills the replica's secrets directory from s.SecretFiles:
// each secret is copied (not linked: the replica learns nothing of where
// the platform keeps its store), 0400, and with Config.RunAs the directory
// and files belong to that user.
func (m *Manager) copySecrets(r *replica, s Spec) (string, error) {
	dir := replicaSecretsDir(r)
	if err := os.MkdirAll(dir, 0o500|0o200); err != nil {
		return "", fmt.Errorf("replica secrets dir: %w", err)
	}
	u := m.replicaUser(r.fn)
	for name, src := range s.SecretFiles {
		if err := m.copySecret(dir, name, src, u); err != nil {
			return "", err
		}
	}
	if err := own(dir, u); err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o500)
}

// copySecret writes the secret name from src into dir atomically (a reader
// sees the old or the new value, never a part).
func (m *Manager) copySecret(dir, name, src string, u *User) error {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return fmt.Errorf("secret name %q: must be a plain file name", name)
	}
	if err := fsutil.CopyAtomic(src, filepath.Join(dir, name), 0o400, func(tmp string) error { return own(tmp, u) }); err != nil {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	return nil
}

// own gives path to u (no-op for nil).
func own(path string, u *User) error {
	if u == nil {
		return nil
	}
	if err := os.Lchown(path, int(u.Uid), int(u.Gid)); err != nil {
		return fmt.Errorf("give %s to uid %d: %w", path, u.Uid, err)
	}
	return nil
}

// PerFunctionUIDBase is the first uid (and gid) of Config.RunAsPerFunction:
// function k (in order of first deployment) runs as PerFunctionUIDBase+k,
// a uid no account uses.
const PerFunctionUIDBase = 1_100_000

// replicaUser is the user fn's replicas run as: nil (the platform's), the
// one Config.RunAs user, or with RunAsPerFunction a uid of fn's own, so
// that one function's processes can read neither another's secret copies
// nor signal its processes. m.mu need not be held: fn.uid is set once, at
// deploy.
func (m *Manager) replicaUser(fn *function) *User {
	switch {
	case m.cfg.RunAsPerFunction:
		return &User{Name: fmt.Sprintf("uid %d (%s)", fn.uid, fn.name), Uid: fn.uid, Gid: fn.uid}
	case m.cfg.RunAs != nil:
		return m.cfg.RunAs
	}
	return nil
}

// RefreshSecret re-copies secret name from src into every running replica
// whose spec lists it, so a `faas-cli secret update` reaches them as it
// reaches mounted secrets on OpenFaaS. Replicas of a function whose spec
// does not list it see nothing. It returns the first copy error.
func (m *Manager) RefreshSecret(name, src string) error {
	type target struct {
		dir string
		u   *User
	}
	m.mu.Lock()
	var dirs []target
	for _, fn := range m.fns {
		for _, r := range fn.replicas {
			if _, ok := r.spec.SecretFiles[name]; ok {
				dirs = append(dirs, target{replicaSecretsDir(r), m.replicaUser(fn)})
			}
		}
	}
	m.mu.Unlock()
	var first error
	for _, t := range dirs {
		d := t.dir
		if _, err := os.Stat(d); err != nil {
			continue // not started yet, or gone: it copies at start
		}
		if err := os.Chmod(d, 0o700); err != nil && first == nil {
			first = err
			continue
		}
		if err := m.copySecret(d, name, src, t.u); err != nil && first == nil {
			first = err
		}
		if err := os.Chmod(d, 0o500); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// otherCan reports whether a user who is neither owner nor group member
// can reach path with the permission bit want (0o1 execute, 0o4 read):
// every parent directory searchable by others, and path itself.
func otherCan(path string, want fs.FileMode) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&want == 0 {
		return false
	}
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		di, err := os.Stat(d)
		if err != nil || di.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// OthersCanReach reports whether a user who is neither owner nor group
// member can reach path: every directory above it searchable by others
// (path itself is not checked).
func OthersCanReach(path string) bool {
	parent := filepath.Dir(filepath.Clean(path))
	return parent == path || otherCan(parent, 0o001)
}

// runAsPath is PATH without the directories the replica user cannot search.
func runAsPath(path string) string {
	var keep []string
	for _, d := range filepath.SplitList(path) {
		if filepath.IsAbs(d) && otherCan(d, 0o001) {
			keep = append(keep, d)
		}
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// runAsCommand is argv with its program made one the replica user can run:
// an absolute program it cannot reach (e.g. an interpreter under /root) is
// looked up by name on runAsPath instead.
func runAsCommand(argv []string, path string) ([]string, error) {
	if len(argv) == 0 || !filepath.IsAbs(argv[0]) || otherCan(argv[0], 0o001) {
		return argv, nil
	}
	for _, d := range filepath.SplitList(runAsPath(path)) {
		if p := filepath.Join(d, filepath.Base(argv[0])); otherCan(p, 0o001) {
			return append([]string{p}, argv[1:]...), nil
		}
	}
	return nil, fmt.Errorf("%s cannot be run by the replica user, and no %s on a PATH it can search (%s)", argv[0], filepath.Base(argv[0]), runAsPath(path))
}
