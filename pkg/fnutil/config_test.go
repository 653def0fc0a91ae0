package fnutil_test

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/pkg/fnutil"
)

// env is a getenv over a map: tests never touch the process environment.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// vars are one value of each kind Vars reads, preset to their defaults.
type vars struct {
	n, keep int
	f       float64
	b       bool
	d       time.Duration
	s       string
	u       *url.URL
	j       struct{ A int }
}

func (x *vars) read(v *fnutil.Vars) error {
	v.Int("n", &x.n)
	v.Float("f", &x.f)
	v.Bool("b", &x.b)
	v.Duration("d", &x.d)
	v.String("s", &x.s)
	v.URL("u", &x.u)
	v.JSON("j", &x.j)
	v.Int("unset", &x.keep)
	return v.Err()
}

func TestVars(t *testing.T) {
	x := vars{n: 1, keep: 3, f: 1, d: time.Second, s: "def", u: mustURL(t, "http://default")}
	err := x.read(fnutil.NewVars(env(map[string]string{
		"n": " 7 ", "f": "0.5", "b": "true", "d": "90", "s": "x", "u": "http://127.0.0.1:8080/", "j": `{"a":2}`,
	})))
	if err != nil {
		t.Fatal(err)
	}
	if x.n != 7 || x.f != 0.5 || !x.b || x.d != 90*time.Second || x.s != "x" || x.u.String() != "http://127.0.0.1:8080" || x.j.A != 2 || x.keep != 3 {
		t.Fatalf("read %+v", x)
	}

	err = x.read(fnutil.NewVars(env(map[string]string{
		"n": "seven", "f": "NaN", "b": "yes please", "d": "18446744074", "s": "y", "u": "gateway:8080", "j": `{"b":1}`,
	})))
	for _, want := range []string{`n="seven": must be an integer`, `f="NaN": must be a finite number`,
		`b="yes please": must be true or false`, `d="18446744074": too large`, `u="gateway:8080": must be an absolute http(s) URL`, `j: must be a JSON object`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v lack %q", err, want)
		}
	}
	if !errors.Is(err, faas.ErrDuration) {
		t.Errorf("%v does not wrap faas.ErrDuration", err)
	}
	if x.n != 7 || x.d != 90*time.Second || x.s != "y" {
		t.Errorf("a bad value replaced the previous one, or a good one was not read: %+v", x)
	}
}

func TestRangeChecks(t *testing.T) {
	if err := fnutil.IntIn("history_length", 0, 1, 100); err == nil || err.Error() != "history_length=0: must be an integer in 1..100" {
		t.Errorf("IntIn: %v", err)
	}
	if err := fnutil.FloatIn("probe_qps", -1, 0, 10); err == nil || !strings.Contains(err.Error(), "[0,10]") {
		t.Errorf("FloatIn: %v", err)
	}
	if err := fnutil.DurationIn("horizon", time.Hour+1, time.Second, time.Hour); err == nil || !strings.Contains(err.Error(), "1s..1h0m0s") {
		t.Errorf("DurationIn: %v", err)
	}
	if err := fnutil.OneOf("source", "kafka", "gateway", "prometheus", "probe"); err == nil || !strings.Contains(err.Error(), "gateway, prometheus or probe") {
		t.Errorf("OneOf: %v", err)
	}
	if fnutil.IntIn("k", 1, 1, 1) != nil || fnutil.FloatIn("k", 0, 0, 0) != nil || fnutil.DurationIn("k", 0, 0, 0) != nil || fnutil.OneOf("k", "a", "a") != nil {
		t.Error("a value on the bound refused")
	}
}

func TestSettingsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(fnutil.SettingsFileName, `{"NATS_URL":"nats://file:4222","source":"prometheus","history_length":120,
		"forecast_only":true,"function_defaults":{"max": 8},"metrics_label_suffix":null,"namespace":"from-file"}`)

	get, err := fnutil.WithSettingsFile(env(map[string]string{
		fnutil.EnvSecrets: dir, // where OpenFaaS mounts the prescale-settings Secret
		"source":          "probe",
		"namespace":       "  ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"NATS_URL":             "nats://file:4222", // from the file
		"source":               "probe",            // the environment overrides the file
		"namespace":            "from-file",        // a blank variable does not
		"history_length":       "120",              // a number's JSON text
		"forecast_only":        "true",
		"function_defaults":    `{"max":8}`, // an object's compact JSON
		"metrics_label_suffix": "",          // null: unset
		"unknown":              "",
	} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	// settings_file names another file, which must exist.
	other := write("other.json", `{"source":"gateway"}`)
	get, err = fnutil.WithSettingsFile(env(map[string]string{fnutil.EnvSettingsFile: other, fnutil.EnvSecrets: dir}))
	if err != nil || get("source") != "gateway" || get("NATS_URL") != "" {
		t.Fatalf("settings_file: %v, source %q NATS_URL %q", err, get("source"), get("NATS_URL"))
	}
	_, err = fnutil.WithSettingsFile(env(map[string]string{fnutil.EnvSettingsFile: filepath.Join(dir, "missing.json")}))
	if !errors.Is(err, fnutil.ErrSettingsFile) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("missing settings_file: %v", err)
	}
	// No file at the default place: the environment alone.
	get, err = fnutil.WithSettingsFile(env(map[string]string{fnutil.EnvSecrets: t.TempDir(), "source": "probe"}))
	if err != nil || get("source") != "probe" {
		t.Fatalf("no file: %v %q", err, get("source"))
	}
	// A malformed file is an error naming it.
	bad := write("bad.json", `["not", "an", "object"]`)
	if _, err := fnutil.WithSettingsFile(env(map[string]string{fnutil.EnvSettingsFile: bad})); !errors.Is(err, fnutil.ErrSettingsFile) || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("malformed file: %v", err)
	}
	if p, required := fnutil.SettingsPath(env(nil)); p != "/var/openfaas/secrets/settings.json" || required {
		t.Fatalf("default path %q required %v", p, required)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The nats-url secret (the URL with its token) wins over NATS_URL from the
// environment, which carries no credentials; an empty or absent secret
// leaves the environment's.
func TestNATSURLSecret(t *testing.T) {
	dir := t.TempDir()
	env := fnutil.MapEnv(map[string]string{"secret_mount_path": dir, "NATS_URL": "nats://127.0.0.1:4222", "other": "x"})
	get, err := fnutil.WithNATSSecret(env)
	if err != nil || get("NATS_URL") != "nats://127.0.0.1:4222" {
		t.Fatalf("no secret: %v, NATS_URL %q", err, get("NATS_URL"))
	}
	if err := os.WriteFile(filepath.Join(dir, fnutil.NATSURLSecret), []byte("nats://tok@127.0.0.1:4222\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	get, err = fnutil.WithNATSSecret(env)
	if err != nil || get("NATS_URL") != "nats://tok@127.0.0.1:4222" || get("other") != "x" {
		t.Fatalf("with the secret: %v, NATS_URL %q, other %q", err, get("NATS_URL"), get("other"))
	}
}
