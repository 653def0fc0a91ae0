package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/natstest"
	"github.com/prescale/prescale/pkg/state"
)

func TestDecisionsCommand(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	var out, errb bytes.Buffer
	// Before the scaler ever ran: a clear error.
	if code := run(ctx, []string{"decisions", "--nats", srv.ClientURL()}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "has the scaler run") {
		t.Fatalf("empty log: code %d stderr %q", code, errb.String())
	}
	if err := runDecisions(ctx, []string{"--nats", srv.ClientURL()}, &out, &errb); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("empty log: %v, want it to wrap jetstream.ErrStreamNotFound", err)
	}
	st, nc, err := state.Connect(ctx, srv.ClientURL(), state.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i, fn := range []string{"hello", "other", "hello"} {
		d := decide.Decision{Function: fn, At: at.Add(time.Duration(i) * time.Second), Before: 1, After: 3 + i, Predicted: 3 + i,
			Observed: decide.Sample{P50: 0.1, P90: 0.2, P99: 0.3, Status200: 10, Status500: 2, RPS: 12}, ForecastState: "used",
			Model: "holt-peak", ModelVersion: "1", Reason: "scale up 1 → 3, ahead"}
		if err := st.AppendDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"decisions", "--nats", srv.ClientURL(), "--csv", "--function", "hello"}, &out, &errb); code != 0 {
		t.Fatalf("code %d: %s", code, errb.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0][:5], ",") != "timestamp,function,predicted_replicas,current_replicas,new_replicas" {
		t.Fatalf("csv %v", recs)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	r := recs[2]
	if r[col["function"]] != "hello" || r[col["new_replicas"]] != "5" || r[col["failure_ratio"]] != "2.2" || r[col["model"]] != "holt-peak" || r[col["reason"]] != "scale up 1 → 3, ahead" {
		t.Fatalf("row %v", r)
	}
	out.Reset()
	if code := run(ctx, []string{"decisions", "--nats", srv.ClientURL()}, &out, &errb); code != 0 || strings.Count(out.String(), "\n") != 3 || !strings.Contains(out.String(), "1 → 4") {
		t.Fatalf("text: code %d %q", code, out.String())
	}
}
