package runtime

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prescale/prescale/internal/clock"
)

// Config configures a Manager. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// BaseDir holds one run directory per Manager and, under it, a TMPDIR per
	// replica (so the watchdog lock file $TMPDIR/.lock never collides).
	// Default: os.TempDir().
	BaseDir string
	// WatchdogCommand is the argv that starts the fork-mode watchdog, e.g.
	// [os.Args[0], "watchdog"]. Default: [this executable, "watchdog"].
	WatchdogCommand []string
	// ReadyTimeout is how long a new process may take to pass its readiness
	// check before it is killed and restarted (default 30s; 100ms..10m).
	ReadyTimeout time.Duration
	// ColdStartWait is the longest a request waits for a replica slot (no
	// replica ready, or all busy at MaxInflight) before a 503 (default 30s; 10ms..10m).
	ColdStartWait time.Duration
	// StopGrace bounds a replica's stop: routing stops at once, in-flight
	// requests drain, SIGTERM, and SIGKILL once StopGrace has passed since the
	// stop began (default 10s, also when 0; up to 10m).
	StopGrace time.Duration
	// RestartBackoff is the first delay before restarting a crashed replica; it
	// doubles per consecutive failure up to RestartBackoffMax (defaults 200ms
	// and 10s; 1ms..1m and RestartBackoff..10m). The backoff resets after a
	// replica has been ready for RestartBackoffMax.
	RestartBackoff    time.Duration
	RestartBackoffMax time.Duration
	// ProbeInterval is the readiness poll period (default 20ms; 1ms..5s).
	ProbeInterval time.Duration
	// LogLines is how many log lines are kept per function (default 1000; 1..1000000).
	LogLines int
	// DisableScaleFromZero turns off OpenFaaS's scale_from_zero: by default a
	// request to a function with 0 desired replicas scales it to
	// max(1, com.openfaas.scale.min) and waits for a ready replica.
	DisableScaleFromZero bool
	// StartupSeed seeds the draws of Spec.StartupDist (one source per
	// Manager, so the n-th replica start of a run gets the same delay in
	// every run with the same seed and order of starts). Default 0.
	StartupSeed uint64
	// Logger receives the manager's log lines (default: discard).
	Logger *slog.Logger
	// Clock is the time of every timeout, delay and timestamp of the runtime
	// (ReadyTimeout, ColdStartWait, StopGrace, the restart backoff,
	// Spec.StartupDelay, upstream deadlines, log and status times). I/O
	// pacing (ProbeInterval, dial and probe timeouts) stays on real time.
	// Default: the wall clock; tests give a clock.Fake.
	Clock clock.Clock
	// MaxQueued bounds the requests of one function waiting for a replica
	// slot (during a cold start, or with every slot busy); one more gets
	// 429 with Retry-After. Default 1000; 1..1000000.
	MaxQueued int
	// RunAs, when set, runs every replica process as that user (the
	// platform must be root): its directory, TMPDIR (also its HOME) and
	// secret copies belong to it, and it cannot read what only the
	// platform's user may (the data directory's credentials and secret
	// store). Nil: replicas run as the platform's user.
	RunAs *User
	// RunAsPerFunction (root only) runs each function's replicas as a uid
	// of its own (PerFunctionUIDBase + k), instead of RunAs: functions can
	// then read neither each other's secret copies nor signal each other.
	RunAsPerFunction bool

	// onTransition, when set, sees every replica state transition (tests).
	// It is called under Manager.mu and must not call the Manager.
	onTransition func(transitionRecord)
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		BaseDir:           os.TempDir(),
		ReadyTimeout:      30 * time.Second,
		ColdStartWait:     30 * time.Second,
		StopGrace:         10 * time.Second,
		RestartBackoff:    200 * time.Millisecond,
		RestartBackoffMax: 10 * time.Second,
		ProbeInterval:     20 * time.Millisecond,
		LogLines:          1000,
		MaxQueued:         1000,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock:             clock.Real(),
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.BaseDir == "" {
		c.BaseDir = d.BaseDir
	}
	if len(c.WatchdogCommand) == 0 {
		if exe, err := os.Executable(); err == nil {
			c.WatchdogCommand = []string{exe, "watchdog"}
		}
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = d.ReadyTimeout
	}
	if c.ColdStartWait == 0 {
		c.ColdStartWait = d.ColdStartWait
	}
	if c.StopGrace == 0 {
		c.StopGrace = d.StopGrace
	}
	if c.RestartBackoff == 0 {
		c.RestartBackoff = d.RestartBackoff
	}
	if c.RestartBackoffMax == 0 {
		c.RestartBackoffMax = d.RestartBackoffMax
		if c.RestartBackoffMax < c.RestartBackoff {
			c.RestartBackoffMax = c.RestartBackoff
		}
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = d.ProbeInterval
	}
	if c.MaxQueued == 0 {
		c.MaxQueued = d.MaxQueued
	}
	if c.LogLines == 0 {
		c.LogLines = d.LogLines
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.Clock == nil {
		c.Clock = d.Clock
	}
	return c
}

// Validate states every value out of its allowed range.
func (c Config) Validate() error {
	var errs []error
	rng := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s %s out of range (allowed %s..%s)", name, v, lo, hi))
		}
	}
	if c.BaseDir == "" {
		errs = append(errs, errors.New("BaseDir is empty (allowed: a writable directory)"))
	} else if !filepath.IsAbs(c.BaseDir) {
		errs = append(errs, fmt.Errorf("BaseDir %q is not absolute (allowed: an absolute path)", c.BaseDir))
	}
	if len(c.WatchdogCommand) == 0 || c.WatchdogCommand[0] == "" {
		errs = append(errs, errors.New("WatchdogCommand is empty (allowed: the argv of `prescale watchdog`)"))
	}
	rng("ReadyTimeout", c.ReadyTimeout, 100*time.Millisecond, 10*time.Minute)
	rng("ColdStartWait", c.ColdStartWait, 10*time.Millisecond, 10*time.Minute)
	rng("StopGrace", c.StopGrace, 0, 10*time.Minute)
	rng("RestartBackoff", c.RestartBackoff, time.Millisecond, time.Minute)
	rng("RestartBackoffMax", c.RestartBackoffMax, c.RestartBackoff, 10*time.Minute)
	rng("ProbeInterval", c.ProbeInterval, time.Millisecond, 5*time.Second)
	if c.RunAsPerFunction && os.Geteuid() != 0 {
		errs = append(errs, fmt.Errorf("RunAsPerFunction: the platform must run as root to start replicas as other users (it runs as uid %d)", os.Geteuid()))
	}
	if c.RunAs != nil && os.Geteuid() != 0 {
		errs = append(errs, fmt.Errorf("RunAs uid %d: the platform must run as root to start replicas as another user (it runs as uid %d)", c.RunAs.Uid, os.Geteuid()))
	}
	if c.RunAs != nil && c.RunAs.Uid == 0 {
		errs = append(errs, errors.New("RunAs uid 0: must be an unprivileged user (e.g. nobody)"))
	}
	if c.MaxQueued < 1 || c.MaxQueued > 1000000 {
		errs = append(errs, fmt.Errorf("MaxQueued %d out of range (allowed 1..1000000)", c.MaxQueued))
	}
	if c.LogLines < 1 || c.LogLines > 1000000 {
		errs = append(errs, fmt.Errorf("LogLines %d out of range (allowed 1..1000000)", c.LogLines))
	}
	return errors.Join(errs...)
}

// User is the identity replicas run as (Config.RunAs).
type User struct {
	Name     string
	Uid, Gid uint32
}

// LookupUser resolves a user name or numeric uid (e.g. "nobody", "65534")
// for Config.RunAs.
func LookupUser(name string) (*User, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if u, err = user.LookupId(name); err != nil {
			return nil, fmt.Errorf("run-as user %q: no such user name or uid: %w", name, err)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("run-as user %q: uid %q / gid %q are not numeric", name, u.Uid, u.Gid)
	}
	return &User{Name: u.Username, Uid: uint32(uid), Gid: uint32(gid)}, nil
}
