package inference

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBucket is the JetStream object store bucket models are published to.
const DefaultBucket = "prescale-models"

// BucketConfig is the model bucket's configuration, bounded: the store
// holds one object per kind (two artefacts of a few hundred KB), so 64 MiB
// leaves room for history while a runaway publisher cannot fill the disk.
func BucketConfig(bucket string) jetstream.ObjectStoreConfig {
	return jetstream.ObjectStoreConfig{Bucket: bucket, Description: "prescale models", MaxBytes: 64 << 20}
}

// ObjectName is the object a model of the given kind is published under:
// publishing a new one replaces the previous one of that kind.
func ObjectName(kind string) string { return kind + ".json" }

// Publish validates an artefact and puts it into the object store.
func Publish(ctx context.Context, store jetstream.ObjectStore, a *Artefact) (*jetstream.ObjectInfo, error) {
	data, err := a.Marshal()
	if err != nil {
		return nil, err
	}
	info, err := store.Put(ctx, jetstream.ObjectMeta{
		Name:        ObjectName(a.Kind),
		Description: a.Version,
		Headers:     map[string][]string{"Prescale-Model-Version": {a.Version}},
	}, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", a.Version, err)
	}
	return info, nil
}

// Set is the models a predictor serves.
type Set struct {
	Replica    *ReplicaModel
	Forecaster *Forecaster
}

// ErrUnreadable is wrapped by the error of an object version that cannot be
// read (deleted, its chunks not matching its digest): Run does not read that
// version again.
var ErrUnreadable = errors.New("model object unreadable")

// Watcher holds the current models and replaces them when a new artefact is
// published to the object store. A corrupt, mismatched or wrong-kind
// artefact is refused with a logged error and the previous model stays; so
// does an object version that cannot be read (ErrUnreadable).
type Watcher struct {
	log *slog.Logger
	// after is the backoff's timer (time.After; a test's fake).
	after func(time.Duration) <-chan time.Time

	mu      sync.RWMutex
	set     Set
	lastErr error
	applied int
	// unreadable is, per object name, the NUID of the version Run gave up
	// reading (ErrUnreadable): a restarted watch's replay of it is skipped.
	unreadable map[string]string
}

// NewWatcher starts from the given models (normally the embedded defaults).
func NewWatcher(initial Set, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{log: log, after: time.After, set: initial, unreadable: map[string]string{}}
}

// Models returns the current models.
func (w *Watcher) Models() Set {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.set
}

// LastError is the error of the last refused artefact or unreadable object
// version (nil if none since the last success).
func (w *Watcher) LastError() error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.lastErr
}

// Applied counts the artefacts that changed a served model so far (one
// of the version already served is not counted).
func (w *Watcher) Applied() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.applied
}

// Apply validates artefact bytes published under object name and, when
// they check out, swaps in the new model of that kind.
func (w *Watcher) Apply(name string, data []byte) error {
	err := w.apply(name, data)
	w.mu.Lock()
	w.lastErr = err
	w.mu.Unlock()
	if err != nil {
		w.log.Error("refused model artefact; keeping the previous model", "object", name, "err", err)
	}
	return err
}

func (w *Watcher) apply(name string, data []byte) error {
	a, err := Parse(data)
	if err != nil {
		return fmt.Errorf("object %s: %w", name, err)
	}
	if want := ObjectName(a.Kind); name != want {
		return fmt.Errorf("%w: object %s holds a %s artefact (expected under %s)", ErrInvalid, name, a.Kind, want)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.serving(a.Kind) == a.Version {
		// Already serving it: a watch restarted after a reconnect replays
		// the store's latest objects. Nothing changes, nothing is counted.
		return nil
	}
	switch a.Kind {
	case KindReplicaForest:
		m, err := NewReplicaModel(a)
		if err != nil {
			return err
		}
		if old := w.set.Replica; old != nil && !sameFeatures(old.art.Features, a.Features) {
			return fmt.Errorf("%w %s: features %v differ from the serving model's %v", ErrInvalid, a.Version, a.Features, old.art.Features)
		}
		w.set.Replica = m
	case KindForecaster:
		f, err := NewForecaster(a)
		if err != nil {
			return err
		}
		w.set.Forecaster = f
	}
	w.applied++
	w.log.Info("model updated", "kind", a.Kind, "version", a.Version)
	return nil
}

// serving is the version of the model of kind in use ("" when none);
// w.mu is held.
func (w *Watcher) serving(kind string) string {
	switch {
	case kind == KindReplicaForest && w.set.Replica != nil:
		return w.set.Replica.Version()
	case kind == KindForecaster && w.set.Forecaster != nil:
		return w.set.Forecaster.Version()
	}
	return ""
}

func sameFeatures(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// read gets one object's bytes, retrying a failed read (a timeout on a
// loaded server, a reconnect) with backoff from 50 ms to 5 s until it
// succeeds or ctx ends: an update announced by the watch is never lost to
// one failed read. Each failure is logged. An error that another read
// cannot mend (see unreadable) is returned at once, wrapping ErrUnreadable.
func (w *Watcher) read(ctx context.Context, store jetstream.ObjectStore, name string) ([]byte, error) {
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		data, err := store.GetBytes(ctx, name)
		if err == nil {
			return data, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if unreadable(err) {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnreadable, name, err)
		}
		w.log.Error("read model object; retrying", "object", name, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.after(delay):
		}
	}
}

// unreadable: err is a read's failure that stays for the object version
// read — the object is gone (deleted, or a link to nothing) or its stored
// bytes or metadata do not check out — so that version is not retried; a
// version put later is read as usual.
func unreadable(err error) bool {
	for _, perm := range []error{jetstream.ErrObjectNotFound, jetstream.ErrDigestMismatch,
		jetstream.ErrInvalidDigestFormat, jetstream.ErrBadObjectMeta, jetstream.ErrCantGetBucket} {
		if errors.Is(err, perm) {
			return true
		}
	}
	return false
}

// skip: the version info announces is one Run gave up reading.
func (w *Watcher) skip(info *jetstream.ObjectInfo) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return info.NUID != "" && w.unreadable[info.Name] == info.NUID
}

// giveUp records that the version info announces cannot be read (err wraps
// ErrUnreadable) and logs it, once: the previous model stays, and the next
// version put under the name is read.
func (w *Watcher) giveUp(info *jetstream.ObjectInfo, err error) {
	w.mu.Lock()
	w.unreadable[info.Name] = info.NUID
	w.lastErr = err
	w.mu.Unlock()
	w.log.Error("model object version unreadable; not retrying it, keeping the previous model",
		"object", info.Name, "nuid", info.NUID, "digest", info.Digest, "err", err)
}

// Run follows the object store until ctx ends, applying every model
// object already there and every new version put. Deletions are ignored
// (the current model stays). A read that fails is retried with backoff,
// except a version that cannot be read (ErrUnreadable), which is logged
// once and skipped from then on, replays included. A watch the server
// ends (its updates channel closes while ctx lives) is started again after
// a pause; the new watch replays the latest objects, which Apply ignores
// when their version is already served. Only the first watch's failure is
// returned.
func (w *Watcher) Run(ctx context.Context, store jetstream.ObjectStore) error {
	watcher, err := store.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watch model store: %w", err)
	}
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		if w.follow(ctx, store, watcher) {
			return nil // ctx ended
		}
		w.log.Error("model store watch ended; watching again", "retry_in", delay)
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-w.after(delay):
			}
			if watcher, err = store.Watch(ctx); err == nil {
				break
			}
			w.log.Error("watch model store", "err", err, "retry_in", delay)
		}
	}
}

// follow applies watcher's updates until ctx ends (true) or the watch
// ends (false); it stops watcher either way.
func (w *Watcher) follow(ctx context.Context, store jetstream.ObjectStore, watcher jetstream.ObjectWatcher) bool {
	defer watcher.Stop()
	for {
		select {
		case <-ctx.Done():
			return true
		case info, ok := <-watcher.Updates():
			if !ok {
				return ctx.Err() != nil
			}
			if info == nil || info.Deleted || w.skip(info) {
				continue // nil marks the end of the initial values; skip: logged once
			}
			data, err := w.read(ctx, store, info.Name)
			if errors.Is(err, ErrUnreadable) {
				w.giveUp(info, err)
				continue
			}
			if err != nil {
				return true // ctx ended
			}
			_ = w.Apply(info.Name, data) // logged; the previous model stays
		}
	}
}
