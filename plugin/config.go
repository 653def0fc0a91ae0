package plugin

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/prescale/prescale/plugin/api"
	"github.com/prescale/prescale/plugin/async"
	"github.com/prescale/prescale/plugin/cron"
	"github.com/prescale/prescale/plugin/runtime"
)

// Config configures a Platform: DefaultConfig → RegisterFlags/parse → Validate.
// Zero BodyLimit, ReadTimeout and WriteTimeout take the defaults in New.
type Config struct {
	// Port is the gateway's loopback port (0 = a random free port, for tests).
	Port int
	// DataDir holds the credentials, secrets, builds and replica state.
	DataDir string
	// StackFile is the stack.yml whose functions are built ("" = none).
	StackFile string
	// BuildFrom lists more stack files and directories (their *.yml and
	// *.yaml) a deploy of an image not yet built may build from; the stack
	// file and its directory are build sources too (plugin/devloop).
	BuildFrom []string
	// Watch redeploys a deployed function when its sources change.
	Watch bool
	// Deploy deploys every function of the stack on start, as `faas-cli deploy` would.
	Deploy bool
	// NATSURL selects an external NATS with JetStream ("" = the embedded
	// one). Functions get the URL in use as NATS_URL (see SetNATSURL).
	NATSURL string
	// BodyLimit bounds request bodies (/function/ and /system/) in bytes; 413 beyond.
	BodyLimit int64
	// ReadTimeout and WriteTimeout are the HTTP server's (60s, as the gateway's).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// SkipTests skips `go test` when building Go functions.
	SkipTests bool
	// MetricsNamespaceSuffix appends ".openfaas-fn" to function_name labels,
	// as a gateway with function_namespace set does.
	MetricsNamespaceSuffix bool
	// Runtime tunes the replica runtime; zero fields take its defaults.
	// BaseDir defaults to <DataDir>/run.
	Runtime runtime.Config
	// Queue tunes the async queue (plugin/async); zero fields take its
	// defaults. StoreDir (<DataDir>/nats), NATSURL, GatewayURL and Functions
	// are set by the platform.
	Queue async.Config
	// Cron tunes the cron connector (plugin/cron); GatewayURL and the
	// credentials are the platform's own.
	Cron cron.Config
	// RunAsAuto (prescale up's default, --run-as auto): when the platform
	// runs as root and Runtime.RunAs is unset, each function's replicas run
	// as a uid of their own (Runtime.RunAsPerFunction) if the data
	// directory is reachable by other users (not under /root, for
	// instance); otherwise as the platform's user, with a warning.
	RunAsAuto bool
}

// Ranges checked by Validate.
const (
	MinBodyLimit = 1 << 10
	MaxBodyLimit = 1 << 30
	MinTimeout   = time.Second
	MaxTimeout   = time.Hour
)

// DefaultConfig is the configuration of `prescale up` before flags.
func DefaultConfig() Config {
	return Config{
		Port:         8080,
		DataDir:      ".prescale",
		StackFile:    "stack.yml",
		Deploy:       true,
		BodyLimit:    api.DefaultBodyLimit,
		ReadTimeout:  60 * time.Second,
		WriteTimeout: 60 * time.Second,
		RunAsAuto:    true,
	}
}

// RegisterFlags binds the configuration to fs, with c's values as defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	sf := &stackFlag{c: c}
	fs.Var(sf, "f", "stack file whose functions are built and served; repeat it for more stack files deploys may build from")
	fs.Var(sf, "yaml", "alias of -f")
	fs.Var(listFlag{&c.BuildFrom}, "build-from", "stack file or directory of stack files a deploy may build from (repeatable; the stack file's directory is one)")
	fs.BoolVar(&c.Watch, "watch", c.Watch, "rebuild and redeploy a deployed function when its handler changes")
	fs.IntVar(&c.Port, "port", c.Port, "gateway port on 127.0.0.1 (0 = random)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory: credentials, secrets, builds, NATS state")
	fs.BoolVar(&c.Deploy, "deploy", c.Deploy, "deploy every function of the stack on start")
	fs.StringVar(&c.NATSURL, "nats", c.NATSURL, "external NATS URL with JetStream (default: embedded)")
	fs.Int64Var(&c.BodyLimit, "body-limit", c.BodyLimit, "request body limit in bytes")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout, "HTTP server read timeout")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", c.WriteTimeout, "HTTP server write timeout")
	fs.BoolVar(&c.SkipTests, "skip-tests", c.SkipTests, "skip `go test` when building Go functions")
	fs.BoolVar(&c.MetricsNamespaceSuffix, "metrics-namespace-suffix", c.MetricsNamespaceSuffix,
		`append ".openfaas-fn" to function_name metric labels`)
	fs.IntVar(&c.Queue.Concurrency, "async-concurrency", c.Queue.Concurrency,
		"async queue: invocations in flight per function (0 = 4; annotation com.openfaas.queue.concurrency overrides)")
	fs.Int64Var(&c.Queue.QueueMaxMsgs, "async-max-queued", c.Queue.QueueMaxMsgs,
		"async queue: invocations held at most before new ones get 429 (0 = 1000000; 1..1e9)")
	fs.Int64Var(&c.Queue.QueueMaxBytes, "async-max-queue-bytes", c.Queue.QueueMaxBytes,
		"async queue: stream bytes held at most before new invocations get 429 (0 = 1 GiB; 1 MiB..1 TiB)")
	fs.Int64Var(&c.Queue.DLQMaxBytes, "async-dlq-max-bytes", c.Queue.DLQMaxBytes, "dead-letter stream size limit (0 = 256 MiB; 1 MiB..1 TiB)")
	fs.DurationVar(&c.Queue.DLQMaxAge, "async-dlq-max-age", c.Queue.DLQMaxAge, "dead letters are kept this long (0 = 720h; 1h..87600h)")
	fs.BoolVar(&c.Cron.Async, "cron-async", c.Cron.Async, "cron connector: invoke through /async-function/")
	fs.IntVar(&c.Runtime.MaxQueued, "max-queued", c.Runtime.MaxQueued,
		"requests of one function that may wait for a replica slot; one more gets 429 with Retry-After (0 = 1000; 1..1000000)")
	fs.Func("run-as", "replicas' user: auto (the default: as root, each function's replicas as a uid of their own when the data directory is reachable by other users, else the platform's user), none (the platform's user), or one user name or uid for all (the platform must be root); a replica user cannot read the data directory's credentials and secrets, nor, with auto, another function's", func(v string) error {
		switch v = strings.TrimSpace(v); v {
		case "auto":
			c.Runtime.RunAs, c.RunAsAuto = nil, true
			return nil
		case "", "none":
			c.Runtime.RunAs, c.RunAsAuto = nil, false
			return nil
		}
		u, err := runtime.LookupUser(v)
		if err != nil {
			return err
		}
		c.Runtime.RunAs, c.RunAsAuto = u, false
		return nil
	})
}

// withDefaults fills the zero values that have a default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.BodyLimit == 0 {
		c.BodyLimit = d.BodyLimit
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	return c
}

// Validate states every value outside its allowed range.
func (c Config) Validate() error {
	var errs []error
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range (allowed 0..65535; 0 = random)", c.Port))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty (allowed: any writable directory)"))
	}
	if c.BodyLimit < MinBodyLimit || c.BodyLimit > MaxBodyLimit {
		errs = append(errs, fmt.Errorf("body limit %d out of range (allowed %d..%d bytes)", c.BodyLimit, MinBodyLimit, MaxBodyLimit))
	}
	for _, t := range []struct {
		name string
		v    time.Duration
	}{{"read timeout", c.ReadTimeout}, {"write timeout", c.WriteTimeout}} {
		if t.v < MinTimeout || t.v > MaxTimeout {
			errs = append(errs, fmt.Errorf("%s %s out of range (allowed %s..%s)", t.name, t.v, MinTimeout, MaxTimeout))
		}
	}
	return errors.Join(errs...)
}

// stackFlag is -f: the first sets StackFile, later ones add build sources.
type stackFlag struct {
	c   *Config
	set bool
}

func (f *stackFlag) String() string {
	if f == nil || f.c == nil {
		return ""
	}
	return f.c.StackFile
}

func (f *stackFlag) Set(v string) error {
	if !f.set {
		f.c.StackFile, f.set = v, true
		return nil
	}
	f.c.BuildFrom = append(f.c.BuildFrom, v)
	return nil
}

// listFlag is a repeatable string flag.
type listFlag struct{ v *[]string }

func (f listFlag) String() string {
	if f.v == nil {
		return ""
	}
	return strings.Join(*f.v, ",")
}

func (f listFlag) Set(v string) error {
	*f.v = append(*f.v, v)
	return nil
}
