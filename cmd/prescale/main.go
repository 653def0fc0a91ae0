package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"up", "run the embedded OpenFaaS platform (the plugin) with a stack", runUp},
		{"watchdog", "classic fork-mode watchdog for one replica (used by the plugin)", runWatchdog},
		{"replay", "drive traffic at a function from a per-minute trace", runReplay},
		{"decisions", "print or export the scaler's decision log", runDecisions},
		{"dlq", "inspect the async dead-letter stream", runDLQ},
		{"gen", "generate the seed-parity training dataset with load sweeps", runGen},
		{"train", "train and evaluate the models, write artefacts and REPORT.md", runTrain},
		{"sim", "simulate autoscaling policies on traces", runSim},
		{"bench-live", "every policy live on the plugin (the chain and the simulator's policies), beside the simulator", runBenchLive},
		{"bench-control", "the chain's control plane at 10, 100, 500 opted-in functions: period, latency, CPU, NATS", runBenchControl},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		default:
			fmt.Fprintf(stderr, "prescale %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "prescale: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: prescale <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
}
