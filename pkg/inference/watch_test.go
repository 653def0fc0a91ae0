package inference

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func startJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS did not start")
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, stopped <-chan struct{}, cond func() bool) {
	t.Helper()
	// No deadline of its own (an update's propagation is the work; the
	// test binary's timeout bounds it): it ends when cond holds, or fails
	// at once when the watcher's Run has returned.
	for !cond() {
		select {
		case <-stopped:
			if cond() {
				return
			}
			t.Fatalf("the watcher stopped before %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestWatcherPicksUpNewModelsAndKeepsThePreviousOnBadOnes(t *testing.T) {
	js := startJetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: DefaultBucket})
	if err != nil {
		t.Fatal(err)
	}
	defaults, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(defaults, nil)
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() { done <- w.Run(ctx, store); close(stopped) }()
	t.Cleanup(func() { cancel(); <-done })

	// A retrained forecaster (another margin) is published and picked up.
	next := retrained(t, defaults, 0.25)
	if next.Version == defaults.Forecaster.Version() {
		t.Fatal("a changed model kept its version")
	}
	if _, err := Publish(ctx, store, &next); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new forecaster", stopped, func() bool { return w.Models().Forecaster.Version() == next.Version })
	if w.Models().Replica.Version() != defaults.Replica.Version() {
		t.Fatal("publishing a forecaster changed the replica model")
	}

	cases := []struct {
		name string
		obj  string
		data func() []byte
		want string
	}{
		{"corrupt bytes", ObjectName(KindForecaster), func() []byte {
			b, _ := next.Marshal()
			return bytes.Replace(b, []byte(`"k":`), []byte(`"k":9`), 1)
		}, "checksum mismatch"},
		{"not JSON", ObjectName(KindForecaster), func() []byte { return []byte("not a model") }, "decode"},
		{"wrong kind under the forecaster's name", ObjectName(KindForecaster), func() []byte {
			b, _ := defaults.Replica.Artefact().Marshal()
			return b
		}, "holds a replica-forest"},
		{"replica model with other features", ObjectName(KindReplicaForest), func() []byte {
			a := *defaults.Replica.Artefact()
			a.Features = append([]string(nil), a.Features...)
			a.Features[0], a.Features[1] = a.Features[1], a.Features[0]
			if err := a.Seal(); err != nil {
				t.Fatal(err)
			}
			b, _ := a.Marshal()
			return b
		}, "differ from the serving model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := w.Applied()
			if _, err := store.PutBytes(ctx, tc.obj, tc.data()); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the refusal", stopped, func() bool {
				err := w.LastError()
				return err != nil && strings.Contains(err.Error(), tc.want)
			})
			if err := w.LastError(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("refusal %v does not wrap ErrInvalid", err)
			}
			m := w.Models()
			if m.Forecaster.Version() != next.Version || m.Replica.Version() != defaults.Replica.Version() || w.Applied() != before {
				t.Fatalf("after a bad artefact the models are %s / %s", m.Forecaster.Version(), m.Replica.Version())
			}
		})
	}

	// A good model after the bad ones is still picked up.
	if _, err := Publish(ctx, store, defaults.Forecaster.Artefact()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the default forecaster again", stopped, func() bool { return w.Models().Forecaster.Version() == defaults.Forecaster.Version() })
	if w.LastError() != nil {
		t.Fatalf("last error after a good model: %v", w.LastError())
	}
}

// An artefact of the version already served (a restarted watch replays the
// store's latest objects) changes nothing and is not counted; another
// version is.
func TestWatcherIgnoresTheServedVersion(t *testing.T) {
	defaults, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(defaults, nil)
	same, err := defaults.Forecaster.Artefact().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := w.Apply(ObjectName(KindForecaster), same); err != nil || w.Applied() != 0 {
			t.Fatalf("re-applying the served version: %v, applied %d (want 0)", err, w.Applied())
		}
	}
	next := retrained(t, defaults, 0.25)
	b, err := next.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Apply(ObjectName(KindForecaster), b); err != nil || w.Applied() != 1 || w.Models().Forecaster.Version() != next.Version {
		t.Fatalf("a new version: %v, applied %d, serving %s", err, w.Applied(), w.Models().Forecaster.Version())
	}
	if err := w.Apply(ObjectName(KindForecaster), b); err != nil || w.Applied() != 1 {
		t.Fatalf("the new version again: %v, applied %d (want 1)", err, w.Applied())
	}
}

// retrained is the default forecaster with its margin k raised by dk,
// sealed (a new version).
func retrained(t *testing.T, defaults Set, dk float64) Artefact {
	t.Helper()
	next := *defaults.Forecaster.Artefact()
	spec := *next.Forecaster
	spec.Params = map[string]float64{}
	for k, v := range defaults.Forecaster.Artefact().Forecaster.Params {
		spec.Params[k] = v
	}
	spec.Params["k"] += dk
	next.Forecaster = &spec
	if err := next.Seal(); err != nil {
		t.Fatal(err)
	}
	return next
}

// scriptedStore is an object store whose Watch hands out updates and whose
// GetBytes answers from reads: per version (the NUID of what it holds under
// the name), a list of answers, the last one repeated. Only Watch and
// GetBytes are implemented.
type scriptedStore struct {
	jetstream.ObjectStore
	updates chan *jetstream.ObjectInfo

	mu      sync.Mutex
	current map[string]string // name → NUID held
	answers map[string][]readAnswer
	reads   map[string]int // per NUID
}

type readAnswer struct {
	data []byte
	err  error
}

func (s *scriptedStore) Watch(context.Context, ...jetstream.WatchOpt) (jetstream.ObjectWatcher, error) {
	return scriptedWatcher{s.updates}, nil
}

func (s *scriptedStore) GetBytes(_ context.Context, name string, _ ...jetstream.GetObjectOpt) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nuid := s.current[name]
	as := s.answers[nuid]
	a := as[min(s.reads[nuid], len(as)-1)]
	s.reads[nuid]++
	return a.data, a.err
}

// put makes nuid the version held under name, read with answers, and
// announces it.
func (s *scriptedStore) put(name, nuid string, answers ...readAnswer) {
	s.mu.Lock()
	s.current[name], s.answers[nuid] = nuid, answers
	s.mu.Unlock()
	s.updates <- &jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: name}, NUID: nuid, Digest: "SHA-256=" + nuid}
}

// settle returns once the watcher has handled every update sent before:
// updates is unbuffered and handled in order, so the nil marker (ignored)
// is taken only after them.
func (s *scriptedStore) settle() { s.updates <- nil }

func (s *scriptedStore) readsOf(nuid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[nuid]
}

type scriptedWatcher struct{ c chan *jetstream.ObjectInfo }

func (w scriptedWatcher) Updates() <-chan *jetstream.ObjectInfo { return w.c }
func (w scriptedWatcher) Stop() error                           { return nil }

// A version that cannot be read (its chunks do not match its digest, or it
// is gone) is read once, logged once, skipped when announced again, and the
// previous model stays; the next version is read, a transient failure of it
// retried with the backoff (a fake timer: no wall-clock wait), and served.
func TestWatcherGivesUpOnAnUnreadableVersionAndLoadsTheNext(t *testing.T) {
	defaults, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	// Read only between settle()s, while the watcher waits for an update.
	var logs bytes.Buffer
	w := NewWatcher(defaults, slog.New(slog.NewTextHandler(&logs, nil)))
	var waitsMu sync.Mutex
	var waits []time.Duration
	w.after = func(d time.Duration) <-chan time.Time {
		waitsMu.Lock()
		waits = append(waits, d)
		waitsMu.Unlock()
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	store := &scriptedStore{updates: make(chan *jetstream.ObjectInfo), current: map[string]string{},
		answers: map[string][]readAnswer{}, reads: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, store) }()
	t.Cleanup(func() { cancel(); <-done })

	name := ObjectName(KindForecaster)
	for i, bad := range []error{jetstream.ErrDigestMismatch, jetstream.ErrObjectNotFound} {
		nuid := fmt.Sprintf("bad-%d", i)
		store.put(name, nuid, readAnswer{err: bad})
		store.put(name, nuid, readAnswer{err: bad}) // announced again (a restarted watch's replay)
		store.settle()
		if n := store.readsOf(nuid); n != 1 {
			t.Fatalf("%v: the unreadable version was read %d times, want 1", bad, n)
		}
		if err := w.LastError(); !errors.Is(err, ErrUnreadable) || !errors.Is(err, bad) {
			t.Fatalf("%v: last error %v, want ErrUnreadable wrapping it", bad, err)
		}
		if n := strings.Count(logs.String(), "nuid="+nuid); n != 1 {
			t.Fatalf("%v: %d log lines name the version, want 1:\n%s", bad, n, logs.String())
		}
		if v := w.Models().Forecaster.Version(); v != defaults.Forecaster.Version() || w.Applied() != 0 {
			t.Fatalf("%v: serving %s (applied %d), want the previous model", bad, v, w.Applied())
		}
	}
	if len(waits) != 0 {
		t.Fatalf("an unreadable version was waited on: %v", waits)
	}

	next := retrained(t, defaults, 0.25)
	good, err := next.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	store.put(name, "good", readAnswer{err: nats.ErrTimeout}, readAnswer{err: nats.ErrTimeout}, readAnswer{data: good})
	store.settle()
	if v := w.Models().Forecaster.Version(); v != next.Version || w.Applied() != 1 || w.LastError() != nil {
		t.Fatalf("the next version: serving %s, applied %d, last error %v", v, w.Applied(), w.LastError())
	}
	waitsMu.Lock()
	defer waitsMu.Unlock()
	if n := store.readsOf("good"); n != 3 || !slices.Equal(waits, []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}) {
		t.Fatalf("a transient failure: %d reads, waits %v; want 3 reads after waits of 50ms and 100ms", n, waits)
	}
}
