package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/inference"
	"github.com/prescale/prescale/pkg/natstest"
)

// TestTrainCommandWritesAndPublishes trains on one small trace and the
// committed seed dataset, and publishes to a real embedded NATS object store.
func TestTrainCommandWritesAndPublishes(t *testing.T) {
	traces := t.TempDir()
	if err := os.Symlink(testenv.Trace(t, "invitro_azure2019_fullday_5fn_invocations.csv"), filepath.Join(traces, "fullday_5fn_invocations.csv")); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := os.Symlink(filepath.Join(testenv.Root(t), "model", "data"), filepath.Join(out, "data")); err != nil {
		t.Fatal(err)
	}
	s := natstest.Start(t)

	var stdout, stderr bytes.Buffer
	err := runTrain(context.Background(), []string{"--traces", traces, "--out", out, "--publish", s.ClientURL()}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, f := range []string{"REPORT.md", "artefacts/forecaster.json", "artefacts/seed-forest.json", "plots/error_mase.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "published seed-forest-") || !strings.Contains(stdout.String(), "published prescale-peak-") {
		t.Fatalf("stdout:\n%s", stdout.String())
	}

	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := js.ObjectStore(ctx, inference.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{inference.KindReplicaForest, inference.KindForecaster} {
		data, err := store.GetBytes(ctx, inference.ObjectName(kind))
		if err != nil {
			t.Fatal(err)
		}
		written, err := os.ReadFile(filepath.Join(out, "artefacts", map[string]string{
			inference.KindReplicaForest: "seed-forest.json", inference.KindForecaster: "forecaster.json"}[kind]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, written) {
			t.Errorf("published %s differs from the written artefact", kind)
		}
		w := inference.NewWatcher(inference.Set{}, nil)
		if err := w.Apply(inference.ObjectName(kind), data); err != nil {
			t.Errorf("the published %s is refused: %v", kind, err)
		}
	}

	if err := runTrain(context.Background(), []string{"--traces", t.TempDir()}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "no *_invocations.csv") {
		t.Fatalf("empty traces dir: %v", err)
	}
}
