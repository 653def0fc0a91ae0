package main

import (
	"bytes"
	"context"
	"testing"
)

// The live A/B itself takes minutes (two platform runs); `make bench-live`
// runs it. Here: bad input is refused before anything starts.
func TestBenchLiveRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"bench-live", "--after", "0"},
		{"bench-live", "--speed", "0"},
		{"bench-live", "--peak", "-1"},
		{"bench-live", "--startup-delay", "lognormal:2s,0.3,1h"},
		{"bench-live", "--policies", "hpa,nope"},
		{"bench-live", "--trace", "/nonexistent.csv"},
		{"bench-live", "--trace", "/nonexistent.csv", "extra"},
		{"bench-live", "--zero-speed", "100"}, // a trace minute in 0.6 s: finer than the 2 s period
		{"bench-live", "--zero-period", "0"},
		{"bench-live", "--windows", "burst,nope"},
		{"bench-live", "--zero-policies", "prescale,hpa"}, // hpa has no zero mode here
		{"bench-live", "--prewarm-lead", "-1s"},
		{"bench-live", "--zero-budget", "5"},
		{"bench-live", "--plan", "--zero-budget", "10", "--trace", "../../traces/invitro_azure2021_first998_invocations.csv"}, // no timer fits in 10 s
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code == 0 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

func TestBurstWindowAndScale(t *testing.T) {
	w, err := burstWindow([]float64{5, 6, 5, 30, 8, 7, 9, 50}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	// rises: 1, -1, 25, -22, -1, 2, 41 (minute 7, but 7+2 > 8 minutes), so minute 3.
	if w != (window{from: 2, to: 5, burst: 3}) {
		t.Fatalf("window %+v, want minutes 2..4 around the burst at 3", w)
	}
	// the peak minute (30) at speed 6 lasts 10 s: 6 replicas × 1 s service = 6 req/s = 60 requests.
	got := scaleToPeak([]float64{5, 30, 8}, 6, 1, 6)
	if got[1] != 60 || got[0] != 10 || got[2] != 16 {
		t.Fatalf("scaled %v, want [10 60 16]", got)
	}
	if _, err := burstWindow([]float64{1}, 0, 1); err == nil {
		t.Fatal("a 1-minute series accepted")
	}
}

func TestSpread(t *testing.T) {
	if s := spread([]float64{3, 1, 2}, "%.0f"); s != "2 [1–3]" {
		t.Fatalf("spread %q", s)
	}
	if s := spread([]float64{4, 4}, "%.0f"); s != "4" {
		t.Fatalf("spread %q", s)
	}
}
