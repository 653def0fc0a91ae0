package async

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"time"
)

// Default names and limits; they follow OpenFaaS (CE gateway body limit, Pro
// JetStream stream naming and retry codes).
const (
	DefaultStream         = "OF_faas-request"
	DefaultSubject        = "faas-request"
	DefaultDLQStream      = "OF_faas-request-dlq"
	DefaultDLQSubject     = "faas-request-dlq"
	DefaultMaxBodyBytes   = 256000
	DefaultConcurrency    = 4
	DefaultUserAgent      = "prescale/queue-worker"
	ConcurrencyAnnotation = "com.openfaas.queue.concurrency"
	// URLFile is written into StoreDir while an embedded server runs; it holds
	// that server's client URL (used by `prescale dlq --data`).
	URLFile = "nats.url"
)

// Functions tells the handler which functions exist (404 otherwise).
type Functions interface {
	Exists(name string) bool
}

// Annotations is optionally implemented by the Functions given to New; it
// supplies per-function overrides such as com.openfaas.queue.concurrency.
type Annotations interface {
	Annotations(name string) map[string]string
}

// Config configures a Queue. Zero values take the defaults of Defaults().
type Config struct {
	// StoreDir holds the embedded server's JetStream files. Required unless
	// NATSURL is set.
	StoreDir string
	// NATSURL selects an external NATS server with JetStream instead of the
	// embedded one.
	NATSURL string
	// Host and Port of the embedded server: loopback and a random port by default.
	Host string
	Port int
	// Token authenticates clients of the embedded server (ValidToken); empty
	// means a new random one (NewToken). NATSURL() carries it.
	Token string

	// GatewayURL is the base URL of the proxy that serves /function/<name>
	// (the plugin's own gateway). Required.
	GatewayURL string
	// Functions answers whether a function exists. Required.
	Functions Functions

	Stream, Subject, DLQStream, DLQSubject string

	MaxBodyBytes int64
	// Concurrency is the per-function bound on simultaneous invocations.
	Concurrency int
	// FunctionTimeout bounds one invocation; CallbackTimeout one callback.
	FunctionTimeout time.Duration
	CallbackTimeout time.Duration
	// AckWait is how long a delivered message may stay unacknowledged before
	// JetStream redelivers it; it must exceed FunctionTimeout+CallbackTimeout.
	// Zero means FunctionTimeout+CallbackTimeout+5s.
	AckWait time.Duration
	// MaxAttempts is the number of deliveries before a message is dead-lettered.
	MaxAttempts int
	// InitialRetryWait doubles per attempt up to MaxRetryWait; the wait is
	// drawn between half and all of that value (equal jitter).
	InitialRetryWait time.Duration
	MaxRetryWait     time.Duration
	// RetryCodes are the function (and callback) status codes that are
	// retried: 408, 429 and every 5xx by default.
	RetryCodes []int
	// DeadLetterRetries is how many more deliveries a message gets, after
	// its MaxAttempts invocations, for writing its dead letter: when the
	// dead-letter stream refuses the write (full, or unavailable) the
	// message is redelivered to retry the write only — the function is not
	// invoked again — at most this many times (JetStream MaxDeliver =
	// MaxAttempts + DeadLetterRetries). A message that still has no dead
	// letter then stays in the work-queue stream, unacknowledged: kept, not
	// lost, and logged with its stream sequence.
	DeadLetterRetries int
	// PublishTimeout bounds waiting for JetStream's publish acknowledgement.
	PublishTimeout time.Duration
	// Stream limits. The work queue refuses new invocations (503 to the
	// caller, nothing accepted is dropped) once it holds QueueMaxMsgs
	// messages or QueueMaxBytes bytes; queued invocations never expire
	// (accepted work is not deleted by age). The dead-letter stream keeps
	// DLQMaxAge of dead letters, at most DLQMaxBytes (a dead letter that
	// does not fit is retried, see DeadLetterRetries). DuplicateWindow is
	// JetStream's de-duplication window: a submission repeating an X-Call-Id
	// seen within it is accepted once.
	QueueMaxMsgs    int64
	QueueMaxBytes   int64
	DLQMaxBytes     int64
	DLQMaxAge       time.Duration
	DuplicateWindow time.Duration
	// FetchWait is how long an idle worker's pull request waits.
	FetchWait time.Duration
	// RescanInterval is how often consumers and annotations are re-read.
	RescanInterval time.Duration
	UserAgent      string

	Logger     *log.Logger
	HTTPClient *http.Client
}

// Defaults returns the default configuration (without the required fields).
func Defaults() Config {
	return Config{
		Host:              "127.0.0.1",
		Stream:            DefaultStream,
		Subject:           DefaultSubject,
		DLQStream:         DefaultDLQStream,
		DLQSubject:        DefaultDLQSubject,
		MaxBodyBytes:      DefaultMaxBodyBytes,
		Concurrency:       DefaultConcurrency,
		FunctionTimeout:   60 * time.Second,
		CallbackTimeout:   30 * time.Second,
		MaxAttempts:       8,
		InitialRetryWait:  500 * time.Millisecond,
		MaxRetryWait:      30 * time.Second,
		RetryCodes:        defaultRetryCodes(),
		DeadLetterRetries: 10,
		PublishTimeout:    5 * time.Second,
		QueueMaxMsgs:      1_000_000,
		QueueMaxBytes:     1 << 30,
		DLQMaxBytes:       256 << 20,
		DLQMaxAge:         30 * 24 * time.Hour,
		DuplicateWindow:   2 * time.Minute,
		FetchWait:         2 * time.Second,
		RescanInterval:    10 * time.Second,
		UserAgent:         DefaultUserAgent,
	}
}

// defaultRetryCodes are 408, 429 and every 5xx.
func defaultRetryCodes() []int {
	codes := []int{http.StatusRequestTimeout, http.StatusTooManyRequests}
	for c := 500; c <= 599; c++ {
		codes = append(codes, c)
	}
	return codes
}

// withDefaults fills zero fields of c from Defaults().
func (c Config) withDefaults() Config {
	d := Defaults()
	if c.Host == "" {
		c.Host = d.Host
	}
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.Stream, d.Stream)
	set(&c.Subject, d.Subject)
	set(&c.DLQStream, d.DLQStream)
	set(&c.DLQSubject, d.DLQSubject)
	set(&c.UserAgent, d.UserAgent)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.Concurrency == 0 {
		c.Concurrency = d.Concurrency
	}
	dur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	dur(&c.FunctionTimeout, d.FunctionTimeout)
	dur(&c.CallbackTimeout, d.CallbackTimeout)
	dur(&c.InitialRetryWait, d.InitialRetryWait)
	dur(&c.MaxRetryWait, d.MaxRetryWait)
	dur(&c.PublishTimeout, d.PublishTimeout)
	dur(&c.DLQMaxAge, d.DLQMaxAge)
	dur(&c.DuplicateWindow, d.DuplicateWindow)
	for _, n := range []struct {
		p *int64
		v int64
	}{{&c.QueueMaxMsgs, d.QueueMaxMsgs}, {&c.QueueMaxBytes, d.QueueMaxBytes}, {&c.DLQMaxBytes, d.DLQMaxBytes}} {
		if *n.p == 0 {
			*n.p = n.v
		}
	}
	if c.DeadLetterRetries == 0 {
		c.DeadLetterRetries = d.DeadLetterRetries
	}
	dur(&c.FetchWait, d.FetchWait)
	dur(&c.RescanInterval, d.RescanInterval)
	dur(&c.AckWait, c.FunctionTimeout+c.CallbackTimeout+5*time.Second)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.RetryCodes == nil {
		c.RetryCodes = d.RetryCodes
	}
	if c.Logger == nil {
		c.Logger = log.New(os.Stderr, "async: ", log.LstdFlags)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	return c
}

// natsToken is what stream and subject names may be made of.
var natsToken = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate reports every invalid field with its allowed range.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.NATSURL == "" && c.StoreDir == "" {
		bad("StoreDir is required when NATSURL is empty (the embedded server's JetStream directory)")
	}
	if c.NATSURL != "" {
		if u, err := url.Parse(c.NATSURL); err != nil || u.Host == "" {
			bad("NATSURL %q: must be a URL such as nats://127.0.0.1:4222", c.NATSURL)
		}
	}
	if c.Token != "" && !ValidToken(c.Token) {
		bad("Token: must be 16..256 letters, digits, '-' or '_'")
	}
	if c.Port < -1 || c.Port > 65535 {
		bad("Port %d: must be 0 (random) or 1..65535", c.Port)
	}
	if u, err := url.Parse(c.GatewayURL); c.GatewayURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("GatewayURL %q: must be an absolute http(s) URL of the gateway serving /function/<name>", c.GatewayURL)
	}
	if c.Functions == nil {
		bad("Functions is required (it decides which function names exist)")
	}
	for _, n := range []struct{ field, v string }{{"Stream", c.Stream}, {"Subject", c.Subject}, {"DLQStream", c.DLQStream}, {"DLQSubject", c.DLQSubject}} {
		if !natsToken.MatchString(n.v) {
			bad("%s %q: must be letters, digits, '-' or '_'", n.field, n.v)
		}
	}
	if c.Subject == c.DLQSubject || c.Stream == c.DLQStream {
		bad("DLQStream/DLQSubject must differ from Stream/Subject")
	}
	if c.MaxBodyBytes < 1 || c.MaxBodyBytes > 4<<20 {
		bad("MaxBodyBytes %d: must be 1..%d", c.MaxBodyBytes, 4<<20)
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		bad("Concurrency %d: must be 1..1000", c.Concurrency)
	}
	rng := func(field string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			bad("%s %v: must be %v..%v", field, v, lo, hi)
		}
	}
	rng("FunctionTimeout", c.FunctionTimeout, time.Millisecond, 24*time.Hour)
	rng("CallbackTimeout", c.CallbackTimeout, time.Millisecond, time.Hour)
	rng("InitialRetryWait", c.InitialRetryWait, time.Millisecond, time.Hour)
	rng("MaxRetryWait", c.MaxRetryWait, c.InitialRetryWait, 24*time.Hour)
	rng("PublishTimeout", c.PublishTimeout, time.Millisecond, 5*time.Minute)
	rng("FetchWait", c.FetchWait, 10*time.Millisecond, time.Minute)
	rng("RescanInterval", c.RescanInterval, 10*time.Millisecond, time.Hour)
	if min := c.FunctionTimeout + c.CallbackTimeout; c.AckWait <= min || c.AckWait > 25*time.Hour {
		bad("AckWait %v: must be greater than FunctionTimeout+CallbackTimeout (%v) and at most 25h", c.AckWait, min)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 1000 {
		bad("MaxAttempts %d: must be 1..1000", c.MaxAttempts)
	}
	if c.DeadLetterRetries < 1 || c.DeadLetterRetries > 1000 {
		bad("DeadLetterRetries %d: must be 1..1000", c.DeadLetterRetries)
	}
	if c.QueueMaxMsgs < 1 || c.QueueMaxMsgs > 1_000_000_000 {
		bad("QueueMaxMsgs %d: must be 1..1000000000", c.QueueMaxMsgs)
	}
	if c.QueueMaxBytes < 1<<20 || c.QueueMaxBytes > 1<<40 {
		bad("QueueMaxBytes %d: must be %d..%d (1 MiB..1 TiB)", c.QueueMaxBytes, 1<<20, int64(1)<<40)
	}
	if c.DLQMaxBytes < 1<<20 || c.DLQMaxBytes > 1<<40 {
		bad("DLQMaxBytes %d: must be %d..%d (1 MiB..1 TiB)", c.DLQMaxBytes, 1<<20, int64(1)<<40)
	}
	rng("DLQMaxAge", c.DLQMaxAge, time.Hour, 3650*24*time.Hour)
	rng("DuplicateWindow", c.DuplicateWindow, time.Second, 24*time.Hour)
	for _, code := range c.RetryCodes {
		if code < 100 || code > 599 {
			bad("RetryCodes: %d is not an HTTP status (100..599)", code)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("async config: %w", errors.Join(errs...))
	}
	return nil
}
