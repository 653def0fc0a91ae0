package watchdog

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prescale/prescale/pkg/faas"
)

// Config is the watchdog's configuration. ConfigFromEnv fills it from the
// classic watchdog's environment variables.
type Config struct {
	// Bind is the listen address without the port (default 127.0.0.1).
	Bind string
	// Port is the listen port (env port, default 8080; 0 picks a free one).
	Port int
	// FProcess is the function's argv (env fprocess, split on spaces).
	FProcess []string
	// ReadTimeout and WriteTimeout bound reading the request and writing the
	// response (default 30s); WriteTimeout also bounds the drain on shutdown.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// ExecTimeout kills a child that runs longer (0 = off, the default).
	ExecTimeout time.Duration
	// HealthcheckInterval is how long the watchdog keeps serving after the
	// shutdown signal, unhealthy, before it stops accepting (default 0).
	HealthcheckInterval time.Duration
	// MaxInflight bounds concurrent children; 0 = unbounded.
	MaxInflight int
	// MaxOutput bounds a child's captured output (stdout, plus stderr when
	// combined) in bytes (env max_output, default DefaultMaxOutput). A child
	// that writes more is killed and the request answered 500 saying so.
	MaxOutput int64
	// MaxInput bounds a request body in bytes (env max_input, default
	// DefaultMaxInput, the same range as max_output); a larger one is
	// answered 413 without starting a child. Behind the plugin's gateway
	// its --body-limit applies first.
	MaxInput int64
	// CGIHeaders injects Http_* variables into the child's environment (default true).
	CGIHeaders bool
	// CombineOutput appends stderr to the response (default true); otherwise
	// stderr goes to the watchdog's log.
	CombineOutput bool
	// ContentType overrides the response Content-Type.
	ContentType string
	// MarshalRequest sends {"header":{...},"body":{"raw":base64}} on stdin.
	MarshalRequest bool
	// SuppressLock skips the lock file; /_/health is then OK while accepting.
	SuppressLock bool
	// LockDir is where .lock is written (default os.TempDir(), i.e. $TMPDIR).
	LockDir string
	// WriteDebug logs each child's output.
	WriteDebug bool
	// Logger receives the watchdog's log lines (default: discard).
	Logger *slog.Logger
}

// Defaults returns the default configuration (with no fprocess).
func Defaults() Config {
	return Config{
		Bind:          "127.0.0.1",
		Port:          8080,
		ReadTimeout:   30 * time.Second,
		WriteTimeout:  30 * time.Second,
		CGIHeaders:    true,
		CombineOutput: true,
		MaxOutput:     DefaultMaxOutput,
		MaxInput:      DefaultMaxInput,
	}
}

// Output and input bounds (max_output, max_input).
const (
	// DefaultMaxOutput is 16 MiB: twice the gateway's default body limit,
	// far above a function's answer, while a child that loops printing
	// cannot grow the watchdog's memory without bound (the classic
	// watchdog buffers all of it).
	DefaultMaxOutput = 16 << 20
	// DefaultMaxInput is 16 MiB too: twice the gateway's default body limit.
	DefaultMaxInput = 16 << 20
	MinMaxOutput    = 1 << 10
	MaxMaxOutput    = 1 << 30
)

// ConfigFromEnv reads the classic watchdog's environment: fprocess (or
// function_process), port, bind, read_timeout, write_timeout, exec_timeout,
// healthcheck_interval (an integer means seconds, otherwise a Go duration),
// max_inflight, max_output, max_input, cgi_headers, combine_output, content_type, marshal_request,
// suppress_lock, write_debug. The result is validated.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Defaults()
	var errs []error
	fp := getenv("fprocess")
	if fp == "" {
		fp = getenv("function_process")
	}
	c.FProcess = strings.Fields(fp)
	if v := getenv("bind"); v != "" {
		c.Bind = v
	}
	if v := getenv("port"); v != "" {
		p, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("port %q: not an integer (allowed 0..65535)", v))
		}
		c.Port = p
	}
	durs := []struct {
		key string
		dst *time.Duration
	}{
		{"read_timeout", &c.ReadTimeout},
		{"write_timeout", &c.WriteTimeout},
		{"exec_timeout", &c.ExecTimeout},
		{"healthcheck_interval", &c.HealthcheckInterval},
	}
	for _, d := range durs {
		if v := getenv(d.key); v != "" {
			dur, err := faas.ParseDuration(d.key, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			*d.dst = dur
		}
	}
	if v := getenv("max_inflight"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("max_inflight %q: not an integer (allowed 0..1000000)", v))
		}
		c.MaxInflight = n
	}
	for _, b := range []struct {
		key string
		dst *int64
	}{{"max_output", &c.MaxOutput}, {"max_input", &c.MaxInput}} {
		v := getenv(b.key)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: not an integer number of bytes (allowed %d..%d)", b.key, v, MinMaxOutput, MaxMaxOutput))
		}
		*b.dst = n
	}
	bools := []struct {
		key string
		dst *bool
	}{
		{"cgi_headers", &c.CGIHeaders},
		{"combine_output", &c.CombineOutput},
		{"marshal_request", &c.MarshalRequest},
		{"suppress_lock", &c.SuppressLock},
		{"write_debug", &c.WriteDebug},
	}
	for _, b := range bools {
		if v := getenv(b.key); v != "" {
			x, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q: not a boolean (allowed true or false)", b.key, v))
				continue
			}
			*b.dst = x
		}
	}
	c.ContentType = getenv("content_type")
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks the configuration and says which value is out of range.
func (c Config) Validate() error {
	var errs []error
	if len(c.FProcess) == 0 {
		errs = append(errs, errors.New("fprocess is empty: set it to the function's command, e.g. \"python3 index.py\""))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range (allowed 0..65535)", c.Port))
	}
	if c.ReadTimeout <= 0 || c.ReadTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("read_timeout %s out of range (allowed >0 up to 24h)", c.ReadTimeout))
	}
	if c.WriteTimeout <= 0 || c.WriteTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("write_timeout %s out of range (allowed >0 up to 24h)", c.WriteTimeout))
	}
	if c.ExecTimeout < 0 || c.ExecTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("exec_timeout %s out of range (allowed 0 = off, up to 24h)", c.ExecTimeout))
	}
	if c.HealthcheckInterval < 0 || c.HealthcheckInterval > time.Hour {
		errs = append(errs, fmt.Errorf("healthcheck_interval %s out of range (allowed 0..1h)", c.HealthcheckInterval))
	}
	if c.MaxInput < MinMaxOutput || c.MaxInput > MaxMaxOutput {
		errs = append(errs, fmt.Errorf("max_input %d out of range (allowed %d..%d bytes)", c.MaxInput, MinMaxOutput, MaxMaxOutput))
	}
	if c.MaxOutput < MinMaxOutput || c.MaxOutput > MaxMaxOutput {
		errs = append(errs, fmt.Errorf("max_output %d out of range (allowed %d..%d bytes)", c.MaxOutput, MinMaxOutput, MaxMaxOutput))
	}
	if c.MaxInflight < 0 || c.MaxInflight > 1000000 {
		errs = append(errs, fmt.Errorf("max_inflight %d out of range (allowed 0 = unbounded, up to 1000000)", c.MaxInflight))
	}
	return errors.Join(errs...)
}

func (c *Config) lockPath() string {
	dir := c.LockDir
	if dir == "" {
		dir = os.TempDir()
	}
	return dir + string(os.PathSeparator) + ".lock"
}
