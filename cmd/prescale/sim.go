package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prescale/prescale/internal/autoscaler"
	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/inference"
)

// runSim is `prescale sim`: the trace-driven comparison of autoscaling
// policies (one trace → a table on stdout), or with --all-traces the whole
// benchmark that regenerates bench/RESULTS.md.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		tracePath  = fs.String("trace", "", "trace file: Azure 2019 per-minute, Freyr, Azure 2021 or a one-column CSV of per-minute counts")
		durations  = fs.String("durations", "", "Azure 2019 durations file (default: the trace's *_durations.csv if present)")
		policies   = fs.String("policies", "all", "comma-separated policies: "+strings.Join(autoscaler.Names(), ","))
		out        = fs.String("out", "", "directory for results.csv, results.md and PNG plots (none if empty)")
		coldStart  = fs.String("cold-start", sim.DefaultColdStart, "cold-start distribution: fixed:D, uniform:LO,HI or lognormal:MEDIAN,SIGMA[,MAX]")
		functions  = fs.Int("functions", 0, "simulate the N busiest functions (0 = all)")
		minutes    = fs.Int("minutes", 0, "simulate M minutes (0 = to the end)")
		from       = fs.Int("from", 0, "first minute (0-based offset into the trace)")
		allTraces  = fs.String("all-traces", "", "benchmark every *_invocations.csv in this directory and write RESULTS.md to --out")
		scale      = fs.Bool("scale", true, "with --all-traces: also measure wall time and memory against functions and trace length")
		prePeriod  = fs.Int("prescale-period", autoscaler.DefaultPrescale().Period, "prescale's control period (cron schedule), seconds")
		preLag     = fs.Int("prescale-lag", autoscaler.DefaultPrescale().Lag, "prescale's async-chain latency, seconds")
		preHorizon = fs.Duration("prescale-horizon", autoscaler.DefaultPrescale().Horizon, "prescale's forecast horizon (the predictor's env horizon; at least two periods are forecast)")
		preFC      = fs.String("prescale-forecaster", inference.DefaultForecasterChoice, "prescale's forecaster, as the predictor's env forecaster: "+inference.ChoiceBuiltin+" (holt-peak, the default) or "+inference.ChoiceTrained+" (prescale-peak from model/artefacts)")
		concurrent = fs.Int("concurrency", sim.DefaultConfig().Concurrency, "request slots per replica")
		slo        = fs.Duration("slo", time.Second, "waiting time (latency minus service time) a request tolerates")
		seed       = fs.Uint64("seed", 1, "random seed (arrivals, service times, cold starts)")
		arrivals   = fs.String("arrivals", "poisson", "spreading of each minute's count: poisson or uniform")
		maxRep     = fs.Int("max-replicas", sim.DefaultConfig().MaxReplicas, "replica upper bound for every policy (OpenFaaS CE's alert rule is also capped at 5)")
		minRep     = fs.Int("min-replicas", sim.DefaultConfig().MinReplicas, "replica lower bound; 0 = the scale-to-zero regime (policies: "+strings.Join(autoscaler.ZeroNames(), ",")+")")
		frontier   = fs.String("zero-frontier", "", "benchmark the scale-to-zero Pareto frontiers on the traces in this directory; writes ZERO.md and PNGs to --out")
		zeroOnly   = fs.String("zero-traces", "", "with --zero-frontier: only the traces whose file name contains one of these comma-separated strings")
		workers    = fs.Int("workers", sim.DefaultConfig().Workers, "functions simulated in parallel")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := sim.DefaultConfig()
	dist, err := sim.ParseDist(*coldStart)
	if err != nil {
		return fmt.Errorf("--cold-start: %w", err)
	}
	cfg.ColdStart, cfg.Concurrency, cfg.SLO, cfg.Seed = dist, *concurrent, slo.Seconds(), *seed
	cfg.Arrivals, cfg.MaxReplicas, cfg.MinReplicas, cfg.Workers = *arrivals, *maxRep, *minRep, *workers
	if err := cfg.Validate(); err != nil {
		return err
	}
	opts := autoscaler.DefaultOptions()
	opts.Prescale.Period, opts.Prescale.Lag, opts.Prescale.Horizon = *prePeriod, *preLag, *preHorizon
	fc, note, err := autoscaler.NewForecaster(*preFC)
	if err != nil {
		return fmt.Errorf("--prescale-forecaster: %w", err)
	}
	if note != "" {
		fmt.Fprintln(stderr, "prescale:", note)
	}
	opts.Prescale.Forecaster, opts.Prescale.ForecasterName = fc, fc.Name()
	if *frontier != "" {
		if *out == "" {
			return errors.New("--zero-frontier needs --out DIR (where ZERO.md goes)")
		}
		cfg.MinReplicas = 0
		return sim.ZeroBench(ctx, sim.ZeroBenchOptions{TraceDir: *frontier, OutDir: *out, Config: cfg, Curves: zeroCurves(opts), Log: stderr,
			Traces: sim.ZeroTraces(*zeroOnly)})
	}
	var pols []sim.Policy
	if cfg.MinReplicas == 0 {
		pols, err = autoscaler.ParseZero(*policies, opts)
	} else {
		pols, err = autoscaler.Parse(*policies, opts)
	}
	if err != nil {
		return fmt.Errorf("--policies: %w", err)
	}

	if *allTraces != "" {
		if *out == "" {
			return errors.New("--all-traces needs --out DIR (where RESULTS.md goes)")
		}
		return sim.Bench(ctx, sim.BenchOptions{
			TraceDir: *allTraces, OutDir: *out, Config: cfg, Policies: pols, Scale: *scale, Variants: variantsFor(pols, opts),
			PrescaleNote: fmt.Sprintf("cron period %d s, async-chain lag %d s, forecast horizon %s (configured %s), %s forecaster (%s), target concurrency %.1f × slots",
				opts.Prescale.Period, opts.Prescale.Lag, opts.Prescale.EffectiveHorizon(), opts.Prescale.Horizon, opts.Prescale.ForecasterName, fc.Version(), opts.Prescale.TargetUtilization),
			Log: stderr,
		})
	}
	if *tracePath == "" {
		return errors.New("--trace FILE is required (or --all-traces DIR)")
	}
	ld, err := sim.LoadTrace(*tracePath, sim.LoadOptions{Durations: *durations, Functions: *functions, From: *from, Minutes: *minutes}, cfg.DefaultService)
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(*tracePath), filepath.Ext(*tracePath))
	fmt.Fprintf(stderr, "%s: %d functions (%d with durations), %d minutes, cold start %s, %d slots per replica\n",
		name, len(ld.Functions), ld.WithDurations, ld.Minutes, cfg.ColdStart, cfg.Concurrency)
	var rows []sim.Row
	for _, p := range pols {
		t0 := time.Now()
		res, err := sim.Run(ctx, cfg, ld.Functions, p)
		if err != nil {
			return err
		}
		rows = append(rows, sim.Row{Trace: name, Functions: len(ld.Functions), Minutes: ld.Minutes, Result: res, Wall: time.Since(t0)})
		fmt.Fprintf(stderr, "  %-9s %6.1fs\n", p.Name(), time.Since(t0).Seconds())
	}
	table := sim.Table
	if cfg.MinReplicas == 0 {
		table = func(w io.Writer, rows []sim.Row) error { return sim.ZeroTable(w, rows, decideColdStartCost()) }
	}
	if err := table(stdout, rows); err != nil {
		return err
	}
	if *out == "" {
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return sim.WriteOutputs(*out, name, rows)
}

// variantsFor returns prescale's sensitivity variants when prescale is compared.
func variantsFor(pols []sim.Policy, o autoscaler.Options) []sim.Policy {
	for _, p := range pols {
		if p.Name() == "prescale" {
			return autoscaler.PrescaleVariants(o)
		}
	}
	return nil
}

func decideColdStartCost() float64 { return decide.DefaultColdStartCost.Seconds() }

// zeroCurves converts the policy sweeps for the simulator's frontier bench.
func zeroCurves(o autoscaler.Options) []sim.Curve {
	var out []sim.Curve
	for _, c := range autoscaler.ZeroCurves(o) {
		out = append(out, sim.Curve{Policy: c.Policy, Knob: c.Knob, Points: c.Points, Values: c.Values})
	}
	return out
}
