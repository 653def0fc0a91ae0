package model

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/model/artefacts"
	"github.com/prescale/prescale/pkg/inference"
)

// committed reads the committed seed dataset.
func committed(t *testing.T) []Window {
	t.Helper()
	ws, _, err := ReadDataset(filepath.Join(testenv.Root(t), "model", "data"))
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestExportedForestEqualsGolearn(t *testing.T) {
	ws := committed(t)
	x, y, err := matrix(ws, SeedFeatures(), func(Window) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	s := fitScaler(x)
	xs := standardiseAll(s, x)
	for _, cls := range []bool{false, true} {
		t.Run(fmt.Sprintf("classification=%v", cls), func(t *testing.T) {
			ff, err := FitForest(xs, y, ForestParams{Trees: 4, MaxDepth: 8, SubFeatures: 6, Seed: 11, Classification: cls, MaxSamples: 400}, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := ff.GolearnPredict(xs)
			if err != nil {
				t.Fatal(err)
			}
			distinct := map[float64]bool{}
			for i := range xs {
				for tr := range ff.Export.Trees {
					got := ff.Export.Trees[tr].Eval(xs[i])
					if got != g[i][tr] {
						t.Fatalf("row %d tree %d: exported %v, golearn %v", i, tr, got, g[i][tr])
					}
					distinct[got] = true
				}
			}
			if len(distinct) < 3 {
				t.Fatalf("trees predict only %v: nothing was learnt", distinct)
			}
		})
	}
}

func TestCommittedReportMatchesTheCode(t *testing.T) {
	root := testenv.Root(t)
	report, err := os.ReadFile(filepath.Join(root, "model", "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	rep := string(report)
	sb, err := artefacts.Read(artefacts.SeedForest)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := inference.Parse(sb)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := artefacts.Read(artefacts.Forecaster)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := inference.Parse(fb)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{seed.Version, fc.Version} {
		if !strings.Contains(rep, "`"+v+"`") {
			t.Errorf("REPORT.md does not name artefact version %s", v)
		}
	}

	t.Run("seed-parity held-out figures", func(t *testing.T) {
		ws := committed(t)
		in, err := HashFile(filepath.Join(root, "model", "data", "dataset.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if seed.Training.Inputs[0].SHA256 != in.SHA256 {
			t.Fatalf("the seed artefact was trained on dataset %s, the committed one is %s", seed.Training.Inputs[0].SHA256, in.SHA256)
		}
		split := rateSplits(ws)
		x, y, err := matrix(ws, seed.Features, func(w Window) bool { return split(w) == 3 })
		if err != nil {
			t.Fatal(err)
		}
		sc := scoreSeed(seed.Forest, standardiseAll(seed.Scaler, x), y)
		want := fmt.Sprintf("Held-out: **%s exact**, %s within ±1 replica, MAE %.3f replicas, R² %.3f.", pct(sc.Exact), pct(sc.Within), sc.MAE, sc.R2)
		if !strings.Contains(rep, want) {
			t.Errorf("REPORT.md lacks the recomputed %q", want)
		}
		if seed.Metrics["test_exact_accuracy"] != round6(sc.Exact) || seed.Metrics["test_r2"] != round6(sc.R2) {
			t.Errorf("artefact metrics %v, recomputed %+v", seed.Metrics, sc)
		}
	})

	t.Run("live plugin sweep", func(t *testing.T) {
		dir := filepath.Join(root, "model", "data-plugin")
		if _, err := os.Stat(filepath.Join(dir, "dataset.csv")); err != nil {
			t.Skip("no live sweep committed")
		}
		lc, err := CheckLive(dir, seed)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("on these live windows: exact %s, within ±1 %s, MAE %.3f replicas.", pct(lc.Scores.Exact), pct(lc.Scores.Within), lc.Scores.MAE)
		if !strings.Contains(rep, want) || !strings.Contains(rep, lc.SHA256[:16]) {
			t.Errorf("REPORT.md lacks the recomputed %q for dataset %.16s", want, lc.SHA256)
		}
		if distinctRates(lc.Windows) < MinMeasuredRates {
			return
		}
		// The variants retrained on the measured sweep: deterministic for the seed.
		ms, err := RunSeed(lc.Windows, SeedVariants(1), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := ms.Chosen
		want = fmt.Sprintf("**Measured held-out: %s exact**, %s within ±1 replica, MAE %.3f replicas, R² %.3f", pct(ms.Test[c].Exact), pct(ms.Test[c].Within), ms.Test[c].MAE, ms.Test[c].R2)
		if !strings.Contains(rep, want) {
			t.Errorf("REPORT.md lacks the recomputed %q", want)
		}
	})

	t.Run("forecaster test table", func(t *testing.T) {
		files, err := InvocationFiles(testenv.Traces(t))
		if err != nil {
			t.Fatal(err)
		}
		series, inputs, err := LoadSeries(files, DefaultSeriesOptions())
		if err != nil {
			t.Fatal(err)
		}
		if DataHash(inputs) != fc.Training.DataSHA256 {
			t.Fatalf("the traces changed since the forecaster was trained")
		}
		cfg := DefaultForecastConfig()
		pts := points(series, cfg, true)
		scale := naiveScale(series, cfg)
		cands := append(baselines(cfg.Horizon), Candidate{Name: "**prescale-peak (default)**", Spec: *fc.Forecaster})
		for _, c := range cands {
			f, err := forecastAll(series, pts, &c)
			if err != nil {
				t.Fatal(err)
			}
			sc := score(pts, f, scale, nil)
			row := fmt.Sprintf("| %s | %.2f | %.3f | %s | %.2f |", c.Name, sc.MAE, sc.MASE, pct(sc.Under), sc.Over)
			if !strings.Contains(rep, row) {
				t.Errorf("REPORT.md lacks the recomputed row %q", row)
			}
		}
	})
}

func TestTrainIsDeterministicAndReportsWhatItComputed(t *testing.T) {
	traces := testenv.Traces(t)
	root := testenv.Root(t)
	run := func(out string) *TrainResult {
		cfg := TrainConfig{
			TraceFiles: []string{
				filepath.Join(traces, "invitro_azure2019_fullday_5fn_invocations.csv"),
				filepath.Join(traces, "invitro_azure2019_fullday_10fn_invocations.csv"),
			},
			DataDir: filepath.Join(root, "model", "data"), Out: out, TracesLabel: "subset",
			Series: DefaultSeriesOptions(), Forecast: DefaultForecastConfig(), Seed: SeedVariants(3),
		}
		cfg.Forecast.Forest.Trees = 3
		for i := range cfg.Seed {
			cfg.Seed[i].Params.Trees = 3
		}
		ticks := 0
		cfg.Tick = func() { ticks++ }
		res, err := Train(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if ticks != cfg.Steps() {
			t.Errorf("progress ticked %d times, Steps() says %d", ticks, cfg.Steps())
		}
		return res
	}
	a, b := t.TempDir(), t.TempDir()
	ra := run(a)
	run(b)
	if len(ra.Files) < 6 {
		t.Fatalf("wrote only %v", ra.Files)
	}
	for _, f := range ra.Files {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs on the same inputs", f)
		}
	}
	rep, err := os.ReadFile(filepath.Join(a, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	fr := ra.Forecast
	for i, c := range fr.Candidates {
		name := c.Name
		if i == fr.Default {
			name = "**" + name + " (default)**"
		}
		row := fmt.Sprintf("| %s | %.2f | %.3f | %s | %.2f | %.2f | %s |", name, fr.Test[i].MAE, fr.Test[i].MASE, pct(fr.Test[i].Under), fr.Test[i].Over, fr.Train[i].MAE, pct(fr.Train[i].Under))
		if !bytes.Contains(rep, []byte(row)) {
			t.Errorf("REPORT.md lacks %q", row)
		}
	}
	// The written artefacts load, predict and round-trip.
	for _, name := range []string{"forecaster.json", "seed-forest.json"} {
		data, err := os.ReadFile(filepath.Join(a, "artefacts", name))
		if err != nil {
			t.Fatal(err)
		}
		art, err := inference.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		again, err := art.Marshal()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("%s does not round-trip: %v", name, err)
		}
	}
}

func TestLabelPicksFewestReplicasMeetingTheSLO(t *testing.T) {
	slo := SLO{P99: 0.5, MaxError: 0.01}
	w := func(rate float64, reps, rep int, p99, errs float64) Window {
		return Window{Rate: rate, Replicas: reps, Repeat: rep, P99: p99, ErrorRate: errs}
	}
	ws := []Window{
		w(10, 1, 0, 2, 0), w(10, 1, 1, 0.4, 0), w(10, 1, 2, 3, 0), // 1 replica meets it once in 3: no
		w(10, 2, 0, 0.3, 0), w(10, 2, 1, 0.6, 0), w(10, 2, 2, 0.2, 0), // 2 replicas: 2 of 3
		w(10, 3, 0, 0.1, 0), w(10, 3, 1, 0.1, 0), w(10, 3, 2, 0.1, 0),
		w(50, 1, 0, 0.1, 0.5), w(50, 2, 0, 5, 0), w(50, 3, 0, 0.9, 0), // never met → the sweep's ceiling
		w(1, 3, 0, 0.1, 0), w(1, 1, 0, 0.1, 0),
	}
	Label(ws, slo)
	want := map[float64]int{10: 2, 50: 3, 1: 1}
	for _, x := range ws {
		if x.Label != want[x.Rate] {
			t.Errorf("rate %v: label %d, want %d", x.Rate, x.Label, want[x.Rate])
		}
	}
}

func TestQueueModelSaturates(t *testing.T) {
	st := &ServiceTimes{Hash: "fixed", knots: [][2]float64{{0, 0.1}, {1, 0.1}}}
	if math.Abs(st.Mean()-0.1) > 1e-12 {
		t.Fatalf("mean %v", st.Mean())
	}
	cfg := QueueConfig{Rates: []float64{2, 30}, Replicas: []int{1, 2, 4}, Repeats: 2, Window: 20, Warmup: 5, Timeout: 5, Seed: 1}
	ws, err := GenerateQueue(cfg, st, DefaultSLO(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		switch {
		case w.Rate == 2 && w.Replicas == 4:
			// Light load: no queueing, latency is the service time.
			if math.Abs(w.P50-0.1) > 1e-9 || w.ErrorRate != 0 || math.Abs(w.RPS-2) > 1 {
				t.Errorf("light load window %+v", w)
			}
		case w.Rate == 30 && w.Replicas == 1:
			// 30 rps onto 10 rps of capacity: the queue grows to the timeout.
			if w.ErrorRate == 0 || w.P99 < 1 || w.InFlight < 10 {
				t.Errorf("overloaded window %+v", w)
			}
		}
		if w.Rate == 2 && w.Label != 1 || w.Rate == 30 && w.Label != 4 {
			t.Errorf("rate %v labelled %d", w.Rate, w.Label)
		}
	}
	if _, err := GenerateQueue(QueueConfig{}, st, DefaultSLO(), nil); err == nil {
		t.Error("an empty sweep was accepted")
	}
}

func TestDatasetCSVRoundTripAndBadInput(t *testing.T) {
	ws := committed(t)[:20]
	var buf bytes.Buffer
	if err := WriteCSV(&buf, ws); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCSV(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ws {
		if back[i].Label != ws[i].Label || back[i].Replicas != ws[i].Replicas || math.Abs(back[i].P99-ws[i].P99) > 1e-9*ws[i].P99 {
			t.Fatalf("row %d: %+v != %+v", i, back[i], ws[i])
		}
	}
	bad := strings.Replace(buf.String(), "\n1,", "\n-1,", 1)
	bad = strings.Replace(bad, "\n2,", "\nx,", 1)
	if _, err := ReadCSV(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "not a finite number") {
		t.Fatalf("bad row: %v", err)
	}
	if _, err := ReadCSV(strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Fatal("wrong header accepted")
	}
	// Whole-number columns beyond the int range (1e300 replicas became a
	// negative int) or fractional are errors naming the column.
	head, row, _ := strings.Cut(buf.String(), "\n")
	row, _, _ = strings.Cut(row, "\n")
	for col, v := range map[int]string{1: "1e300", 2: "2.5", 13: "1e19"} {
		f := strings.Split(row, ",")
		f[col] = v
		in := head + "\n" + strings.Join(f, ",") + "\n"
		if _, err := ReadCSV(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "column "+csvHeader()[col]) || !strings.Contains(err.Error(), "whole number") {
			t.Errorf("column %d = %s: %v", col, v, err)
		}
	}
}

func TestParseRealHeyCSV(t *testing.T) {
	hey := testenv.Hey(t)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "hello")
	}))
	defer srv.Close()
	const timeout = 20 // seconds, hey -t: a slower request is an error, not a row
	out, err := exec.Command(hey, "-n", "20", "-c", "2", "-t", fmt.Sprint(timeout), "-o", "csv", srv.URL).Output()
	if err != nil {
		t.Fatalf("hey: %v", err)
	}
	rs, err := ParseHeyCSV(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[int]int{}
	for _, r := range rs {
		codes[r.Status]++
		// hey prints seconds with four decimals: a fast local response reads
		// as 0.0000, so 0 is valid; what holds for every output is a value
		// in [0, timeout] with at most four decimals.
		if r.Latency < 0 || r.Latency > timeout || math.Abs(r.Latency*1e4-math.Round(r.Latency*1e4)) > 1e-6 {
			t.Errorf("latency %v: want seconds in [0,%d] with four decimals", r.Latency, timeout)
		}
	}
	if len(rs) != 20 || codes[200] != 10 || codes[500] != 10 {
		t.Fatalf("parsed %d responses with codes %v, want 20 (10×200, 10×500)", len(rs), codes)
	}
	var w Window
	Measure(&w, rs, 1, 0)
	if w.Status500 != 10 || w.ErrorRate != 0.5 || w.FailureRatio != 10.0/10+10 {
		t.Fatalf("features %+v", w)
	}
}
