package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/prescale/prescale/internal/trace"
	"github.com/prescale/prescale/model"
	"github.com/prescale/prescale/plugin"
)

// runGen generates the seed-parity dataset: load sweeps (offered rates ×
// replica counts), each window labelled with the fewest replicas meeting
// the SLO. --generator live drives a function behind a running gateway
// with hey's requester; --generator queue uses the documented M/G/c
// queueing model with service times from a durations trace.
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gen := fs.String("generator", "queue", "queue (M/G/c model, service times from --durations), live (hey against --gateway) or plugin (start the embedded plugin with hello-python and measure it live)")
	root := fs.String("root", ".", "plugin: repository root (its template/ and functions/hello-python are used)")
	out := fs.String("out", "model/data", "directory for dataset.csv and manifest.json")
	rates := fs.String("rates", "2:80:2", "offered rates in requests/s: a list (2,5,10) or from:to:step")
	reps := fs.String("replicas", "1-8", "replica counts: a list (1,2,4) or a range (1-8)")
	repeats := fs.Int("repeats", 3, "windows per rate and replica count (1..100)")
	window := fs.Duration("window", 30*time.Second, "load per window (1s..10m)")
	seed := fs.Int64("seed", 1, "random seed of the queue model")
	durations := fs.String("durations", "traces/invitro_azure2019_fullday_10fn_durations.csv", "queue: Azure 2019 durations file")
	fn := fs.String("function-hash", "2b373145", "queue: durations row (hash or unique prefix ≥ 6 characters)")
	gateway := fs.String("gateway", "http://127.0.0.1:8080", "live: gateway URL")
	target := fs.String("function", "hello-python", "live: function to load")
	user := fs.String("user", "admin", "live: gateway basic-auth user")
	pwFile := fs.String("password-file", "", "live: file holding the gateway password (default $OPENFAAS_PASSWORD)")
	sloP99 := fs.Duration("slo-p99", 500*time.Millisecond, "SLO: p99 latency at most this")
	sloErr := fs.Float64("slo-errors", 0.01, "SLO: error rate at most this (0..1)")
	sleepMS := fs.Int("sleep-ms", 0, "plugin: hello-python's workload: 0 = its default CPU burn; 1..60000 = sleep_ms per request with cpu_ms 0 and max_inflight 1 (capacity per replica, bench-live's workload)")
	lang := fs.String("lang", "python3", "plugin: hello-python's template: python3 (classic watchdog, a process per request) or python3-http (one process per replica, no fork per request: the CPU per request is hey's, the gateway's and the handler's only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lang != "python3" && *lang != "python3-http" {
		return fmt.Errorf("--lang %q: want python3 or python3-http", *lang)
	}
	if *lang != "python3" && *gen != "plugin" {
		return fmt.Errorf("--lang applies to --generator plugin only (got %q)", *gen)
	}
	rs, err := parseRates(*rates)
	if err != nil {
		return err
	}
	rp, err := parseReplicas(*reps)
	if err != nil {
		return err
	}
	if *repeats < 1 || *repeats > 100 {
		return fmt.Errorf("--repeats %d: must be in 1..100", *repeats)
	}
	if *window < time.Second || *window > 10*time.Minute {
		return fmt.Errorf("--window %s: must be in 1s..10m", *window)
	}
	if *sleepMS < 0 || *sleepMS > 60000 {
		return fmt.Errorf("--sleep-ms %d: must be in 0..60000", *sleepMS)
	}
	if *sleepMS > 0 && *gen != "plugin" {
		return fmt.Errorf("--sleep-ms applies to --generator plugin only (got %q)", *gen)
	}
	if *sloErr < 0 || *sloErr > 1 || *sloP99 <= 0 {
		return fmt.Errorf("--slo-p99 must be > 0 and --slo-errors in 0..1")
	}
	slo := model.SLO{P99: sloP99.Seconds(), MaxError: *sloErr}
	total := len(rs) * len(rp) * *repeats
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("gen "+*gen))
	tick := func() { _ = bar.Add(1) }
	host, _ := os.Hostname()
	man := model.Manifest{Generator: *gen, SLO: slo, Machine: fmt.Sprintf("%s, %s/%s, %d CPUs, %s", host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Date: time.Now().UTC().Format(time.RFC3339),
		Params: map[string]string{"rates": *rates, "replicas": *reps, "repeats": strconv.Itoa(*repeats),
			"window_seconds": strconv.FormatFloat(window.Seconds(), 'g', -1, 64)}}
	var ws []model.Window
	switch *gen {
	case "queue":
		all, err := trace.ReadDurations(*durations)
		if err != nil {
			return err
		}
		var pick []trace.Durations
		for h, d := range all {
			if h == *fn || (len(*fn) >= 6 && strings.HasPrefix(h, *fn)) {
				pick = append(pick, d)
			}
		}
		if len(pick) != 1 {
			return fmt.Errorf("--function-hash %q matches %d rows of %s; want exactly one", *fn, len(pick), *durations)
		}
		st, err := model.NewServiceTimes(pick[0])
		if err != nil {
			return err
		}
		qc := model.QueueConfig{Rates: rs, Replicas: rp, Repeats: *repeats, Window: window.Seconds(), Warmup: 10, Timeout: 5, Seed: *seed}
		ws, err = model.GenerateQueue(qc, st, slo, tick)
		if err != nil {
			return err
		}
		man.Description = fmt.Sprintf("Queueing model, not measured: M/G/c (c = replicas, one request at a time per replica, FIFO at the gateway, "+
			"Poisson arrivals, 5 s gateway timeout → 5xx, %.0f s warm-up per window) with service times drawn from the Azure 2019 durations of function %.12s… "+
			"in %s (median %.0f ms, mean %.1f ms). Used for training because a sweep large enough to train on cannot be measured on this "+
			"shared 2-core machine, where every replica is a local process (this one stands for %s of load); `prescale gen --generator plugin` "+
			"measures the real hello-python on the embedded plugin (its sweep is in model/data-plugin).", qc.Warmup, pick[0].Hash, baseName(*durations), pick[0].P50, st.Mean()*1000,
			time.Duration(float64(total)*window.Seconds())*time.Second)
		man.Params["durations"] = baseName(*durations)
		man.Params["function_hash"] = pick[0].Hash
		man.Params["seed"] = strconv.FormatInt(*seed, 10)
		man.Params["timeout_seconds"] = "5"
	case "plugin":
		p, stop, err := startPluginForGen(ctx, *root, *lang, *sleepMS, stderr)
		if err != nil {
			return err
		}
		defer stop()
		lc := model.LiveConfig{Gateway: p.URL(), Function: "hello-python", User: p.User(), Password: p.Password(), Rates: rs, Replicas: rp,
			Repeats: *repeats, Window: *window}
		ws, err = model.GenerateLive(ctx, lc, slo, tick)
		if err != nil {
			return err
		}
		work := "default cpu_ms: every replica burns this machine's CPU, so more replicas add little capacity on 2 cores"
		if *sleepMS > 0 {
			work = fmt.Sprintf("sleep_ms %d, cpu_ms 0, max_inflight 1: each replica serves one request at a time and waits, so N replicas serve N× the load (bench-live's workload)", *sleepMS)
			man.Params["sleep_ms"] = strconv.Itoa(*sleepMS)
		}
		tmpl := "classic python3 template: a python3 process per request"
		if *lang == "python3-http" {
			tmpl = "python3-http template: one python3 process per replica, no fork per request"
		}
		man.Params["lang"] = *lang
		man.Description = "Measured live on the embedded plugin: hello-python (" + tmpl + "; " + work + ") deployed alone; " +
			"hey's requester offered each rate through the plugin's gateway for each window; replicas set with POST /system/scale-function. " +
			"Every replica is an OS process on this machine, so the labels describe this machine."
		man.Params["function"] = "hello-python"
	case "live":
		pw := os.Getenv("OPENFAAS_PASSWORD")
		if *pwFile != "" {
			b, err := os.ReadFile(*pwFile)
			if err != nil {
				return fmt.Errorf("--password-file: %w", err)
			}
			pw = strings.TrimSpace(string(b))
		}
		lc := model.LiveConfig{Gateway: *gateway, Function: *target, User: *user, Password: pw, Rates: rs, Replicas: rp,
			Repeats: *repeats, Window: *window}
		ws, err = model.GenerateLive(ctx, lc, slo, tick)
		if err != nil {
			return err
		}
		man.Description = fmt.Sprintf("Measured live: hey's requester offered each rate to %s through the gateway %s for each window; replicas set with POST /system/scale-function.", *target, *gateway)
		man.Params["gateway"] = *gateway
		man.Params["function"] = *target
	default:
		return fmt.Errorf("--generator %q: want queue, live or plugin", *gen)
	}
	if err := model.WriteDataset(*out, ws, man); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %d windows to %s/dataset.csv (generator %s)\n", len(ws), *out, *gen)
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func parseRates(s string) ([]float64, error) {
	bad := fmt.Errorf("--rates %q: want a list of rates > 0 (2,5,10) or from:to:step", s)
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		var v [3]float64
		for i, p := range parts {
			x, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return nil, bad
			}
			v[i] = x
		}
		if v[0] <= 0 || v[2] <= 0 || v[1] < v[0] || (v[1]-v[0])/v[2] > 1000 {
			return nil, bad
		}
		var out []float64
		for i := 0; ; i++ {
			r := v[0] + float64(i)*v[2]
			if r > v[1]+1e-9 {
				break
			}
			out = append(out, r)
		}
		return out, nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || x <= 0 {
			return nil, bad
		}
		out = append(out, x)
	}
	return out, nil
}

func parseReplicas(s string) ([]int, error) {
	bad := fmt.Errorf("--replicas %q: want a list (1,2,4) or a range (1-8) of counts in 1..100", s)
	if a, b, ok := strings.Cut(s, "-"); ok {
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > 100 {
			return nil, bad
		}
		var out []int
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
		return out, nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || x < 1 || x > 100 {
			return nil, bad
		}
		out = append(out, x)
	}
	return out, nil
}

// startPluginForGen starts the embedded plugin on a random port with a
// stack holding only hello-python (so the sweep does not wait for the Go
// functions to build), in a temporary data directory.
func startPluginForGen(ctx context.Context, root, lang string, sleepMS int, stderr io.Writer) (*plugin.Platform, func(), error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, fmt.Errorf("--root: %w", err)
	}
	if _, err := os.Stat(filepath.Join(absRoot, "functions", "hello-python", "handler.py")); err != nil {
		return nil, nil, fmt.Errorf("--root %s has no functions/hello-python: %w", root, err)
	}
	dir, err := os.MkdirTemp("", "prescale-gen-")
	if err != nil {
		return nil, nil, fmt.Errorf("temp dir: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	stack := fmt.Sprintf("version: 1.0\nprovider:\n  name: openfaas\n  gateway: http://127.0.0.1:8080\nfunctions:\n  hello-python:\n    lang: %s\n    handler: %s\n    image: prescale/hello-python:latest\n",
		lang, filepath.Join(absRoot, "functions", "hello-python"))
	if sleepMS > 0 { // capacity per replica: one request at a time, waiting
		stack += fmt.Sprintf("    environment:\n      sleep_ms: \"%d\"\n      cpu_ms: \"0\"\n      max_inflight: \"1\"\n", sleepMS)
	}
	if err := os.WriteFile(filepath.Join(dir, "stack.yml"), []byte(stack), 0o644); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("gen stack: %w", err)
	}
	if err := os.Symlink(filepath.Join(absRoot, "template"), filepath.Join(dir, "template")); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("gen templates: %w", err)
	}
	cfg := plugin.DefaultConfig()
	cfg.Port, cfg.DataDir, cfg.StackFile, cfg.Deploy = 0, filepath.Join(dir, "data"), filepath.Join(dir, "stack.yml"), true
	if err := cfg.Validate(); err != nil {
		cleanup()
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := plugin.New(cfg, logger)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	stop := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Close(cctx); err != nil {
			fmt.Fprintf(stderr, "prescale gen: plugin shutdown: %v\n", err)
		}
		cleanup()
	}
	if err := p.Start(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	return p, stop, nil
}
