package secrets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Errors returned by Store; callers map them to HTTP status codes.
var (
	ErrNotFound = errors.New("secret not found")
	ErrExists   = errors.New("secret already exists")
	ErrInvalid  = errors.New("invalid secret")
)

// MaxNameLength bounds secret names (Kubernetes' limit for a secret name).
const MaxNameLength = 253

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9_.]*$`)

// ValidateName checks a secret name: 1..253 characters of [-a-zA-Z0-9_.],
// starting with a letter or digit (so never "." or ".." or a path).
func ValidateName(name string) error {
	if name == "" || len(name) > MaxNameLength || !nameRE.MatchString(name) {
		return fmt.Errorf("%w: name %q must be 1-%d characters of letters, digits, '-', '_' or '.', starting with a letter or digit",
			ErrInvalid, name, MaxNameLength)
	}
	return nil
}

// Store is a directory of secrets, one file each.
type Store struct {
	dir string
}

// Open creates dir (0700) if needed and returns a Store on it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("secrets dir: %w", err)
	}
	return &Store{dir: abs}, nil
}

// Dir is the absolute path of the secrets directory.
func (s *Store) Dir() string { return s.dir }

// List returns the names of every secret, sorted.
func (s *Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	names := []string{}
	for _, e := range entries {
		if e.Type().IsRegular() && ValidateName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Exists reports whether secret name exists.
func (s *Store) Exists(name string) bool {
	if ValidateName(name) != nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(s.dir, name))
	return err == nil && fi.Mode().IsRegular()
}

// Create adds a secret; ErrExists if it is already there.
func (s *Store) Create(name string, value []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if s.Exists(name) {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	return s.write(name, value)
}

// Update replaces a secret's value; ErrNotFound if it is absent.
func (s *Store) Update(name string, value []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if !s.Exists(name) {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return s.write(name, value)
}

// Put creates or replaces a secret.
func (s *Store) Put(name string, value []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	return s.write(name, value)
}

// Delete removes a secret; ErrNotFound if it is absent.
func (s *Store) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	return nil
}

// write replaces the file atomically with mode 0600.
func (s *Store) write(name string, value []byte) error {
	tmp, err := os.CreateTemp(s.dir, ".tmp-"+name+"-*")
	if err != nil {
		return fmt.Errorf("write secret %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write secret %s: %w", name, err)
	}
	if _, err := tmp.Write(value); err != nil {
		tmp.Close()
		return fmt.Errorf("write secret %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write secret %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("write secret %s: %w", name, err)
	}
	return nil
}

// Path is the file holding secret name (its value, as written by
// Create/Update); the runtime copies it into each replica that lists it.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name) }

// ReadTrimmed reads a file and trims surrounding whitespace, as faas-provider
// reads basic-auth files.
func ReadTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
