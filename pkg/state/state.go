package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/source"
)

// Config names the buckets and stream and bounds their size.
type Config struct {
	HistoryBucket  string
	CountersBucket string
	PolicyBucket   string
	// ArrivalsBucket holds each scale-to-zero function's arrival model
	// (decide.ArrivalState, a few KB).
	ArrivalsBucket string
	DecisionStream string
	// DecisionSubject is the subject prefix; a decision of function f goes
	// to <prefix>.<f>.
	DecisionSubject string
	HistoryLen      int           // samples kept per function
	DecisionMaxAge  time.Duration // decisions older than this are dropped
	DecisionMaxMsgs int64
	// DecisionMaxBytes bounds the decision stream (oldest dropped first).
	DecisionMaxBytes int64
	// BucketMaxBytes bounds each per-function KV bucket (history,
	// counters, policy, arrivals); a write that does not fit fails, and
	// the function's step with it, with the error saying so. ValueMaxBytes
	// bounds one value (one function's history: HistoryLen samples).
	BucketMaxBytes int64
	ValueMaxBytes  int32
	Storage        jetstream.StorageType
	// SeenBucket holds the ids of the chain messages the scaler accepted
	// (MarkSeen), each for SeenTTL; Open creates it only when SeenTTL > 0
	// (the scaler's store), and bounds it to SeenMaxBytes.
	SeenBucket   string
	SeenTTL      time.Duration
	SeenMaxBytes int64
}

// DefaultConfig: the names above, 360 samples per function (30 min at a 5 s
// period, 3 h at 30 s), decisions kept 7 days and at most 100,000 or 256
// MiB, each KV bucket at most 256 MiB with values of at most 1 MiB (NATS's
// default message limit; 2,000 samples of the largest kind fit), file
// storage; no seen-id bucket (SeenTTL 0), 64 MiB when there is one.
func DefaultConfig() Config {
	return Config{
		HistoryBucket: "prescale_history", CountersBucket: "prescale_counters", PolicyBucket: "prescale_policy",
		ArrivalsBucket: "prescale_arrivals", DecisionStream: "PRESCALE_DECISIONS", DecisionSubject: "prescale.decisions",
		HistoryLen: 360, DecisionMaxAge: 7 * 24 * time.Hour, DecisionMaxMsgs: 100000, DecisionMaxBytes: 256 << 20,
		BucketMaxBytes: 256 << 20, ValueMaxBytes: 1 << 20,
		Storage:    jetstream.FileStorage,
		SeenBucket: "prescale_chain_seen", SeenMaxBytes: 64 << 20,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.HistoryLen < 1 || c.HistoryLen > 2000 {
		return fmt.Errorf("history length %d: must be in 1..2000 (a history is one KV value of at most ValueMaxBytes)", c.HistoryLen)
	}
	if c.BucketMaxBytes < 1<<20 || c.DecisionMaxBytes < 1<<20 || c.ValueMaxBytes < 64<<10 || int64(c.ValueMaxBytes) > c.BucketMaxBytes {
		return fmt.Errorf("state: bucket bound %d, decision-stream bound %d (each at least 1 MiB) and value bound %d (64 KiB..the bucket bound)",
			c.BucketMaxBytes, c.DecisionMaxBytes, c.ValueMaxBytes)
	}
	if c.HistoryBucket == "" || c.CountersBucket == "" || c.PolicyBucket == "" || c.ArrivalsBucket == "" || c.DecisionStream == "" || c.DecisionSubject == "" {
		return errors.New("state: bucket, stream and subject names must not be empty")
	}
	if c.SeenTTL < 0 || (c.SeenTTL > 0 && (c.SeenBucket == "" || c.SeenMaxBytes < 1<<20)) {
		return fmt.Errorf("state: seen-id bucket %q: TTL %s must be >= 0, and with a TTL the name set and at least 1 MiB (%d bytes)",
			c.SeenBucket, c.SeenTTL, c.SeenMaxBytes)
	}
	return nil
}

// Errors compared with errors.Is.
var (
	// ErrOutOfOrder: every sample given to AppendHistory is not newer than
	// the newest stored (an overlapping or late load-probe run); nothing
	// was appended.
	ErrOutOfOrder = errors.New("not newer than the stored history")
	// ErrSeen: MarkSeen's id was marked before (a replayed message).
	ErrSeen = errors.New("id seen before")
	// ErrNoSeenBucket: MarkSeen on a store opened without SeenTTL.
	ErrNoSeenBucket = errors.New("state: no seen-id bucket (Config.SeenTTL is 0)")
)

// Store is prescale's state in JetStream.
type Store struct {
	cfg      Config
	js       jetstream.JetStream
	history  jetstream.KeyValue
	counters jetstream.KeyValue
	policy   jetstream.KeyValue
	arrivals jetstream.KeyValue
	seen     jetstream.KeyValue // nil unless cfg.SeenTTL > 0
}

var keyRE = regexp.MustCompile(`^[-_=a-zA-Z0-9][-/_=.a-zA-Z0-9]*$`)

func checkKey(function string) error {
	if !keyRE.MatchString(function) || len(function) > 253 {
		return fmt.Errorf("function name %q: must match [-a-zA-Z_0-9.]+ (at most 253 characters)", function)
	}
	return nil
}

// Open creates (or updates) the buckets and the stream on nc.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s := &Store{cfg: cfg, js: js}
	kv := func(name, desc string) (jetstream.KeyValue, error) {
		b, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, Description: desc, History: 1, Storage: cfg.Storage,
			MaxBytes: cfg.BucketMaxBytes, MaxValueSize: cfg.ValueMaxBytes})
		if err != nil {
			return nil, fmt.Errorf("kv bucket %s: %w", name, err)
		}
		return b, nil
	}
	if s.history, err = kv(cfg.HistoryBucket, "prescale: per-function sample history"); err != nil {
		return nil, err
	}
	if s.counters, err = kv(cfg.CountersBucket, "prescale: previous gateway counters"); err != nil {
		return nil, err
	}
	if s.policy, err = kv(cfg.PolicyBucket, "prescale: scaler stabilization state"); err != nil {
		return nil, err
	}
	if s.arrivals, err = kv(cfg.ArrivalsBucket, "prescale: per-function arrival model (scale to zero)"); err != nil {
		return nil, err
	}
	if cfg.SeenTTL > 0 {
		s.seen, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.SeenBucket,
			Description: "prescale: ids of accepted chain messages (replay protection)", History: 1,
			TTL: cfg.SeenTTL, MaxBytes: cfg.SeenMaxBytes, Storage: cfg.Storage})
		if err != nil {
			return nil, fmt.Errorf("kv bucket %s: %w", cfg.SeenBucket, err)
		}
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: cfg.DecisionStream, Description: "prescale: scaler decisions",
		Subjects: []string{cfg.DecisionSubject + ".>"}, MaxAge: cfg.DecisionMaxAge, MaxMsgs: cfg.DecisionMaxMsgs,
		MaxBytes: cfg.DecisionMaxBytes, Storage: cfg.Storage, Discard: jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("decision stream %s: %w", cfg.DecisionStream, err)
	}
	return s, nil
}

// Connect dials url (with a bounded timeout) and opens the store. Close
// the returned connection when done.
func Connect(ctx context.Context, url string, cfg Config) (*Store, *nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second), nats.Name("prescale"), nats.MaxReconnects(2))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	s, err := Open(ctx, nc, cfg)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return s, nc, nil
}

// casLoop reads key, applies f and writes it back with compare-and-set,
// retrying on a concurrent update.
func casLoop(ctx context.Context, kv jetstream.KeyValue, key string, f func(old []byte) ([]byte, error)) error {
	for attempt := 0; attempt < 50; attempt++ {
		if attempt > 0 { // back off with jitter so concurrent writers interleave
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(rand.IntN(1+attempt*2)) * time.Millisecond):
			}
		}
		var old []byte
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			old, rev = e.Value(), e.Revision()
		case errors.Is(err, jetstream.ErrKeyNotFound):
		default:
			return fmt.Errorf("get %s/%s: %w", kv.Bucket(), key, err)
		}
		val, err := f(old)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = kv.Create(ctx, key, val)
		} else {
			_, err = kv.Update(ctx, key, val, rev)
		}
		if err == nil {
			return nil
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			continue
		}
		return fmt.Errorf("put %s/%s: %w", kv.Bucket(), key, err)
	}
	return fmt.Errorf("put %s/%s: too many concurrent updates", kv.Bucket(), key)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// AppendHistory appends samples to a function's history with
// compare-and-set, keeps the newest HistoryLen, and returns the history
// after the append (oldest first). The history stays in time order: a
// sample not newer than the one before it (both with a time) is dropped,
// so overlapping load-probe runs cannot interleave or duplicate samples;
// when every sample is dropped the error is ErrOutOfOrder (wrapped) with
// the stored history.
func (s *Store) AppendHistory(ctx context.Context, function string, samples ...decide.Sample) ([]decide.Sample, error) {
	if err := checkKey(function); err != nil {
		return nil, err
	}
	var out []decide.Sample
	err := casLoop(ctx, s.history, function, func(old []byte) ([]byte, error) {
		out = nil
		if len(old) > 0 {
			if err := json.Unmarshal(old, &out); err != nil {
				out = nil // a corrupt history is replaced, not fatal
			}
		}
		added := 0
		for _, smp := range samples {
			if n := len(out); n > 0 && !smp.At.IsZero() && !out[n-1].At.IsZero() && !smp.At.After(out[n-1].At) {
				continue
			}
			out = append(out, smp)
			added++
		}
		if added == 0 && len(samples) > 0 {
			return nil, fmt.Errorf("history of %s: %w: newest stored sample at %s", function, ErrOutOfOrder, out[len(out)-1].At.Format(time.RFC3339Nano))
		}
		if len(out) > s.cfg.HistoryLen {
			out = append([]decide.Sample(nil), out[len(out)-s.cfg.HistoryLen:]...)
		}
		return json.Marshal(out)
	})
	return out, err
}

// History returns a function's history (nil when none).
func (s *Store) History(ctx context.Context, function string) ([]decide.Sample, error) {
	if err := checkKey(function); err != nil {
		return nil, err
	}
	e, err := s.history.Get(ctx, function)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", function, err)
	}
	var out []decide.Sample
	if err := json.Unmarshal(e.Value(), &out); err != nil {
		return nil, fmt.Errorf("history of %s is corrupt: %w", function, err)
	}
	return out, nil
}

// LoadSnapshot implements source.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, function string) (source.Snapshot, bool, error) {
	if err := checkKey(function); err != nil {
		return source.Snapshot{}, false, err
	}
	e, err := s.counters.Get(ctx, function)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return source.Snapshot{}, false, nil
	}
	if err != nil {
		return source.Snapshot{}, false, fmt.Errorf("counters of %s: %w", function, err)
	}
	var snap source.Snapshot
	if err := json.Unmarshal(e.Value(), &snap); err != nil {
		return source.Snapshot{}, false, nil // corrupt: start a new baseline
	}
	return snap, true, nil
}

// SaveSnapshot implements source.SnapshotStore.
func (s *Store) SaveSnapshot(ctx context.Context, function string, snap source.Snapshot) error {
	if err := checkKey(function); err != nil {
		return err
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode counters of %s: %w", function, err)
	}
	if _, err := s.counters.Put(ctx, function, b); err != nil {
		return fmt.Errorf("save counters of %s: %w", function, err)
	}
	return nil
}

// UpdateSnapshot runs f on a function's stored counters (ok false when
// there are none) and stores what it returns with compare-and-set,
// retrying f on a concurrent update; an error from f stores nothing.
// source.Gateway observes through it, so two overlapping load-probe runs
// cannot both take the same counters as their baseline.
func (s *Store) UpdateSnapshot(ctx context.Context, function string, f func(prev source.Snapshot, ok bool) (source.Snapshot, error)) error {
	if err := checkKey(function); err != nil {
		return err
	}
	return casLoop(ctx, s.counters, function, func(old []byte) ([]byte, error) {
		var prev source.Snapshot
		ok := len(old) > 0 && json.Unmarshal(old, &prev) == nil // corrupt: a new baseline
		if !ok {
			prev = source.Snapshot{}
		}
		next, err := f(prev, ok)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("encode counters of %s: %w", function, err)
		}
		return b, nil
	})
}

// SeenMark is one MarkSeen's record of an id, for Unmark.
type SeenMark struct {
	id, key  string
	revision uint64
}

// MarkSeen records a chain message's id in the seen-id bucket (kept
// Config.SeenTTL), atomically: ErrSeen (wrapped) when it was there already.
// Ids are stored by their SHA-256, so any id is a valid key.
func (s *Store) MarkSeen(ctx context.Context, id string, at time.Time) (SeenMark, error) {
	if s.seen == nil {
		return SeenMark{}, ErrNoSeenBucket
	}
	sum := sha256.Sum256([]byte(id))
	key := hex.EncodeToString(sum[:])
	rev, err := s.seen.Create(ctx, key, []byte(at.UTC().Format(time.RFC3339Nano)))
	switch {
	case err == nil:
		return SeenMark{id: id, key: key, revision: rev}, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return SeenMark{}, fmt.Errorf("message id %q: %w", id, ErrSeen)
	default:
		return SeenMark{}, fmt.Errorf("seen-id bucket %s: %w", s.cfg.SeenBucket, err)
	}
}

// Unmark removes m, so m's id may be marked (accepted) again: for a
// message whose work failed before anything was changed. Only m itself is
// removed (compare-and-delete on its revision): a mark that has expired,
// or another caller's mark of the id made since, is left as it is (nil).
func (s *Store) Unmark(ctx context.Context, m SeenMark) error {
	if s.seen == nil {
		return ErrNoSeenBucket
	}
	err := s.seen.Delete(ctx, m.key, jetstream.LastRevision(m.revision))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("unmark message id %q in seen-id bucket %s: %w", m.id, s.cfg.SeenBucket, err)
	}
	return nil
}

// UpdatePolicy runs f on a function's policy state and stores the result
// with compare-and-set (retrying f on a concurrent update).
func (s *Store) UpdatePolicy(ctx context.Context, function string, f func(decide.State) (decide.State, error)) error {
	if err := checkKey(function); err != nil {
		return err
	}
	return casLoop(ctx, s.policy, function, func(old []byte) ([]byte, error) {
		var st decide.State
		if len(old) > 0 {
			if err := json.Unmarshal(old, &st); err != nil {
				st = decide.State{}
			}
		}
		next, err := f(st)
		if err != nil {
			return nil, err
		}
		return json.Marshal(next)
	})
}

// UpdateArrivals runs f on a function's arrival model and stores the
// result with compare-and-set (retrying f on a concurrent update, so
// overlapping load-probe runs cannot lose an update). A corrupt stored model
// starts afresh.
func (s *Store) UpdateArrivals(ctx context.Context, function string, f func(*decide.ArrivalState) error) (decide.ArrivalState, error) {
	if err := checkKey(function); err != nil {
		return decide.ArrivalState{}, err
	}
	var out decide.ArrivalState
	err := casLoop(ctx, s.arrivals, function, func(old []byte) ([]byte, error) {
		var st decide.ArrivalState
		if len(old) > 0 {
			if err := json.Unmarshal(old, &st); err != nil {
				st = decide.ArrivalState{}
			}
		}
		if err := f(&st); err != nil {
			return nil, err
		}
		out = st
		return json.Marshal(st)
	})
	return out, err
}

// Policy returns a function's stored policy state.
func (s *Store) Policy(ctx context.Context, function string) (decide.State, error) {
	if err := checkKey(function); err != nil {
		return decide.State{}, err
	}
	e, err := s.policy.Get(ctx, function)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return decide.State{}, nil
	}
	if err != nil {
		return decide.State{}, fmt.Errorf("policy state of %s: %w", function, err)
	}
	var st decide.State
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return decide.State{}, fmt.Errorf("policy state of %s is corrupt: %w", function, err)
	}
	return st, nil
}

// AppendDecision publishes a decision to the decision stream.
func (s *Store) AppendDecision(ctx context.Context, d decide.Decision) error {
	if err := checkKey(d.Function); err != nil {
		return err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode decision: %w", err)
	}
	if _, err := s.js.Publish(ctx, s.cfg.DecisionSubject+"."+d.Function, b); err != nil {
		return fmt.Errorf("append decision of %s: %w", d.Function, err)
	}
	return nil
}

// ReadDecisions calls f for every decision in the stream, oldest first.
// With follow it then waits for new ones until ctx ends; without, it
// returns after the last one present at the start.
func ReadDecisions(ctx context.Context, nc *nats.Conn, stream string, follow bool, f func(decide.Decision) error) error {
	return readDecisions(ctx, nc, stream, follow, func(d decide.Decision, _ time.Time) error { return f(d) })
}

// ReadStoredDecisions is ReadDecisions without follow that also gives
// each decision's time of storing in the stream (after the scale call the
// decision made, if any: the scaler appends a decision once applied).
func ReadStoredDecisions(ctx context.Context, nc *nats.Conn, stream string, f func(d decide.Decision, stored time.Time) error) error {
	return readDecisions(ctx, nc, stream, false, f)
}

func readDecisions(ctx context.Context, nc *nats.Conn, stream string, follow bool, f func(decide.Decision, time.Time) error) error {
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("decision stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("decision stream %s: %w", stream, err)
	}
	last := info.State.LastSeq
	if !follow && info.State.Msgs == 0 {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return fmt.Errorf("read decisions: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("read decisions: %w", err)
	}
	defer it.Stop()
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		msg, err := it.Next()
		if err != nil {
			if outer.Err() != nil {
				if follow {
					return nil
				}
				return outer.Err()
			}
			return fmt.Errorf("read decisions: %w", err)
		}
		md, mdErr := msg.Metadata()
		var stored time.Time
		if mdErr == nil {
			stored = md.Timestamp
		}
		var d decide.Decision
		if err := json.Unmarshal(msg.Data(), &d); err == nil {
			if err := f(d, stored); err != nil {
				return err
			}
		}
		if mdErr == nil && !follow && md.Sequence.Stream >= last {
			return nil
		}
	}
}
