package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/schollz/progressbar/v3"

	"github.com/prescale/prescale/model"
	"github.com/prescale/prescale/pkg/inference"
)

// runTrain retrains the seed-parity model and the demand forecasters,
// writes artefacts, plots and REPORT.md, and optionally publishes the new
// models to a NATS JetStream object store that running predictors watch.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	traces := fs.String("traces", "traces", "directory of *_invocations.csv traces")
	out := fs.String("out", "model", "output directory (artefacts/, plots/, REPORT.md)")
	data := fs.String("data", "", "seed dataset directory (default <out>/data; a live sweep in <out>/data-plugin is scored too)")
	publish := fs.String("publish", "", "NATS URL (nats://host:port): publish the new models to the object store")
	bucket := fs.String("bucket", inference.DefaultBucket, "object store bucket for --publish")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		*data = filepath.Join(*out, "data")
	}
	cfg, err := model.DefaultTrainConfig(*traces, *data, *out)
	if err != nil {
		return err
	}
	bar := progressbar.NewOptions(cfg.Steps(), progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("train"),
		progressbar.OptionShowCount())
	cfg.Tick = func() { _ = bar.Add(1) }
	cfg.Describe = func(s string) { bar.Describe("train: " + s) }
	start := time.Now()
	res, err := model.Train(ctx, cfg)
	if err != nil {
		return err
	}
	_ = bar.Finish()
	fmt.Fprintf(stdout, "\ntrained in %s\n", time.Since(start).Round(time.Millisecond))
	for _, f := range res.Files {
		fmt.Fprintf(stdout, "  wrote %s\n", filepath.Join(*out, f))
	}
	sr, fr := res.Seed, res.Forecast
	c := sr.Chosen
	fmt.Fprintf(stdout, "seed-parity (%s): held-out exact %.1f%%, within ±1 %.1f%%, MAE %.3f, R² %.3f (original: \"93.1%%\")\n",
		sr.Variants[c].Name, sr.Test[c].Exact*100, sr.Test[c].Within*100, sr.Test[c].MAE, sr.Test[c].R2)
	for i, cd := range fr.Candidates {
		fmt.Fprintf(stdout, "forecaster %-26s test MAE %7.2f  MASE %.3f  under-forecast %5.1f%%\n", cd.Name, fr.Test[i].MAE, fr.Test[i].MASE, fr.Test[i].Under*100)
	}
	if *publish == "" {
		return nil
	}
	nc, err := nats.Connect(*publish, nats.Name("prescale train"))
	if err != nil {
		return fmt.Errorf("--publish %s: %w", *publish, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	store, err := js.CreateOrUpdateObjectStore(ctx, inference.BucketConfig(*bucket))
	if err != nil {
		return fmt.Errorf("object store %s: %w", *bucket, err)
	}
	for _, a := range []*inference.Artefact{res.SeedForest, res.Forecaster} {
		if _, err := inference.Publish(ctx, store, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published %s to %s bucket %s as %s\n", a.Version, *publish, *bucket, inference.ObjectName(a.Kind))
	}
	return nil
}
