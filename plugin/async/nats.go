package async

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/internal/fsutil"
)

// Embedded is a NATS server with JetStream on file storage, run in-process.
// Clients authenticate with its token: every connection but the
// in-process ones needs it (ClientURL carries it).
type Embedded struct {
	srv      *server.Server
	storeDir string
	token    string
	lock     *os.File // flock on storeDir/lock while the server runs
}

// NewToken returns a random 32-byte hex token for an embedded server.
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

// ValidToken reports whether tok can be an embedded server's token (it
// travels in a URL's user part): 16..256 of [A-Za-z0-9_-].
func ValidToken(tok string) bool {
	return len(tok) >= 16 && len(tok) <= 256 && natsToken.MatchString(tok)
}

// lockStore takes an exclusive, non-blocking flock on storeDir/lock so that
// two servers never share a store (the kernel releases it even on kill -9).
func lockStore(storeDir string) (*os.File, error) {
	f, err := fsutil.TryLock(filepath.Join(storeDir, "lock"))
	if err != nil {
		return nil, fmt.Errorf("embedded nats: store %s: %w", storeDir, err)
	}
	return f, nil
}

// StartEmbedded starts a NATS server with JetStream storing under storeDir,
// listening on host:port (port 0 picks a free port), accepting only clients
// that present token (ValidToken). It writes the client URL, token
// included, to storeDir/nats.url (0600, in the 0700 store).
func StartEmbedded(storeDir, host string, port int, token string) (*Embedded, error) {
	if !ValidToken(token) {
		return nil, errors.New("embedded nats: the token must be 16..256 letters, digits, '-' or '_' (async.NewToken makes one)")
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded nats: store dir: %w", err)
	}
	lock, err := lockStore(storeDir)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:    "prescale",
		Host:          host,
		Port:          port,
		JetStream:     true,
		StoreDir:      storeDir,
		MaxPayload:    8 << 20,
		Authorization: token,
		NoSigs:        true,
		NoLog:         true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		lock.Close()
		return nil, fmt.Errorf("embedded nats: not ready for connections within 15s (store %s)", storeDir)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		lock.Close()
		return nil, fmt.Errorf("embedded nats: JetStream did not start on store %s", storeDir)
	}
	e := &Embedded{srv: srv, storeDir: storeDir, token: token, lock: lock}
	if err := os.WriteFile(filepath.Join(storeDir, URLFile), []byte(e.ClientURL()+"\n"), 0o600); err != nil {
		e.Shutdown()
		return nil, fmt.Errorf("embedded nats: write url file: %w", err)
	}
	return e, nil
}

// ClientURL is the nats:// URL clients (and functions) connect to, with
// the token as its user part (nats://TOKEN@127.0.0.1:PORT): a secret.
func (e *Embedded) ClientURL() string { return WithToken(e.srv.ClientURL(), e.token) }

// WithToken puts token into a nats:// URL's user part.
func WithToken(raw, token string) string {
	u, err := url.Parse(raw)
	if err != nil || token == "" {
		return raw
	}
	u.User = url.User(token)
	return u.String()
}

// WithoutCredentials is the URL with its user part removed: what may be
// shown (logs, environment listings).
func WithoutCredentials(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// Traffic is the server's message counters since it started: messages
// and bytes received from clients (in) and delivered to them (out), every
// client, JetStream's API and its internal traffic included.
type Traffic struct {
	InMsgs, OutMsgs, InBytes, OutBytes int64
}

// Traffic reads the server's counters.
func (e *Embedded) Traffic() (Traffic, error) {
	v, err := e.srv.Varz(nil)
	if err != nil {
		return Traffic{}, fmt.Errorf("embedded nats: varz: %w", err)
	}
	return Traffic{InMsgs: v.InMsgs, OutMsgs: v.OutMsgs, InBytes: v.InBytes, OutBytes: v.OutBytes}, nil
}

// Connect opens an in-process client connection.
func (e *Embedded) Connect(name string) (*nats.Conn, error) {
	nc, err := nats.Connect(e.srv.ClientURL(), nats.Name(name), nats.InProcessServer(e.srv), nats.Token(e.token))
	if err != nil {
		return nil, fmt.Errorf("connect embedded nats: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server and removes the URL file.
func (e *Embedded) Shutdown() {
	_ = os.Remove(filepath.Join(e.storeDir, URLFile))
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	e.lock.Close()
}

// Connect dials an external NATS server with reconnects.
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect nats %s: %w", url, err)
	}
	return nc, nil
}

// Names are the streams and subjects a queue uses.
type Names struct {
	Stream, Subject, DLQStream, DLQSubject string
}

// DefaultNames are the names used when Config leaves them empty.
func DefaultNames() Names {
	return Names{Stream: DefaultStream, Subject: DefaultSubject, DLQStream: DefaultDLQStream, DLQSubject: DefaultDLQSubject}
}

func (n Names) subject(function string) string    { return n.Subject + "." + function }
func (n Names) dlqSubject(function string) string { return n.DLQSubject + "." + function }

// streamLimits bound the two streams (Config's QueueMax*, DLQMax*,
// DuplicateWindow).
type streamLimits struct {
	queueMsgs, queueBytes, dlqBytes int64
	dlqAge, duplicates              time.Duration
}

func limitsOf(c Config) streamLimits {
	return streamLimits{queueMsgs: c.QueueMaxMsgs, queueBytes: c.QueueMaxBytes, dlqBytes: c.DLQMaxBytes, dlqAge: c.DLQMaxAge, duplicates: c.DuplicateWindow}
}

// ensureStreams creates (or updates) the work-queue stream and the
// dead-letter stream, both on file storage, with their limits: both
// discard new messages when full (a refused publish is an error to its
// caller; nothing stored is dropped), the work queue never ages messages
// out, dead letters are kept for dlqAge.
func ensureStreams(ctx context.Context, js jetstream.JetStream, n Names, l streamLimits) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        n.Stream,
		Description: "prescale asynchronous invocations (one subject per function)",
		Subjects:    []string{n.Subject + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     l.queueMsgs,
		MaxBytes:    l.queueBytes,
		Duplicates:  l.duplicates,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", n.Stream, err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        n.DLQStream,
		Description: "prescale asynchronous invocations that exhausted their attempts",
		Subjects:    []string{n.DLQSubject + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    l.dlqBytes,
		MaxAge:      l.dlqAge,
		Duplicates:  l.duplicates,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", n.DLQStream, err)
	}
	return nil
}

// errClosed is returned by a closed queue.
var errClosed = errors.New("async queue closed")
