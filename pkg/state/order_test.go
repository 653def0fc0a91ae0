package state_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/pkg/state"
)

// Overlapping load-probe runs: a run that appends after a later run's
// sample is stored appends nothing (ErrOutOfOrder), and a batch keeps time
// order, so the history never goes back in time nor repeats a sample.
func TestHistoryStaysInTimeOrder(t *testing.T) {
	s, _ := open(t, state.DefaultConfig())
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(sec int) decide.Sample {
		return decide.Sample{Function: "fn", At: t0.Add(time.Duration(sec) * time.Second), RPS: float64(sec)}
	}
	if _, err := s.AppendHistory(ctx, "fn", at(10)); err != nil {
		t.Fatal(err)
	}
	h, err := s.AppendHistory(ctx, "fn", at(5))
	if !errors.Is(err, state.ErrOutOfOrder) {
		t.Fatalf("older sample appended: %v %+v", err, h)
	}
	if _, err := s.AppendHistory(ctx, "fn", at(10)); !errors.Is(err, state.ErrOutOfOrder) {
		t.Fatalf("repeated sample appended: %v", err)
	}
	// A batch: the stale part is dropped, the newer part kept in order.
	h, err = s.AppendHistory(ctx, "fn", at(8), at(15), at(12), at(20))
	if err != nil {
		t.Fatal(err)
	}
	var secs []float64
	for _, smp := range h {
		secs = append(secs, smp.RPS)
	}
	if len(secs) != 3 || secs[0] != 10 || secs[1] != 15 || secs[2] != 20 {
		t.Fatalf("history %v, want [10 15 20]", secs)
	}
	// Concurrent runs at distinct times: whatever the interleaving, the
	// stored history is strictly increasing and every sample appears once.
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				_, err := s.AppendHistory(ctx, "fn2", at(100+i*4+w))
				if err != nil && !errors.Is(err, state.ErrOutOfOrder) {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	h, _ = s.History(ctx, "fn2")
	for i := 1; i < len(h); i++ {
		if !h[i].At.After(h[i-1].At) {
			t.Fatalf("history not in time order at %d: %s after %s", i, h[i].At, h[i-1].At)
		}
	}
	if len(h) == 0 {
		t.Fatal("nothing appended")
	}
}

// Overlapping observations: two runs whose scrapes were taken at t2 then
// t1 (the earlier run stores last) — the late one gets ErrOverlap and
// stores nothing, so the next interval starts at t2 and no interval is
// counted twice.
func TestSnapshotCompareAndSet(t *testing.T) {
	s, _ := open(t, state.DefaultConfig())
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := source.Gateway{Store: s}
	snaps := func(n float64) map[string]source.Snapshot {
		return map[string]source.Snapshot{"fn": {Codes: map[string]float64{"200": n}, Started: n, Replicas: 1}}
	}
	if _, err := g.ObserveFrom(ctx, snaps(0), "fn", t0); err != nil {
		t.Fatal(err)
	}
	later, err := g.ObserveFrom(ctx, snaps(100), "fn", t0.Add(10*time.Second))
	if err != nil || later.RPS != 10 {
		t.Fatalf("sample %+v %v", later, err)
	}
	if _, err := g.ObserveFrom(ctx, snaps(50), "fn", t0.Add(5*time.Second)); !errors.Is(err, source.ErrOverlap) {
		t.Fatalf("the overlapping older run observed: %v", err)
	}
	if _, err := g.ObserveFrom(ctx, snaps(100), "fn", t0.Add(10*time.Second)); !errors.Is(err, source.ErrOverlap) {
		t.Fatalf("the same instant observed twice: %v", err)
	}
	snap, ok, err := s.LoadSnapshot(ctx, "fn")
	if err != nil || !ok || !snap.At.Equal(t0.Add(10*time.Second)) || snap.Completed() != 100 {
		t.Fatalf("stored counters %+v %v %v", snap, ok, err)
	}
	// Concurrent updates are serialised: none is lost.
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				err := s.UpdateSnapshot(ctx, "count", func(prev source.Snapshot, ok bool) (source.Snapshot, error) {
					prev.Started++
					return prev, nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if snap, _, _ := s.LoadSnapshot(ctx, "count"); snap.Started != 20 {
		t.Fatalf("concurrent counter updates: %v, want 20", snap.Started)
	}
}

// seenStore is a store with a seen-id bucket (ids kept a minute).
func seenStore(t *testing.T) *state.Store {
	t.Helper()
	cfg := state.DefaultConfig()
	cfg.SeenTTL = time.Minute
	s, _ := open(t, cfg)
	return s
}

func TestMarkSeen(t *testing.T) {
	s, ctx, now := seenStore(t), context.Background(), time.Now()
	if _, err := s.MarkSeen(ctx, "call-1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkSeen(ctx, "call-1", now); !errors.Is(err, state.ErrSeen) {
		t.Fatalf("replayed id: %v", err)
	}
	if _, err := s.MarkSeen(ctx, "call/2 with any characters", now); err != nil {
		t.Fatalf("another id: %v", err)
	}
	plain, _ := open(t, state.DefaultConfig())
	if _, err := plain.MarkSeen(ctx, "x", now); !errors.Is(err, state.ErrNoSeenBucket) {
		t.Fatalf("no bucket: %v", err)
	}
	if err := plain.Unmark(ctx, state.SeenMark{}); !errors.Is(err, state.ErrNoSeenBucket) {
		t.Fatalf("unmark without a bucket: %v", err)
	}
	bad := state.DefaultConfig()
	bad.SeenTTL, bad.SeenMaxBytes = time.Minute, 10
	if err := bad.Validate(); err == nil {
		t.Fatal("a 10-byte seen bucket validated")
	}
}

// Unmark releases the id its mark recorded: the id is accepted again, once;
// a stale mark (the id released and marked since) removes nothing.
func TestUnmarkReleasesOnlyItsOwnMark(t *testing.T) {
	s, ctx, now := seenStore(t), context.Background(), time.Now()
	first, err := s.MarkSeen(ctx, "call-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Unmark(ctx, first); err != nil {
		t.Fatal(err)
	}
	second, err := s.MarkSeen(ctx, "call-1", now)
	if err != nil {
		t.Fatalf("marking a released id: %v", err)
	}
	if _, err := s.MarkSeen(ctx, "call-1", now); !errors.Is(err, state.ErrSeen) {
		t.Fatalf("the id marked again is not seen: %v", err)
	}
	// The first mark is stale: releasing it again leaves the second.
	if err := s.Unmark(ctx, first); err != nil {
		t.Fatalf("a stale mark: %v", err)
	}
	if _, err := s.MarkSeen(ctx, "call-1", now); !errors.Is(err, state.ErrSeen) {
		t.Fatalf("a stale Unmark removed the current mark: %v", err)
	}
	if err := s.Unmark(ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkSeen(ctx, "call-1", now); err != nil {
		t.Fatalf("marking after the second release: %v", err)
	}
}
