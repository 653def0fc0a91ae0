package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/trace"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/state"
	"github.com/prescale/prescale/plugin"
	"github.com/prescale/prescale/plugin/async"
	"github.com/prescale/prescale/plugin/runtime"
)

// demoConfig is `prescale up --demo`: a short, scaled-down, time-compressed
// replay of a bursty real trace against the workload while the scaler's
// decisions stream to the terminal.
//
// The default window: Azure Functions 2019 (invitro 10-function day),
// function e72c1540681c… (row 3), minutes 485–505: about 535 calls/min, a
// drop to 222 and then seven idle minutes, then a burst straight back to
// 536/min. It is the burstiest window of that file (largest ratio of the
// next minutes' load to the previous minutes'), and it shows both halves of
// the policy: the idle gap does not scale hello-python down at once
// (stabilization) and the burst is met by the scaler within a control period.
// Counts are scaled so the peak is --demo-peak requests/s at the chosen
// speed (4/s: hello-python forks a python process per request, and this
// machine has 2 shared cores), and --demo-speed 10 plays a trace minute in
// 6 s, so the window takes about 2 minutes.
type demoConfig struct {
	enabled  bool
	trace    string
	function string
	hash     string
	from, to int
	speed    float64
	peak     float64
}

const demoDefaultHash = "e72c1540681c01fcedf92b51b790bf3d64dd9e56a5f9d1e02ee9c5471f9dc2fc"

func (d *demoConfig) register(fs *flag.FlagSet) {
	fs.BoolVar(&d.enabled, "demo", false, "replay a bursty trace window against --demo-function and stream the scaler's decisions (make up)")
	fs.StringVar(&d.trace, "demo-trace", "traces/invitro_azure2019_fullday_10fn_invocations.csv", "trace file of the demo (Azure 2019 per-minute format)")
	fs.StringVar(&d.function, "demo-function", "hello-python", "function the demo drives")
	fs.StringVar(&d.hash, "demo-hash", demoDefaultHash, "trace function (HashFunction or a unique prefix)")
	fs.IntVar(&d.from, "demo-from", 485, "first trace minute of the demo window (0-based)")
	fs.IntVar(&d.to, "demo-to", 505, "end trace minute of the window, exclusive")
	fs.Float64Var(&d.speed, "demo-speed", 10, "time compression: a trace minute lasts 60/speed seconds (1..600)")
	fs.Float64Var(&d.peak, "demo-peak", 4, "peak request rate of the scaled-down replay, requests/s (0.1..100)")
}

func (d demoConfig) validate() error {
	var errs []error
	if d.from < 0 || d.to <= d.from {
		errs = append(errs, fmt.Errorf("--demo-from %d --demo-to %d: need 0 <= from < to", d.from, d.to))
	}
	if d.speed < 1 || d.speed > 600 {
		errs = append(errs, fmt.Errorf("--demo-speed %v: must be in 1..600", d.speed))
	}
	if d.peak < 0.1 || d.peak > 100 {
		errs = append(errs, fmt.Errorf("--demo-peak %v: must be in 0.1..100 requests/s", d.peak))
	}
	if d.function == "" {
		errs = append(errs, errors.New("--demo-function: must name a function"))
	}
	return errors.Join(errs...)
}

// counts loads the demo window and scales it so its busiest minute replays
// at peak requests/s once compressed by speed.
func (d demoConfig) counts() ([]float64, string, error) {
	fns, err := trace.Open(d.trace)
	if err != nil {
		return nil, "", err
	}
	fn, err := trace.Select(fns, -1, d.hash)
	if err != nil {
		return nil, "", err
	}
	if d.to > len(fn.Counts) {
		return nil, "", fmt.Errorf("--demo-to %d: the trace has %d minutes", d.to, len(fn.Counts))
	}
	w := fn.Window(d.from, d.to)
	peak := w.Peak()
	if peak <= 0 {
		return nil, "", fmt.Errorf("minutes %d..%d of %s have no calls", d.from, d.to, d.hash)
	}
	// A minute of c calls lasts 60/speed s: c·k·speed/60 req/s at scale k.
	k := d.peak * 60 / (d.speed * peak)
	out := make([]float64, len(w.Counts))
	for i, c := range w.Counts {
		out[i] = c * k
	}
	desc := fmt.Sprintf("function %.12s… minutes %d–%d of %s (peak %.0f calls/min), scaled ×%.4f to a %.1f req/s peak, 1 trace minute = %.1fs",
		d.hash, d.from, d.to, d.trace, peak, k, d.peak, 60/d.speed)
	return out, desc, nil
}

// startDemo prints how to follow the decisions and, with --demo, streams
// them and replays the trace window in the background. The returned wait
// blocks until both have stopped (they stop when ctx ends).
func startDemo(ctx context.Context, p *plugin.Platform, d demoConfig, stdout, stderr io.Writer) (wait func(), err error) {
	natsURL := p.NATSURL()
	tokenFile := filepath.Join(p.DataDir(), "secrets", fnutil.NATSURLSecret)
	fmt.Fprintf(stdout, "NATS: %s (with its token in %s)\nfollow the scaler's decisions with:\n  prescale decisions --nats \"$(cat %s)\" --follow\n",
		async.WithoutCredentials(natsURL), tokenFile, tokenFile)
	if !d.enabled {
		return func() {}, nil
	}
	var wg sync.WaitGroup
	out := stdout
	start := time.Now().Add(-time.Second)

	// Connect creates the decision stream if the scaler has not yet.
	_, nc, err := state.Connect(ctx, natsURL, state.DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(out, "demo: decisions (time, function, observed rps, forecast rps, replicas before → after, reason):")
	// The replay starts with the control loop's first decision: before it
	// (the build, the cron connector's first listing) nobody observes.
	live := make(chan struct{})
	var liveOnce sync.Once
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer nc.Close()
		err := state.ReadDecisions(ctx, nc, state.DefaultConfig().DecisionStream, true, func(dc decide.Decision) error {
			if dc.At.Before(start) { // earlier runs' decisions in the same data dir
				return nil
			}
			liveOnce.Do(func() { close(live) })
			_, err := fmt.Fprintln(out, "decision", dc.Summary())
			return err
		})
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "demo: following decisions: %v\n", err)
		}
	}()

	counts, desc, err := d.counts()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(out, "demo: trace %s not found (run from the repository root?); serving without the replay\n", d.trace)
		return wg.Wait, nil
	case err != nil:
		fmt.Fprintf(out, "demo: cannot use the trace (%v); serving without the replay\n", err)
		return wg.Wait, nil
	}
	fmt.Fprintf(out, "demo: replaying %s against %s, from the control loop's first decision\n", desc, d.function)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-live:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(out, "demo: replay started")
		waits0 := coldStartWaits(p, d.function)
		rs := startReplicaSeconds(ctx, p, d.function)
		sum, err := replay.Run(ctx, replay.Config{
			Gateway: p.URL(), Function: d.function, Counts: counts, Speed: d.speed, Seed: 1,
			Timeout: 30 * time.Second, MaxInFlight: 200,
		})
		replicaSeconds := rs()
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(stderr, "demo: replay: %v\n", err)
			}
			return
		}
		fmt.Fprintln(out, "demo: replay finished; still serving (Ctrl-C stops)")
		fmt.Fprintln(out, demoSummary(sum, coldStartWaits(p, d.function)-waits0, replicaSeconds))
	}()
	return wg.Wait, nil
}

// lockedWriter serialises lines written by the demo's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// demoSummary is the replay's result on one line: requests, cold-start
// waits, latency and the replica-seconds it cost.
func demoSummary(s replay.Summary, waits, replicaSeconds float64) string {
	ok := 0
	for code, n := range s.Status {
		if code/100 == 2 {
			ok += n
		}
	}
	avg := 0.0
	if s.Duration > 0 {
		avg = replicaSeconds / s.Duration.Seconds()
	}
	return fmt.Sprintf("demo summary: %d requests in %.0fs (%d ok, %d errors, %d failed, %d dropped) · cold-start waits %.0f · p50 %.0f ms, p99 %.0f ms · %.0f replica-seconds (%.2f replicas on average)",
		s.Scheduled, s.Duration.Seconds(), ok, s.Completed-ok, s.Failed, s.Dropped, waits,
		1000*s.Percentile(0.5), 1000*s.Percentile(0.99), replicaSeconds, avg)
}

// coldStartWaits reads the runtime's cold-start waits of fn from the
// platform's metrics registry (0 if it cannot be gathered: the summary
// line then says 0).
func coldStartWaits(p *plugin.Platform, fn string) float64 {
	waits, _ := runtime.ColdStartWaits(p.Registry())
	return waits[fn]
}

// startReplicaSeconds integrates fn's replica count over time (sampled every
// 250 ms) until the returned function is called, which returns the total.
func startReplicaSeconds(ctx context.Context, p *plugin.Platform, fn string) func() float64 {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan float64, 1)
	replicas := func() int {
		for _, st := range p.Functions() {
			if st.Spec.Name == fn {
				return st.Replicas
			}
		}
		return 0
	}
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		total, last, n := 0.0, time.Now(), replicas()
		for {
			select {
			case <-ctx.Done():
				done <- total + float64(n)*time.Since(last).Seconds()
				return
			case now := <-t.C:
				total += float64(n) * now.Sub(last).Seconds()
				last, n = now, replicas()
			}
		}
	}()
	return func() float64 {
		cancel()
		return <-done
	}
}
