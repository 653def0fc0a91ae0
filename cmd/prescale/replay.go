package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/trace"
)

// runReplay: prescale replay --gateway URL --function NAME --trace FILE
// [--row N|--hash H] [--from M --to M] [--speed X].
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defGW := os.Getenv("OPENFAAS_URL")
	if defGW == "" {
		defGW = "http://127.0.0.1:8080"
	}
	gateway := fs.String("gateway", defGW, "gateway URL (default $OPENFAAS_URL or http://127.0.0.1:8080)")
	function := fs.String("function", "", "function to drive (required)")
	tracePath := fs.String("trace", "", "trace file: Azure 2019 per-minute, Freyr, Azure 2021 (real invocation instants, replayed as they are) or one column of per-minute counts (required)")
	row := fs.Int("row", 0, "0-based row of a multi-function trace")
	hash := fs.String("hash", "", "function hash (or a unique prefix of at least 6 characters) instead of --row")
	from := fs.Int("from", 0, "first minute (0-based offset into the trace)")
	to := fs.Int("to", 0, "end minute, exclusive (0 = end of trace)")
	speed := fs.Float64("speed", 1, "time compression: a trace minute lasts 60/speed seconds")
	seed := fs.Uint64("seed", 1, "seed of the arrival instants (per-minute traces: each minute's exact count, uniform within the minute)")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request timeout")
	maxInFlight := fs.Int("max-inflight", 1000, "concurrent requests at most; later arrivals are dropped and counted")
	body := fs.String("body", "prescale", "request body")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *function == "" || *tracePath == "" {
		fs.Usage()
		return errors.New("--function and --trace are required")
	}
	if *from < 0 || *to < 0 || (*to > 0 && *to <= *from) {
		return fmt.Errorf("--from %d --to %d: need 0 <= from < to (to 0 = end)", *from, *to)
	}
	fns, err := trace.Open(*tracePath)
	if err != nil {
		return err
	}
	fn, err := trace.Select(fns, *row, *hash)
	if err != nil {
		return err
	}
	w := fn.Window(*from, *to)
	if len(w.Counts) == 0 {
		return fmt.Errorf("minutes %d..%d are outside the trace (%d minutes)", *from, *to, len(fn.Counts))
	}
	var progress io.Writer
	if !*quiet {
		progress = stderr
	}
	fmt.Fprintf(stderr, "replaying %d requests over %d trace minutes (%s) at speed %g against %s/function/%s\n",
		int(w.Total()), len(w.Counts), time.Duration(float64(len(w.Counts))*float64(time.Minute) / *speed).Round(time.Second), *speed, *gateway, *function)
	sum, err := replay.Run(ctx, replay.Config{
		Gateway: *gateway, Function: *function, Counts: w.Counts, Times: w.Times, Speed: *speed, Seed: *seed,
		Timeout: *timeout, MaxInFlight: *maxInFlight, Body: []byte(*body), Progress: progress,
	})
	sum.Write(stdout)
	return err
}
