package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/trace"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/plugin"
)

// runBenchLive is `prescale bench-live`: the live A/B on the plugin. It
// replays one bursty trace window, time-compressed, at hello-python twice —
// once with the scaler predictive (prescale) and once with it in reactive
// mode (forecasts ignored: an HPA-like baseline through the same chain) —
// on a fresh platform each time, and measures with the replay driver:
// latency percentiles, requests that waited, replica-seconds.
func runBenchLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		stack    = fs.String("f", "stack.yml", "stack file")
		out      = fs.String("out", "bench", "directory for live.md")
		tracePth = fs.String("trace", "traces/invitro_azure2021_first998_invocations.csv", "trace; every function's counts are summed into one series")
		from     = fs.Int("from", 20, "first minute of the window (0-based)")
		minutes  = fs.Int("minutes", 16, "minutes of the window")
		speed    = fs.Float64("speed", 6, "time compression (a trace minute lasts 60/speed seconds)")
		delay    = fs.Duration("startup-delay", 3*time.Second, "hello-python's prescale.startup-delay annotation (a replica start)")
		schedule = fs.String("schedule", "@every 2s", "load-probe's cron schedule (the control period)")
		horizon  = fs.Duration("horizon", 12*time.Second, "predictor's forecast horizon")
		target   = fs.String("target-concurrency", "0.2", "hello-python's prescale.target-concurrency label (this machine serves only a few requests/s)")
		waitOver = fs.Duration("waited", time.Second, "a request whose latency exceeds this waited (for a replica start or a slot)")
		seed     = fs.Uint64("seed", 1, "arrival seed (both runs replay the same requests)")
		load     = fs.Float64("load", 1, "multiply every minute's count (heavier bursts on a bigger machine)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *minutes < 1 || *from < 0 || !(*speed > 0) || *delay < 0 || *waitOver <= 0 || !(*load > 0) || *load > 1000 {
		return errors.New("need --minutes >= 1, --from >= 0, --speed > 0, --startup-delay >= 0, --waited > 0 and --load in (0, 1000]")
	}
	fns, err := trace.Open(*tracePth)
	if err != nil {
		return err
	}
	var counts []float64
	for _, f := range fns {
		w := f.Window(*from, *from+*minutes)
		for i, c := range w.Counts {
			for len(counts) <= i {
				counts = append(counts, 0)
			}
			counts[i] += c * *load
		}
	}
	if len(counts) == 0 {
		return fmt.Errorf("trace %s has no minutes in [%d, %d)", *tracePth, *from, *from+*minutes)
	}
	stackAbs, err := filepath.Abs(*stack)
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	var results []liveResult
	for _, mode := range []string{"predictive", "reactive"} {
		fmt.Fprintf(stderr, "bench-live: %s run (%d minutes at speed %g)\n", mode, len(counts), *speed)
		r, err := liveRun(ctx, liveParams{
			stack: stackAbs, mode: mode, schedule: *schedule, horizon: *horizon, delay: *delay, target: *target,
			counts: counts, speed: *speed, seed: *seed, waitOver: *waitOver, log: stderr,
		})
		if err != nil {
			return fmt.Errorf("%s run: %w", mode, err)
		}
		results = append(results, r)
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "## Live A/B on the plugin\n\n")
	fmt.Fprintf(&md, "`make bench-live` (`prescale bench-live`): %s, every function's per-minute counts summed, minutes %d–%d (%v requests a minute),\n",
		filepath.Base(*tracePth), *from, *from+len(counts)-1, counts)
	fmt.Fprintf(&md, "replayed at speed %g (a trace minute in %.0f s) at hello-python with `prescale.startup-delay: %s` and `prescale.target-concurrency: %s`,\n",
		*speed, 60 / *speed, *delay, *target)
	fmt.Fprintf(&md, "on a fresh plugin for each run, load-probe on `%s`, predictor horizon %s. *prescale* = scaler `scaler_mode=predictive`; *reactive* =\n", *schedule, *horizon)
	fmt.Fprintf(&md, "scaler `scaler_mode=reactive` (forecasts ignored: what current load needs, same tolerance and stabilization — an HPA-like baseline through\n")
	fmt.Fprintf(&md, "the same chain). Measured by the replay driver in the same run: *waited* = responses slower than %s (a replica start is %s;\n", *waitOver, *delay)
	fmt.Fprintf(&md, "hello-python itself takes tens of ms), *replica-seconds* = ∫ desired replicas dt polled every 250 ms through the gateway API.\n\n")
	fmt.Fprintf(&md, "| run | requests | responses | non-200 | waited | p50 | p95 | p99 | replica-seconds | peak replicas |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Fprintf(&md, "| %s | %d | %d | %d | %d | %.3fs | %.3fs | %.3fs | %.0f | %d |\n", r.name, r.sum.Scheduled, r.sum.Completed,
			r.sum.Completed-r.sum.Status[http.StatusOK]+r.sum.Failed, r.waited,
			r.sum.Percentile(0.5), r.sum.Percentile(0.95), r.sum.Percentile(0.99), r.replicaSeconds, r.peak)
	}
	fmt.Fprintf(&md, "\nThis machine has 2 shared cores, so the absolute latencies include CPU contention with the platform itself; the two runs\n")
	fmt.Fprintf(&md, "replay identical arrivals one after the other.\n")
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "live.md"), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write live.md: %w", err)
	}
	return nil
}

type liveParams struct {
	stack, mode, schedule, target string
	horizon, delay, waitOver      time.Duration
	counts                        []float64
	speed                         float64
	seed                          uint64
	log                           io.Writer
}

type liveResult struct {
	name           string
	sum            replay.Summary
	waited         int
	replicaSeconds float64
	peak           uint64
}

func liveRun(ctx context.Context, lp liveParams) (liveResult, error) {
	for k, v := range map[string]string{"PRESCALE_SCHEDULE": lp.schedule, "PRESCALE_HORIZON": lp.horizon.String(),
		"PRESCALE_FORECAST_ONLY": "false", "PRESCALE_SCALER_MODE": lp.mode} {
		if err := os.Setenv(k, v); err != nil {
			return liveResult{}, fmt.Errorf("setenv %s: %w", k, err)
		}
	}
	dir, err := os.MkdirTemp("", "prescale-bench-live-")
	if err != nil {
		return liveResult{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(filepath.Join(dir, "platform.log"))
	if err != nil {
		return liveResult{}, fmt.Errorf("log: %w", err)
	}
	defer logf.Close()
	p, err := plugin.New(plugin.Config{Port: 0, DataDir: dir, StackFile: lp.stack, Deploy: true, SkipTests: true},
		slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		return liveResult{}, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.Close(cctx)
	}()
	if err := p.Start(ctx); err != nil {
		return liveResult{}, fmt.Errorf("start platform: %w", err)
	}
	gw := liveGateway{url: p.URL(), user: p.User(), pw: p.Password()}
	if err := gw.waitReady(ctx, "hello-python", "load-probe", "predictor", "scaler"); err != nil {
		return liveResult{}, err
	}
	err = gw.update(ctx, "hello-python", func(fd *types.FunctionDeployment) {
		(*fd.Labels)[decide.LabelTargetConcurrency] = lp.target
		if fd.Annotations == nil {
			fd.Annotations = &map[string]string{}
		}
		(*fd.Annotations)["prescale.startup-delay"] = lp.delay.String()
	})
	if err != nil {
		return liveResult{}, err
	}
	if err := gw.waitReady(ctx, "hello-python"); err != nil {
		return liveResult{}, err
	}

	var (
		mu   sync.Mutex
		rs   float64
		peak uint64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := time.Now()
		var cur uint64 = 1
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				mu.Lock()
				rs += float64(cur) * time.Since(last).Seconds()
				mu.Unlock()
				return
			case <-tk.C:
			}
			st, err := gw.status(ctx, "hello-python")
			now := time.Now()
			mu.Lock()
			rs += float64(cur) * now.Sub(last).Seconds()
			last = now
			if err == nil {
				cur = st.Replicas
				peak = max(peak, cur)
			}
			mu.Unlock()
		}
	}()
	sum, err := replay.Run(ctx, replay.Config{Gateway: p.URL(), Function: "hello-python", Counts: lp.counts, Speed: lp.speed, Seed: lp.seed})
	close(stop)
	wg.Wait()
	if err != nil {
		return liveResult{}, err
	}
	res := liveResult{name: map[string]string{"predictive": "prescale", "reactive": "reactive"}[lp.mode], sum: sum, replicaSeconds: rs, peak: peak}
	for _, r := range sum.Records {
		if r.Status != 0 && r.Latency > lp.waitOver {
			res.waited++
		}
	}
	fmt.Fprintf(lp.log, "  %s: %d responses, p99 %.3fs, %d waited, %.0f replica-seconds\n", res.name, sum.Completed, sum.Percentile(0.99), res.waited, math.Round(rs))
	return res, nil
}

// liveGateway is the few gateway API calls bench-live makes.
type liveGateway struct{ url, user, pw string }

func (g liveGateway) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("encode: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.url+path, rd)
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.SetBasicAuth(g.user, g.pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

func (g liveGateway) status(ctx context.Context, name string) (types.FunctionStatus, error) {
	var st types.FunctionStatus
	code, err := g.do(ctx, http.MethodGet, "/system/function/"+name, nil, &st)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status of %s: HTTP %d", name, code)
	}
	return st, err
}

func (g liveGateway) waitReady(ctx context.Context, names ...string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for _, n := range names {
		for {
			st, err := g.status(ctx, n)
			if err == nil && st.AvailableReplicas > 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready within 3 minutes (last: %v)", n, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// update redeploys a function as `faas-cli deploy` would after edit.
func (g liveGateway) update(ctx context.Context, name string, edit func(*types.FunctionDeployment)) error {
	st, err := g.status(ctx, name)
	if err != nil {
		return err
	}
	env := map[string]string{}
	for k, v := range st.EnvVars {
		env[k] = v
	}
	labels := map[string]string{}
	if st.Labels != nil {
		for k, v := range *st.Labels {
			labels[k] = v
		}
	}
	ann := map[string]string{}
	if st.Annotations != nil {
		for k, v := range *st.Annotations {
			ann[k] = v
		}
	}
	fd := types.FunctionDeployment{Service: name, Image: st.Image, EnvProcess: st.EnvProcess, EnvVars: env,
		Secrets: st.Secrets, Labels: &labels, Annotations: &ann}
	edit(&fd)
	code, err := g.do(ctx, http.MethodPut, "/system/functions", fd, nil)
	if err != nil {
		return err
	}
	if code != http.StatusAccepted && code != http.StatusOK {
		return fmt.Errorf("update %s: HTTP %d", name, code)
	}
	return nil
}
