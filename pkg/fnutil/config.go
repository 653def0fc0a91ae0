package fnutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prescale/prescale/pkg/faas"
)

// Settings file: the chart's prescale-settings Secret holds one key,
// settings.json, which OpenFaaS mounts at <secret_mount_path>/settings.json
// when a function lists the Secret (stack.yml `secrets: [prescale-settings]`,
// or `faas-cli deploy --secret prescale-settings`).
const (
	// EnvSettingsFile names another settings file; when set, the file must exist.
	EnvSettingsFile = "settings_file"
	// SettingsFileName is the settings file's name under the secrets directory.
	SettingsFileName = "settings.json"
	// DefaultSecretsDir is where OpenFaaS mounts a function's secrets (go-sdk's default).
	DefaultSecretsDir = "/var/openfaas/secrets"
)

// ErrSettingsFile wraps every error reading or decoding the settings file.
var ErrSettingsFile = errors.New("settings file")

// SettingsPath is the settings file getenv points at, and whether it must
// exist: $settings_file (must), else <$secret_mount_path or
// /var/openfaas/secrets>/settings.json (optional).
func SettingsPath(getenv func(string) string) (path string, required bool) {
	if p := strings.TrimSpace(getenv(EnvSettingsFile)); p != "" {
		return p, true
	}
	dir := strings.TrimSpace(getenv(EnvSecrets))
	if dir == "" {
		dir = DefaultSecretsDir
	}
	return filepath.Join(dir, SettingsFileName), false
}

// WithSettingsFile returns the lookup the functions read their configuration
// through: getenv's value when it is not blank, else the settings file's
// value for the same key (see SettingsPath). The file is one JSON object
// whose keys are the environment variables' names; a string value is used
// as it is, any other value (number, boolean, object) as its JSON text, and
// null as unset. A missing optional file means no file.
func WithSettingsFile(getenv func(string) string) (func(string) string, error) {
	path, required := SettingsPath(getenv)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
		return getenv, nil
	case err != nil:
		return nil, fmt.Errorf("%w %s (from $%s): %w", ErrSettingsFile, path, EnvSettingsFile, err)
	}
	file, err := decodeSettings(data)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrSettingsFile, path, err)
	}
	return func(key string) string {
		if v := getenv(key); strings.TrimSpace(v) != "" {
			return v
		}
		return file[key]
	}, nil
}

func decodeSettings(data []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("must be a JSON object of setting names to values: %w", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case string(v) == "null":
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = s
		default:
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = b.String()
		}
	}
	return out, nil
}

// LoadConfig runs a function's parseConfig on the process environment over
// the settings file (WithSettingsFile(os.Getenv)), with NATS_URL from the
// nats-url secret when the function has it (WithNATSSecret).
func LoadConfig[C any](parse func(getenv func(string) string) (C, error)) (C, error) {
	get, err := WithSettingsFile(os.Getenv)
	if err != nil {
		var zero C
		return zero, err
	}
	get, err = WithNATSSecret(get)
	if err != nil {
		var zero C
		return zero, err
	}
	return parse(get)
}

// NATSURLSecret is the secret holding the NATS URL with its credentials
// (the plugin's embedded server: nats://TOKEN@127.0.0.1:PORT; the chart:
// its NATS service). It is a secret so that the token is in no
// environment or function listing.
const NATSURLSecret = "nats-url"

// WithNATSSecret returns getenv with NATS_URL taken from the nats-url
// secret file under the secrets directory when it exists and is not
// empty (it wins over the environment's, which carries no credentials).
func WithNATSSecret(getenv func(string) string) (func(string) string, error) {
	dir := strings.TrimSpace(getenv(EnvSecrets))
	if dir == "" {
		dir = DefaultSecretsDir
	}
	b, err := os.ReadFile(filepath.Join(dir, NATSURLSecret))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return getenv, nil
	case err != nil:
		return nil, fmt.Errorf("secret %s: %w", NATSURLSecret, err)
	}
	u := strings.TrimSpace(string(b))
	if u == "" {
		return getenv, nil
	}
	return func(key string) string {
		if key == EnvNATS {
			return u
		}
		return getenv(key)
	}, nil
}

// MapEnv is a lookup over a map: what tests pass as getenv.
func MapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Platform is where a function finds the OpenFaaS gateway, NATS and its
// functions' namespace ($gateway_url, $NATS_URL, $namespace).
type Platform struct {
	Gateway   *url.URL
	NATS      string
	Namespace string // "": the provider's default
}

// DefaultPlatform: DefaultGateway, DefaultNATS, the default namespace.
func DefaultPlatform() Platform {
	return Platform{Gateway: DefaultGatewayURL(), NATS: DefaultNATS}
}

// Parse reads the platform's settings through v.
func (p *Platform) Parse(v *Vars) {
	v.URL(EnvGateway, &p.Gateway)
	v.String(EnvNATS, &p.NATS)
	v.String(EnvNS, &p.Namespace)
}

// Vars reads typed settings through a lookup (os.Getenv, WithSettingsFile's,
// or a map in tests). A setting that is unset or blank keeps the value its
// destination holds (the default); one that does not parse is recorded and
// reported by Err, each naming the key. Ranges are the caller's validate's.
type Vars struct {
	get  func(string) string
	errs []error
}

// NewVars reads settings through get.
func NewVars(get func(string) string) *Vars { return &Vars{get: get} }

// Lookup returns the setting's value, trimmed ("" when unset).
func (v *Vars) Lookup(key string) string { return strings.TrimSpace(v.get(key)) }

// String sets *dst to the setting when it is set.
func (v *Vars) String(key string, dst *string) {
	if s := v.Lookup(key); s != "" {
		*dst = s
	}
}

// Int sets *dst to the integer setting.
func (v *Vars) Int(key string, dst *int) {
	if s := v.Lookup(key); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			v.errs = append(v.errs, fmt.Errorf("%s=%q: must be an integer", key, s))
			return
		}
		*dst = n
	}
}

// Float sets *dst to the finite number setting.
func (v *Vars) Float(key string, dst *float64) {
	if s := v.Lookup(key); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			v.errs = append(v.errs, fmt.Errorf("%s=%q: must be a finite number", key, s))
			return
		}
		*dst = f
	}
}

// Bool sets *dst to the true/false setting.
func (v *Vars) Bool(key string, dst *bool) {
	if s := v.Lookup(key); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			v.errs = append(v.errs, fmt.Errorf("%s=%q: must be true or false", key, s))
			return
		}
		*dst = b
	}
}

// Duration sets *dst to the setting, a Go duration or integer seconds
// (faas.ParseDuration).
func (v *Vars) Duration(key string, dst *time.Duration) {
	if s := v.Lookup(key); s != "" {
		d, err := faas.ParseDuration(key, s)
		if err != nil {
			v.errs = append(v.errs, err)
			return
		}
		*dst = d
	}
}

// URL sets *dst to the setting, an absolute http(s) URL without a trailing slash.
func (v *Vars) URL(key string, dst **url.URL) {
	if s := v.Lookup(key); s != "" {
		u, err := ParseURL(key, s)
		if err != nil {
			v.errs = append(v.errs, err)
			return
		}
		*dst = u
	}
}

// JSON decodes the setting's JSON text into dst (unknown fields are errors).
func (v *Vars) JSON(key string, dst any) {
	if s := v.Lookup(key); s != "" {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			v.errs = append(v.errs, fmt.Errorf("%s: must be a JSON object: %w", key, err))
		}
	}
}

// Err is every parse error so far, joined (nil when none).
func (v *Vars) Err() error { return errors.Join(v.errs...) }

// ParseURL parses an absolute http(s) URL and drops a trailing slash.
func ParseURL(key, raw string) (*url.URL, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s=%q: must be an absolute http(s) URL", key, raw)
	}
	return u, nil
}

// IntIn says when n is outside lo..hi, naming key and the range.
func IntIn(key string, n, lo, hi int) error {
	if n < lo || n > hi {
		return fmt.Errorf("%s=%d: must be an integer in %d..%d", key, n, lo, hi)
	}
	return nil
}

// FloatIn says when f is outside [lo,hi], naming key and the range.
func FloatIn(key string, f, lo, hi float64) error {
	if !(f >= lo && f <= hi) {
		return fmt.Errorf("%s=%g: must be a number in [%g,%g]", key, f, lo, hi)
	}
	return nil
}

// DurationIn says when d is outside lo..hi, naming key and the range.
func DurationIn(key string, d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("%s=%s: must be a duration (e.g. 30s) or integer seconds in %s..%s", key, d, lo, hi)
	}
	return nil
}

// OneOf says when v is not one of allowed, naming key and the choices.
func OneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s=%q: must be %s", key, v, orList(allowed))
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return "(nothing)"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
