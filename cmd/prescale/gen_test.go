package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/model"
)

func TestGenCommandRejectsBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--rates", "0,5"}, "--rates"},
		{[]string{"--rates", "10:2:1"}, "--rates"},
		{[]string{"--replicas", "3-1"}, "--replicas"},
		{[]string{"--repeats", "0"}, "--repeats"},
		{[]string{"--window", "10ms"}, "--window"},
		{[]string{"--generator", "magic"}, "want queue, live or plugin"},
		{[]string{"--function-hash", "zzzzzz"}, "matches 0 rows"},
		{[]string{"--generator", "plugin", "--sleep-ms", "-1"}, "--sleep-ms -1: must be in 0..60000"},
		{[]string{"--generator", "queue", "--sleep-ms", "100"}, "--sleep-ms applies to --generator plugin only"},
		{[]string{"--generator", "plugin", "--lang", "node"}, `--lang "node": want python3 or python3-http`},
		{[]string{"--generator", "queue", "--lang", "python3-http"}, "--lang applies to --generator plugin only"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"--out", t.TempDir(), "--durations", testenv.Trace(t, "invitro_azure2019_fullday_10fn_durations.csv")}, tc.args...)
			var out, errb bytes.Buffer
			err := runGen(context.Background(), args, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestGenQueueWritesALabelledDataset(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := runGen(context.Background(), []string{"--generator", "queue", "--out", dir, "--rates", "5,60", "--replicas", "1-6",
		"--repeats", "2", "--window", "10s", "--durations", testenv.Trace(t, "invitro_azure2019_fullday_10fn_durations.csv")}, &out, &errb)
	if err != nil {
		t.Fatal(err)
	}
	ws, man, err := model.ReadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2*6*2 || man.Generator != "queue" || !strings.Contains(man.Description, "Queueing model") || man.Windows != len(ws) {
		t.Fatalf("%d windows, manifest %+v", len(ws), man)
	}
	for _, w := range ws {
		// ~84 ms mean service: 5 rps fits one replica, 60 rps needs several.
		if w.Rate == 5 && w.Label != 1 || w.Rate == 60 && (w.Label < 5 || w.Label > 6) {
			t.Errorf("rate %v labelled %d", w.Rate, w.Label)
		}
	}
}

// TestGenPluginMeasuresHelloPython runs a tiny live sweep on the real
// embedded plugin: hello-python deployed, scaled to 1 and 2 replicas, and
// loaded by hey's requester.
func TestGenPluginMeasuresHelloPython(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the plugin")
	}
	root := testenv.Root(t)
	dir := t.TempDir()
	ctx := context.Background() // no deadline: the windows are the work, the test's timeout the bound
	var out, errb bytes.Buffer
	// bench-live's workload (sleep_ms, one request at a time per replica) in
	// the python3-http template, as the committed measured sweep runs it.
	err := runGen(ctx, []string{"--generator", "plugin", "--root", root, "--out", dir, "--rates", "2", "--replicas", "1,2",
		"--repeats", "1", "--window", "2s", "--slo-p99", "60s", "--sleep-ms", "50", "--lang", "python3-http"}, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	ws, man, err := model.ReadDataset(filepath.Clean(dir))
	if err != nil {
		t.Fatal(err)
	}
	if man.Generator != "plugin" || len(ws) != 2 || man.Params["sleep_ms"] != "50" || man.Params["lang"] != "python3-http" ||
		!strings.Contains(man.Description, "max_inflight 1") || !strings.Contains(man.Description, "no fork per request") {
		t.Fatalf("manifest %+v, %d windows", man, len(ws))
	}
	for i, w := range ws {
		if w.Replicas != i+1 || w.Status200 < 2 || w.P50 <= 0 || w.RPS <= 0 || w.Label != 1 {
			t.Errorf("window %+v", w)
		}
	}
}
