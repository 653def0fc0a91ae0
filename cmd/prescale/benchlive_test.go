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
		{"bench-live", "--minutes", "0"},
		{"bench-live", "--speed", "0"},
		{"bench-live", "--load", "-1"},
		{"bench-live", "--trace", "/nonexistent.csv"},
		{"bench-live", "--trace", "/nonexistent.csv", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code == 0 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}
