package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/prescale/prescale/internal/trace"
	"github.com/prescale/prescale/model"
)

// runGen generates the seed-parity dataset: load sweeps (offered rates ×
// replica counts), each window labelled with the fewest replicas meeting
// the SLO. --generator live drives a function behind a running gateway
// with hey's requester; --generator queue uses the documented M/G/c
// queueing model with service times from a durations trace.
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gen := fs.String("generator", "queue", "queue (M/G/c model, service times from --durations) or live (hey against --gateway)")
	out := fs.String("out", "model/data", "directory for dataset.csv and manifest.json")
	rates := fs.String("rates", "2:80:2", "offered rates in requests/s: a list (2,5,10) or from:to:step")
	reps := fs.String("replicas", "1-8", "replica counts: a list (1,2,4) or a range (1-8)")
	repeats := fs.Int("repeats", 3, "windows per rate and replica count (1..100)")
	window := fs.Duration("window", 30*time.Second, "load per window (1s..10m)")
	seed := fs.Int64("seed", 1, "random seed of the queue model")
	durations := fs.String("durations", "../shared/traces/invitro_azure2019_fullday_10fn_durations.csv", "queue: Azure 2019 durations file")
	fn := fs.String("function-hash", "2b373145", "queue: durations row (hash or unique prefix ≥ 6 characters)")
	gateway := fs.String("gateway", "http://127.0.0.1:8080", "live: gateway URL")
	target := fs.String("function", "hello-python", "live: function to load")
	user := fs.String("user", "admin", "live: gateway basic-auth user")
	pwFile := fs.String("password-file", "", "live: file holding the gateway password (default $OPENFAAS_PASSWORD)")
	sloP99 := fs.Duration("slo-p99", 500*time.Millisecond, "SLO: p99 latency at most this")
	sloErr := fs.Float64("slo-errors", 0.01, "SLO: error rate at most this (0..1)")
	if err := fs.Parse(args); err != nil {
		return err
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
			"in %s (median %.0f ms, mean %.1f ms). Generated because the plugin was not available to measure hello-python live; "+
			"`prescale gen --generator live` measures the real function with hey instead.", qc.Warmup, pick[0].Hash, baseName(*durations), pick[0].P50, st.Mean()*1000)
		man.Params["durations"] = baseName(*durations)
		man.Params["function_hash"] = pick[0].Hash
		man.Params["seed"] = strconv.FormatInt(*seed, 10)
		man.Params["timeout_seconds"] = "5"
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
		return fmt.Errorf("--generator %q: want queue or live", *gen)
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
