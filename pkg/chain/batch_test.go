package chain

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
)

// A batch survives the wire under its one signature; changing any item,
// or presenting an item's or the other leg's signature, fails.
func TestBatchSignatures(t *testing.T) {
	now := time.Date(2026, 12, 2, 1, 2, 3, 456789123, time.UTC)
	item := func(fn string) ProbePayload {
		return ProbePayload{Function: fn, At: now, Source: "gateway", History: []decide.Sample{{Function: fn, At: now, Interval: 5, RPS: 1.0 / 3}},
			Labels: map[string]string{"prescale.enabled": "true"}, Replicas: 1}
	}
	b := ProbeBatch{At: now, Source: "gateway", Items: []ProbePayload{item("a"), item("b")}}
	if err := b.Sign(testKeys, now, "nonce-1"); err != nil {
		t.Fatal(err)
	}
	wire, _ := json.Marshal(b)
	var got ProbeBatch
	if err := json.Unmarshal(wire, &got); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(testKeys, now, time.Minute); err != nil {
		t.Fatalf("batch after the wire: %v", err)
	}
	got.Items[1].Replicas = 2
	if err := got.Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrBadSig) {
		t.Fatalf("changed item verified: %v", err)
	}
	if err := (ProbeBatch{}).Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	one := item("a")
	if err := one.Sign(testKeys, now, "nonce-2"); err != nil {
		t.Fatal(err)
	}
	if err := (ProbeBatch{At: now, Items: []ProbePayload{item("a")}, Auth: one.Auth}).Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrBadSig) {
		t.Fatalf("an item's signature verified a batch: %v", err)
	}

	pb := PredictionBatch{At: now, Predictions: []Prediction{{Function: "a", At: now, Replicas: 3}}, Errors: []ItemError{{Index: 1, Function: "b", Error: "x"}}}
	if err := pb.Sign(testKeys, now, "call-1"); err != nil {
		t.Fatal(err)
	}
	wire, _ = json.Marshal(pb)
	var back PredictionBatch
	if err := json.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(testKeys, now, time.Minute); err != nil {
		t.Fatalf("prediction batch after the wire: %v", err)
	}
	if err := back.Verify(testKeys, now.Add(2*time.Minute), time.Minute); !errors.Is(err, chainauth.ErrStale) {
		t.Fatalf("stale batch: %v", err)
	}
	back.Predictions[0].Replicas = 9
	if err := back.Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrBadSig) {
		t.Fatalf("changed prediction verified: %v", err)
	}
	// A probe batch's signature is not a prediction batch's.
	if err := (PredictionBatch{At: now, Auth: b.Auth}).Verify(testKeys, now, time.Minute); !errors.Is(err, chainauth.ErrBadSig) {
		t.Fatalf("a probe batch's signature verified a prediction batch: %v", err)
	}
}

func TestCheckSizeAndIsBatch(t *testing.T) {
	if err := CheckSize(0); !errors.Is(err, ErrEmptyBatch) {
		t.Fatal(err)
	}
	if err := CheckSize(MaxBatch); err != nil {
		t.Fatal(err)
	}
	if err := CheckSize(MaxBatch + 1); !errors.Is(err, ErrBatchTooLarge) || SizeStatus(err) != 413 {
		t.Fatal(err, SizeStatus(err))
	}
	if s := SizeStatus(CheckSize(0)); s != 400 {
		t.Fatalf("empty batch: status %d, want 400", s)
	}
	for body, want := range map[string]bool{`{"items":[]}`: true, `{"predictions":[]}`: true, `{"function":"f","history":[]}`: false} {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &keys); err != nil {
			t.Fatal(err)
		}
		if IsBatch(keys) != want {
			t.Fatalf("IsBatch(%s) = %v", body, !want)
		}
	}
}
