package state_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/natstest"
	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/pkg/state"
)

func open(t *testing.T, cfg state.Config) (*state.Store, *nats.Conn) {
	t.Helper()
	srv := natstest.Start(t)
	ctx := context.Background()
	s, nc, err := state.Connect(ctx, srv.ClientURL(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return s, nc
}

func TestHistoryBoundedAndConcurrent(t *testing.T) {
	cfg := state.DefaultConfig()
	cfg.HistoryLen = 50
	s, _ := open(t, cfg)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := s.AppendHistory(ctx, "fn", decide.Sample{Function: "fn", RPS: float64(w*100 + i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	h, err := s.History(ctx, "fn")
	if err != nil || len(h) != 40 {
		t.Fatalf("history %d samples, err %v; want 40 (none lost to concurrent updates)", len(h), err)
	}
	for i := 0; i < 20; i++ {
		if _, err := s.AppendHistory(ctx, "fn", decide.Sample{Function: "fn", RPS: 1000 + float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	h, _ = s.History(ctx, "fn")
	if len(h) != 50 || h[len(h)-1].RPS != 1019 || h[len(h)-20].RPS != 1000 {
		t.Fatalf("bounded history: len %d last %v", len(h), h[len(h)-1].RPS)
	}
	if h, err := s.History(ctx, "other"); err != nil || h != nil {
		t.Fatalf("missing history: %v %v", h, err)
	}
	if _, err := s.AppendHistory(ctx, "bad name!", decide.Sample{}); err == nil {
		t.Fatal("bad key accepted")
	}
}

func TestSnapshotsPolicyAndDecisions(t *testing.T) {
	s, nc := open(t, state.DefaultConfig())
	ctx := context.Background()
	if _, ok, err := s.LoadSnapshot(ctx, "fn"); ok || err != nil {
		t.Fatalf("empty snapshot: %v %v", ok, err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	want := source.Snapshot{At: at, Codes: map[string]float64{"200": 5}, Started: 6, Replicas: 2}
	if err := s.SaveSnapshot(ctx, "fn", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.LoadSnapshot(ctx, "fn")
	if err != nil || !ok || got.Codes["200"] != 5 || !got.At.Equal(at) || got.Started != 6 {
		t.Fatalf("snapshot %+v %v %v", got, ok, err)
	}

	for i := 1; i <= 3; i++ {
		err := s.UpdatePolicy(ctx, "fn", func(st decide.State) (decide.State, error) {
			st.Function = "fn"
			st.Recommendations = append(st.Recommendations, decide.Recommendation{At: at, Replicas: i})
			return st, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Policy(ctx, "fn")
	if err != nil || len(st.Recommendations) != 3 || st.Recommendations[2].Replicas != 3 {
		t.Fatalf("policy %+v %v", st, err)
	}

	for i := 0; i < 5; i++ {
		if err := s.AppendDecision(ctx, decide.Decision{Function: "fn", Before: i, After: i + 1, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int
	err = state.ReadDecisions(ctx, nc, state.DefaultConfig().DecisionStream, false, func(d decide.Decision) error {
		seen = append(seen, d.After)
		return nil
	})
	if err != nil || len(seen) != 5 || seen[4] != 5 {
		t.Fatalf("decisions %v err %v", seen, err)
	}
	// Stored times come with them, in order, none before the appends began.
	var stored []time.Time
	err = state.ReadStoredDecisions(ctx, nc, state.DefaultConfig().DecisionStream, func(d decide.Decision, at time.Time) error {
		stored = append(stored, at)
		return nil
	})
	if err != nil || len(stored) != 5 || stored[0].IsZero() || stored[4].Before(stored[0]) {
		t.Fatalf("stored times %v err %v", stored, err)
	}

	// follow: a decision appended later is delivered, then ctx ends the read.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got6 := make(chan struct{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = s.AppendDecision(ctx, decide.Decision{Function: "fn", After: 6})
	}()
	n := 0
	err = state.ReadDecisions(fctx, nc, state.DefaultConfig().DecisionStream, true, func(d decide.Decision) error {
		n++
		if d.After == 6 {
			close(got6)
			cancel()
		}
		return nil
	})
	select {
	case <-got6:
	default:
		t.Fatalf("followed decision not delivered (n=%d, err %v)", n, err)
	}
}

func TestNATSDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := state.Connect(ctx, "nats://127.0.0.1:1", state.DefaultConfig())
	if err == nil {
		t.Fatal("connected to nothing")
	}
	cfg := state.DefaultConfig()
	cfg.HistoryLen = 0
	srv := natstest.Start(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := state.Open(ctx, nc, cfg); err == nil {
		t.Fatal("history length 0 accepted")
	}
}

// Every bucket and the decision stream are bounded; a value over the
// value bound is refused with an error, not stored.
func TestBucketsAreBounded(t *testing.T) {
	srv := natstest.Start(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	cfg := state.DefaultConfig()
	cfg.ValueMaxBytes = 64 << 10
	if _, err := state.Open(context.Background(), nc, cfg); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, b := range []string{cfg.HistoryBucket, cfg.CountersBucket, cfg.PolicyBucket, cfg.ArrivalsBucket} {
		kv, err := js.KeyValue(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
		if info.Config.MaxBytes != cfg.BucketMaxBytes || info.Config.MaxMsgSize != cfg.ValueMaxBytes {
			t.Errorf("bucket %s: max bytes %d, max value %d; want %d, %d", b, info.Config.MaxBytes, info.Config.MaxMsgSize, cfg.BucketMaxBytes, cfg.ValueMaxBytes)
		}
		if b == cfg.HistoryBucket {
			if _, err := kv.Put(ctx, "big", make([]byte, 65<<10)); err == nil {
				t.Errorf("a 65 KiB value in %s was stored; want it refused", b)
			}
		}
	}
	ds, err := js.Stream(ctx, cfg.DecisionStream)
	if err != nil {
		t.Fatal(err)
	}
	if c := ds.CachedInfo().Config; c.MaxBytes != cfg.DecisionMaxBytes || c.MaxMsgs != cfg.DecisionMaxMsgs || c.MaxAge != cfg.DecisionMaxAge {
		t.Errorf("decision stream limits %d bytes, %d msgs, %s", c.MaxBytes, c.MaxMsgs, c.MaxAge)
	}
	cfg.HistoryLen = 2001
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "1..2000") {
		t.Errorf("history length 2001: %v", err)
	}
}
