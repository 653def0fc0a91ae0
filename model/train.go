package model

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/prescale/prescale/pkg/inference"
)

// TrainConfig is one `prescale train` run.
type TrainConfig struct {
	// TraceFiles are the per-minute invocation traces the forecasters use.
	TraceFiles []string
	// DataDir holds the seed dataset (dataset.csv + manifest.json from `prescale gen`).
	DataDir string
	// PluginDataDir optionally holds a live sweep measured on the plugin
	// (`prescale gen --generator plugin`); the report scores the seed model
	// on it. Empty or missing: no such section.
	PluginDataDir string
	// TrainMeasured also trains and scores the seed-parity variants on the
	// live sweep itself (same split, same variants): set by
	// DefaultTrainConfig when the sweep has at least MinMeasuredRates
	// offered rates, so that every split holds whole rates.
	TrainMeasured bool
	// Out receives artefacts/*.json, plots/*.png and REPORT.md.
	Out string
	// TracesLabel is how the report names the traces directory.
	TracesLabel string

	Series   SeriesOptions
	Forecast ForecastConfig
	Seed     []SeedVariant

	// Tick is called once per unit of work (Steps() in all); Describe names the stage.
	Tick     func()
	Describe func(string)
}

// DefaultTrainConfig trains on every trace in tracesDir and the dataset in dataDir.
func DefaultTrainConfig(tracesDir, dataDir, out string) (TrainConfig, error) {
	files, err := InvocationFiles(tracesDir)
	if err != nil {
		return TrainConfig{}, err
	}
	cfg := TrainConfig{TraceFiles: files, DataDir: dataDir, Out: out, TracesLabel: tracesDir,
		PluginDataDir: filepath.Join(filepath.Dir(dataDir), "data-plugin"),
		Series:        DefaultSeriesOptions(), Forecast: DefaultForecastConfig(), Seed: SeedVariants(1)}
	if ws, _, err := ReadDataset(cfg.PluginDataDir); err == nil && distinctRates(ws) >= MinMeasuredRates {
		cfg.TrainMeasured = true
	}
	return cfg, nil
}

// MinMeasuredRates is the fewest offered rates a measured sweep needs to be
// trained on: two per split of the rate-index-mod-4 split.
const MinMeasuredRates = 8

func distinctRates(ws []Window) int {
	set := map[float64]bool{}
	for _, w := range ws {
		set[w.Rate] = true
	}
	return len(set)
}

// Steps is the number of Tick calls a run makes.
func (c TrainConfig) Steps() int {
	n := 7 // forecaster stages + writing
	for _, v := range c.Seed {
		n += 2 * v.Params.Trees
		if c.TrainMeasured {
			n += 2 * v.Params.Trees
		}
	}
	return n
}

// TrainResult is what a run computed and wrote.
type TrainResult struct {
	Forecast   *ForecastResult
	Seed       *SeedResult
	Manifest   Manifest
	Inputs     []inference.Input
	Forecaster *inference.Artefact
	SeedForest *inference.Artefact
	Report     string
	// Live is the plugin sweep and the seed model's answers on it (if any).
	Live *LiveCheck
	// Measured is the seed-parity variants trained and scored on the live
	// sweep itself (TrainConfig.TrainMeasured); not shipped as an artefact.
	Measured *SeedResult
	Files    []string // written, relative to Out
}

// Train runs both experiments, writes the artefacts, plots and REPORT.md.
func Train(ctx context.Context, cfg TrainConfig) (*TrainResult, error) {
	tick := func() {
		if cfg.Tick != nil {
			cfg.Tick()
		}
	}
	say := func(s string) {
		if cfg.Describe != nil {
			cfg.Describe(s)
		}
	}
	res := &TrainResult{}
	say("reading traces")
	series, inputs, err := LoadSeries(cfg.TraceFiles, cfg.Series)
	if err != nil {
		return nil, err
	}
	res.Inputs = inputs
	fr, err := RunForecast(series, cfg.Forecast, func(s string) { say(s); tick() })
	if err != nil {
		return nil, err
	}
	res.Forecast = fr
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	say("seed dataset")
	ws, man, err := ReadDataset(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	res.Manifest = man
	dsIn, err := HashFile(filepath.Join(cfg.DataDir, "dataset.csv"))
	if err != nil {
		return nil, err
	}
	say("seed-parity forests")
	sr, err := RunSeed(ws, cfg.Seed, tick)
	if err != nil {
		return nil, err
	}
	res.Seed = sr
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Artefacts.
	def := fr.Candidates[fr.Default]
	fa := &inference.Artefact{Kind: inference.KindForecaster, Name: def.Spec.Method, Features: []string{"requests_per_minute"},
		Forecaster: &def.Spec, Forest: def.Forest, Metrics: map[string]float64{}}
	if def.Spec.Method == inference.MethodForestLags {
		fa.Features = inference.LagFeatureNames()
	}
	for i, c := range fr.Candidates {
		p := slug(c.Name)
		fa.Metrics[p+".test_mae"] = round6(fr.Test[i].MAE)
		fa.Metrics[p+".test_mase"] = round6(fr.Test[i].MASE)
		fa.Metrics[p+".test_under_rate"] = round6(fr.Test[i].Under)
	}
	fa.Metrics["test_points"] = float64(fr.Test[fr.Default].N)
	fa.Metrics["functions"] = float64(len(series))
	fa.Training = inference.Training{DataSHA256: DataHash(inputs), Inputs: inputs, Generator: "Azure Functions traces (traces/)",
		Params: map[string]string{
			"horizon_minutes":     strconv.Itoa(cfg.Forecast.Horizon),
			"train_share":         fmtF(cfg.Series.TrainShare),
			"min_mean_per_minute": fmtF(cfg.Series.MinMeanPerMinute),
			"margin_quantile":     fmtF(chosenQuantile(fr)),
			"selection":           "structure by training MAE at k=0; k = the largest residual quantile whose training MAE and MASE are no worse than the best baseline's",
		}}
	if err := fa.Seal(); err != nil {
		return nil, err
	}
	res.Forecaster = fa

	sa := sr.Artefact
	v := sr.Variants[sr.Chosen]
	sa.Metrics = map[string]float64{
		"test_exact_accuracy":   round6(sr.Test[sr.Chosen].Exact),
		"test_within1_accuracy": round6(sr.Test[sr.Chosen].Within),
		"test_mae_replicas":     round6(sr.Test[sr.Chosen].MAE),
		"test_r2":               round6(sr.Test[sr.Chosen].R2),
		"test_rows":             float64(sr.Test[sr.Chosen].N),
	}
	seedInputs := []inference.Input{dsIn}
	sa.Training = inference.Training{DataSHA256: DataHash(seedInputs), Inputs: seedInputs, Generator: man.Generator,
		Params: map[string]string{
			"variant":      v.Name,
			"trees":        strconv.Itoa(v.Params.Trees),
			"max_depth":    strconv.FormatInt(v.Params.MaxDepth, 10),
			"sub_features": strconv.Itoa(v.Params.SubFeatures),
			"seed":         strconv.FormatInt(v.Params.Seed, 10),
			"task":         sa.Forest.Task,
			"split":        "whole offered rates: sorted rate index mod 4 = 0,1 train, 2 validation, 3 test; final fit on train+validation",
			"window":       man.Params["window_seconds"],
		}}
	if err := sa.Seal(); err != nil {
		return nil, err
	}
	res.SeedForest = sa

	if cfg.PluginDataDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.PluginDataDir, "dataset.csv")); err == nil {
			lc, err := CheckLive(cfg.PluginDataDir, sa)
			if err != nil {
				return nil, err
			}
			res.Live = lc
			if cfg.TrainMeasured {
				if n := distinctRates(lc.Windows); n < MinMeasuredRates {
					return nil, fmt.Errorf("measured sweep %s: %d offered rates, training on it needs at least %d", cfg.PluginDataDir, n, MinMeasuredRates)
				}
				say("seed-parity forests on the measured sweep")
				if res.Measured, err = RunSeed(lc.Windows, cfg.Seed, tick); err != nil {
					return nil, fmt.Errorf("measured sweep: %w", err)
				}
			}
		}
	}

	say("writing artefacts, plots and REPORT.md")
	artDir := filepath.Join(cfg.Out, "artefacts")
	if err := os.MkdirAll(artDir, 0o755); err != nil {
		return nil, fmt.Errorf("artefacts dir: %w", err)
	}
	for name, a := range map[string]*inference.Artefact{"forecaster.json": fa, "seed-forest.json": sa} {
		b, err := a.Marshal()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(artDir, name), b, 0o644); err != nil {
			return nil, fmt.Errorf("write artefact: %w", err)
		}
		res.Files = append(res.Files, filepath.Join("artefacts", name))
	}
	plots, err := writePlots(filepath.Join(cfg.Out, "plots"), fr)
	if err != nil {
		return nil, err
	}
	for _, p := range plots {
		res.Files = append(res.Files, filepath.Join("plots", p))
	}
	res.Report = Report(res, cfg, plots)
	if err := os.WriteFile(filepath.Join(cfg.Out, "REPORT.md"), []byte(res.Report), 0o644); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	res.Files = append(res.Files, "REPORT.md")
	sort.Strings(res.Files)
	tick()
	return res, nil
}

func chosenQuantile(fr *ForecastResult) float64 {
	for _, r := range fr.Calibration {
		if r.Chosen {
			return r.Quantile
		}
	}
	return 0
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func round6(v float64) float64 {
	s := strconv.FormatFloat(v, 'f', 6, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

// LiveCheck is the seed model scored on a live sweep from the plugin.
type LiveCheck struct {
	Dir       string
	Manifest  Manifest
	Windows   []Window
	Predicted []int
	Scores    SeedScores
	SHA256    string
}

// CheckLive scores a replica-forest artefact on the live sweep in dir.
func CheckLive(dir string, a *inference.Artefact) (*LiveCheck, error) {
	ws, man, err := ReadDataset(dir)
	if err != nil {
		return nil, err
	}
	in, err := HashFile(filepath.Join(dir, "dataset.csv"))
	if err != nil {
		return nil, err
	}
	m, err := inference.NewReplicaModel(a)
	if err != nil {
		return nil, err
	}
	lc := &LiveCheck{Dir: dir, Manifest: man, Windows: ws, SHA256: in.SHA256}
	x, y, err := matrix(ws, a.Features, func(Window) bool { return true })
	if err != nil {
		return nil, err
	}
	for _, row := range x {
		p, err := m.PredictVector(row)
		if err != nil {
			return nil, err
		}
		lc.Predicted = append(lc.Predicted, p.Replicas)
	}
	lc.Scores = scoreSeed(a.Forest, standardiseAll(a.Scaler, x), y)
	return lc, nil
}
