package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// The sweep itself takes minutes (a platform per count); the lead runs it.
// Here: bad flags are refused with their range before anything starts.
func TestBenchControlRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--functions", "10,0"}, "--functions \"10,0\": each count must be an integer in 1..1000"},
		{[]string{"--functions", "ten"}, "each count must be an integer"},
		{[]string{"--functions", "1001"}, "1..1000"},
		{[]string{"--ticks", "1"}, "--ticks 1: must be in 2..120"},
		{[]string{"--period", "100ms"}, "--period 100ms: must be in 1s..1m"},
		{[]string{"--warm", "-1"}, "--warm -1: must be in 0..100"},
		{[]string{"--sleep-ms", "70000"}, "--sleep-ms 70000"},
		{[]string{"--batch-size", "501"}, "--batch-size 501: must be in 0..500"},
		{[]string{"--prefill", "361"}, "--prefill 361: must be in 0..360"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		_, err := parseControlFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"bench-control"}, tc.args...), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, stderr.String())
		}
	}
	// Two bad flags: both reported.
	if _, err := parseControlFlags([]string{"--ticks", "0", "--warm", "999"}, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--ticks") || !strings.Contains(err.Error(), "--warm") {
		t.Errorf("two bad flags: %v", err)
	}
	cp, err := parseControlFlags(nil, io.Discard)
	if err != nil || len(cp.counts) != 3 || cp.counts[2] != 500 || cp.ticks != 12 || cp.period != 5*time.Second {
		t.Fatalf("defaults %+v %v", cp, err)
	}
}

func TestProcessRoles(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"/tmp/x/build/load-probe/handler"}, "load-probe"},
		{[]string{"/usr/local/bin/prescale", "watchdog"}, "watchdog"},
		{[]string{"/usr/bin/python3", "index.py"}, ""},
		{nil, ""},
	} {
		if got := processRole(tc.argv); got != tc.want {
			t.Errorf("processRole(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
	before := map[int]procSample{1: {ticks: 100, role: "plugin"}, 2: {ticks: 50, role: "scaler"}, 3: {ticks: 10, role: "gone"}}
	after := map[int]procSample{1: {ticks: 150, role: "plugin"}, 2: {ticks: 70, role: "scaler"}, 4: {ticks: 30, role: "scaler"}}
	got := cpuByRole(before, after)
	if len(got) != 2 || got["plugin"] != 0.5 || got["scaler"] != 0.5 {
		t.Fatalf("cpuByRole %v", got)
	}
	if cpu, _ := treeTotals(after); cpu != 2.5 {
		t.Fatalf("treeTotals cpu %v", cpu)
	}
}

func TestParseStat(t *testing.T) {
	// The command name holds a space and a ')'.
	line := "4242 (pre scale) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 12 0 1000 123456789 2048 18446744073709551615"
	ppid, ticks, rss, ok := parseStat(line)
	if !ok || ppid != 17 || ticks != 250+50+7+3 || rss != 2048 {
		t.Fatalf("parseStat: ppid %d ticks %d rss %d ok %v", ppid, ticks, rss, ok)
	}
	if _, _, _, ok := parseStat("4242 (short) S 1 2"); ok {
		t.Fatal("a short line parsed")
	}
}

// summarize: ticks by observation time, coverage, latencies; held() is the
// report's verdict.
func TestSummarizeAndReport(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	var recs []decisionRec
	for tick := range 4 {
		at := t0.Add(time.Duration(tick) * 5 * time.Second)
		for fn := range 10 {
			d := time.Duration(100+10*fn) * time.Millisecond
			recs = append(recs, decisionRec{tick: at, decided: d, stored: d + 5*time.Millisecond, scaled: fn == 0 && tick == 0})
		}
	}
	r := summarize(10, 4, recs)
	if r.ticksSeen != 4 || r.meanPeriod != 5*time.Second || r.minCoverage != 1 || r.decisions != 40 || r.scales != 1 ||
		r.decide.p50 != 140*time.Millisecond || r.decide.p99 != 190*time.Millisecond || r.maxTick != 195*time.Millisecond || !r.held() {
		t.Fatalf("summary %+v", r)
	}
	// The last tick decided on only half the functions: not held.
	short := summarize(10, 4, recs[:35])
	if short.minCoverage != 0.5 || short.held() {
		t.Fatalf("short summary %+v", short)
	}
	r.cpuSeconds, r.cpuPerFnTick, r.natsIn, r.natsOut, r.calls, r.peakRSS = 0.8, 0.02, 300, 500, 1, 300<<20
	r.cpuRoles = map[string]float64{"plugin": 0.6, "load-probe": 0.3, "scaler": 0.1}
	big := r
	big.n, big.stored.p99, big.maxTick, big.calls = 500, 2*time.Second, 7*time.Second, 10
	var b bytes.Buffer
	writeControlReport(&b, controlReport{ticks: 4, period: 5 * time.Second, warm: 10, batchSize: 50, prefill: 120, results: []controlResult{r, big}})
	out := b.String()
	for _, want := range []string{
		"| functions | ticks |",
		"| 10 | 4/4 | 5.00 s | 100 % | 140 ms / 190 ms | 145 ms / 195 ms | 195 ms | 1 | 1.0 (10.0) | 20.00 | 300 + 500 | 80.0 | 300 MiB | yes |",
		"| 500 | 4/4 |", "| **no** |",
		"The period held at 10 functions and not at 500.",
		"From 10 to 500 functions the NATS messages per function-tick went from 80.0 to 1.6",
		"pre-filled with 120 idle", fmt.Sprintf("sets a batch at ~%d functions", controlBatchMaxBytes/idlePayloadBytes(120, 5*time.Second)),
		"CPU at 10 functions, by process: plugin 0.60 s (60 %), load-probe 0.30 s (30 %), scaler 0.10 s (10 %).",
		"The largest CPU user at 500 functions was plugin (60 %", "it grows linearly with the count",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if p := controlParagraph(controlReport{}); !strings.Contains(p, "No count") {
		t.Errorf("empty report: %q", p)
	}
}

// procTree reads this very process: it is the root, labelled plugin.
func TestProcTreeOfSelf(t *testing.T) {
	tree, err := procTree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self, ok := tree[os.Getpid()]
	if !ok || self.role != "plugin" || self.pages <= 0 {
		t.Fatalf("self %+v (ok %v) in %d processes", self, ok, len(tree))
	}
	if _, err := procTree(-1); err == nil {
		t.Fatal("a missing root read")
	}
}
