package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/state"
)

// decisionColumns are the CSV's columns: autoscaler_log.csv's first
// (timestamp, function, predicted replicas, current replicas, new replicas,
// latency features, error rate, status counts, failure ratio), then
// prescale's own.
func decisionColumns() []string {
	return []string{
		"timestamp", "function", "predicted_replicas", "current_replicas", "new_replicas",
		"p50", "p90", "p99", "error_rate", "status_200", "status_500", "failure_ratio",
		"rps", "in_flight", "service_time", "forecast_rps", "forecast_state", "model", "model_version",
		"reactive_replicas", "desired_replicas", "stabilized_replicas", "min", "max",
		"scaled", "applied", "forecast_only", "reason", "error",
	}
}

func decisionRow(d decide.Decision) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	i := strconv.Itoa
	o := d.Observed
	return []string{
		d.At.UTC().Format(time.RFC3339Nano), d.Function, i(d.Predicted), i(d.Before), i(d.After),
		f(o.P50), f(o.P90), f(o.P99), f(o.ErrorRate), f(o.Status200), f(o.Status500), f(o.FailureRatio()),
		f(o.RPS), f(o.InFlight), f(d.ServiceTime), f(d.ForecastRPS), d.ForecastState, d.Model, d.ModelVersion,
		i(d.Reactive), i(d.Desired), i(d.Stabilized), i(d.Min), i(d.Max),
		strconv.FormatBool(d.Scale), strconv.FormatBool(d.Applied), strconv.FormatBool(d.ForecastOnly), d.Reason, d.Error,
	}
}

// runDecisions: prescale decisions [--nats URL] [--csv] [--follow] [--function F].
func runDecisions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("decisions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defNATS := os.Getenv("NATS_URL")
	if defNATS == "" {
		defNATS = nats.DefaultURL
	}
	url := fs.String("nats", defNATS, "NATS URL holding the decision stream (default $NATS_URL or "+nats.DefaultURL+")")
	asCSV := fs.Bool("csv", false, "export CSV (autoscaler_log.csv's columns, then prescale's)")
	follow := fs.Bool("follow", false, "keep printing new decisions until interrupted")
	only := fs.String("function", "", "only this function's decisions")
	stream := fs.String("stream", state.DefaultConfig().DecisionStream, "decision stream name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	nc, err := nats.Connect(*url, nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", *url, err)
	}
	defer nc.Close()
	return printDecisions(ctx, nc, *stream, *only, *asCSV, *follow, stdout)
}

func printDecisions(ctx context.Context, nc *nats.Conn, stream, only string, asCSV, follow bool, w io.Writer) error {
	var cw *csv.Writer
	if asCSV {
		cw = csv.NewWriter(w)
		if err := cw.Write(decisionColumns()); err != nil {
			return err
		}
	}
	n := 0
	err := state.ReadDecisions(ctx, nc, stream, follow, func(d decide.Decision) error {
		if only != "" && d.Function != only {
			return nil
		}
		n++
		if cw != nil {
			if err := cw.Write(decisionRow(d)); err != nil {
				return err
			}
			if follow {
				cw.Flush()
			}
			return cw.Error()
		}
		_, err := fmt.Fprintln(w, d.Summary())
		return err
	})
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("no decision log yet (has the scaler run?): %w", err)
	}
	if err == nil && n == 0 && !asCSV && !follow {
		fmt.Fprintln(w, "no decisions")
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
