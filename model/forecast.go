package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/prescale/prescale/pkg/models"
)

// ForecastConfig is the demand-forecasting experiment.
type ForecastConfig struct {
	Horizon int // minutes ahead whose peak is forecast
	// TrainStride is the step between training forecast points (1 = every minute).
	TrainStride int
	// Warmup is the history every forecast point has at least.
	Warmup int
	// ForestSamples caps the forest-lags training rows.
	ForestSamples int
	Forest        ForestParams
	// Quantiles tried when calibrating prescale-peak's margin.
	Quantiles []float64
}

// DefaultForecastConfig: 5-minute horizon; the test split is cut into
// consecutive non-overlapping 5-minute intervals.
func DefaultForecastConfig() ForecastConfig {
	return ForecastConfig{
		Horizon: 5, TrainStride: 1, Warmup: 10, ForestSamples: 2000,
		Forest:    ForestParams{Trees: 12, MaxDepth: 7, SubFeatures: 12, Seed: 7, MaxSamples: 800},
		Quantiles: []float64{0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95},
	}
}

// Candidate is one forecaster under evaluation.
type Candidate struct {
	Name     string
	Spec     models.ForecasterSpec
	Forest   *models.Forest
	Baseline bool
	Note     string
}

// point is one forecast point: at the end of step T of series S, forecast
// the peak of steps T+1..T+H.
type point struct {
	S, T   int
	Actual float64
}

func points(series []Series, cfg ForecastConfig, test bool) []point {
	var out []point
	h := cfg.Horizon
	for si, s := range series {
		from, to, stride := cfg.Warmup-1, s.Split-1-h, cfg.TrainStride
		if test {
			from, to, stride = s.Split-1, len(s.Counts)-1-h, h
		}
		for t := from; t <= to; t += stride {
			out = append(out, point{S: si, T: t, Actual: maxOf(s.Counts[t+1 : t+1+h])})
		}
	}
	return out
}

func maxOf(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, v)
	}
	return m
}

func minuteOfDay(s Series, t int) float64 {
	m := (s.FirstMinute + t - 1) % 1440
	if m < 0 {
		m += 1440
	}
	return float64(m)
}

// Scores are the forecast metrics over a set of points.
type Scores struct {
	N int
	// MAE is the mean absolute error in requests per minute, over all points.
	MAE float64
	// MASE is the mean over functions of MAE / (the in-sample MAE of the
	// last-value forecast on that function's training points).
	MASE float64
	// Under is the share of points whose forecast is below the actual peak.
	Under float64
	// Over is the mean over-forecast (forecast − actual where positive), req/min.
	Over float64
}

// evaluation holds one candidate's forecasts.
type evaluation struct {
	forecast []float64
}

func forecastAll(series []Series, pts []point, c *Candidate) ([]float64, error) {
	out := make([]float64, len(pts))
	for i, p := range pts {
		s := series[p.S]
		f, err := models.PeakForecast(&c.Spec, c.Forest, s.Counts[:p.T+1], minuteOfDay(s, p.T))
		if err != nil {
			return nil, fmt.Errorf("%s on %s/%s step %d: %w", c.Name, s.Trace, s.Hash, p.T, err)
		}
		out[i] = f
	}
	return out, nil
}

// naiveScale is, per series, the MAE of the last-value forecast on its
// training points (stride = horizon), the MASE denominator.
func naiveScale(series []Series, cfg ForecastConfig) []float64 {
	c := cfg
	c.TrainStride = cfg.Horizon
	pts := points(series, c, false)
	sum := make([]float64, len(series))
	n := make([]float64, len(series))
	for _, p := range pts {
		sum[p.S] += math.Abs(p.Actual - series[p.S].Counts[p.T])
		n[p.S]++
	}
	for i := range sum {
		if n[i] > 0 {
			sum[i] /= n[i]
		}
	}
	return sum
}

func score(pts []point, f []float64, scale []float64, keep func(point) bool) Scores {
	var sc Scores
	perAbs := map[int]float64{}
	perN := map[int]float64{}
	var under, over float64
	for i, p := range pts {
		if keep != nil && !keep(p) {
			continue
		}
		e := f[i] - p.Actual
		sc.N++
		sc.MAE += math.Abs(e)
		if f[i] < p.Actual {
			under++
		}
		if e > 0 {
			over += e
		}
		perAbs[p.S] += math.Abs(e)
		perN[p.S]++
	}
	if sc.N == 0 {
		return sc
	}
	sc.MAE /= float64(sc.N)
	sc.Under = under / float64(sc.N)
	sc.Over = over / float64(sc.N)
	var m, k float64
	ids := make([]int, 0, len(perAbs))
	for s := range perAbs {
		ids = append(ids, s)
	}
	sort.Ints(ids)
	for _, s := range ids {
		if scale[s] > 0 {
			m += perAbs[s] / perN[s] / scale[s]
			k++
		}
	}
	if k > 0 {
		sc.MASE = m / k
	}
	return sc
}

func spec(method string, h int, params map[string]float64) models.ForecasterSpec {
	return models.ForecasterSpec{Method: method, HorizonSteps: h, StepSeconds: 60, Params: params}
}

// baselines are the fixed baselines; Holt-Winters' parameters are chosen
// on the training points from a small grid.
func baselines(h int) []Candidate {
	return []Candidate{
		{Name: "last value", Spec: spec(models.MethodLastValue, h, map[string]float64{}), Baseline: true},
		{Name: "moving average (15 min)", Spec: spec(models.MethodMovingAverage, h, map[string]float64{"window": 15}), Baseline: true},
		{Name: "seasonal naive (60 min)", Spec: spec(models.MethodSeasonalNaive, h, map[string]float64{"period": 60}), Baseline: true,
			Note: "the peak of the same window one hour earlier; no trace covers two days, so a daily season cannot be used"},
	}
}

// PeakParams are prescale-peak's structural parameters (k is calibrated).
func PeakParams() map[string]float64 {
	return map[string]float64{"alpha": 0.5, "mean_window": 5, "trend_window": 10, "trend_weight": 1, "sigma_window": 30, "period": 60, "seasons": 1, "k": 0}
}

// ForecastResult is the whole forecasting experiment.
type ForecastResult struct {
	Config     ForecastConfig
	Series     []Series
	Candidates []Candidate
	Train      []Scores // per candidate, on the training points
	Test       []Scores // per candidate, on the test points
	// PerTrace[c][trace] is the candidate's test score on one trace file.
	PerTrace []map[string]Scores
	Traces   []string
	Default  int // index of the chosen default
	// BestBaselineTrainMAE is the lowest training MAE of a baseline.
	BestBaselineTrainMAE float64
	// Calibration records how prescale-peak's k was chosen.
	Calibration []CalibrationRow
	HWGrid      []string
	PeakGrid    []string
	testPts     []point
	testF       [][]float64
	// NaiveScale is each series' MASE denominator.
	NaiveScale []float64
}

// CalibrationRow is one quantile tried for prescale-peak's margin.
type CalibrationRow struct {
	Quantile, K      float64
	TrainMAE, TrainU float64
	TrainMASE        float64
	Chosen           bool
}

// RunForecast runs the forecasting experiment: baselines, Holt-Winters
// grid, the golearn forest on lag features and prescale-peak with its
// margin calibrated on the training points, all scored on the test points.
func RunForecast(series []Series, cfg ForecastConfig, progress func(string)) (*ForecastResult, error) {
	say := func(s string) {
		if progress != nil {
			progress(s)
		}
	}
	h := cfg.Horizon
	trainPts := points(series, cfg, false)
	testPts := points(series, cfg, true)
	if len(trainPts) == 0 || len(testPts) == 0 {
		return nil, fmt.Errorf("forecast: %d training and %d test points; need both", len(trainPts), len(testPts))
	}
	scale := naiveScale(series, cfg)
	res := &ForecastResult{Config: cfg, Series: series, testPts: testPts, NaiveScale: scale}
	trainF := map[string][]float64{}

	cands := baselines(h)
	for i := range cands {
		f, err := forecastAll(series, trainPts, &cands[i])
		if err != nil {
			return nil, err
		}
		trainF[cands[i].Name] = f
		say("baseline " + cands[i].Name)
	}

	// Holt-Winters additive (PHPA's model): grid on the training points by MASE.
	var bestHW Candidate
	bestMASE := math.Inf(1)
	for _, a := range []float64{0.3, 0.6, 0.9} {
		for _, b := range []float64{0.01, 0.1} {
			for _, g := range []float64{0.1, 0.3} {
				c := Candidate{Name: "Holt-Winters additive", Baseline: true,
					Spec: spec(models.MethodHoltWinters, h, map[string]float64{"alpha": a, "beta": b, "gamma": g, "period": 60, "fit_window": 180})}
				f, err := forecastAll(series, trainPts, &c)
				if err != nil {
					return nil, err
				}
				sc := score(trainPts, f, scale, nil)
				res.HWGrid = append(res.HWGrid, fmt.Sprintf("α=%g β=%g γ=%g: train MASE %.3f", a, b, g, sc.MASE))
				if sc.MASE < bestMASE {
					bestMASE, bestHW = sc.MASE, c
					trainF[c.Name] = f
				}
			}
		}
	}
	p := bestHW.Spec.Params
	bestHW.Note = fmt.Sprintf("period 60 min, fitted on the last 180 min; α=%g β=%g γ=%g chosen on the training split", p["alpha"], p["beta"], p["gamma"])
	cands = append(cands, bestHW)
	say("Holt-Winters grid")

	// golearn forest on lag features.
	fc, err := trainLagForest(series, trainPts, cfg)
	if err != nil {
		return nil, err
	}
	cands = append(cands, fc)
	f, err := forecastAll(series, trainPts, &fc)
	if err != nil {
		return nil, err
	}
	trainF[fc.Name] = f
	say("golearn forest on lag features")

	// prescale-peak: calibrate k on the training points. The largest
	// quantile whose training MAE is no worse than the best baseline's.
	bestBaseMAE, bestBaseMASE := math.Inf(1), math.Inf(1)
	for _, c := range cands {
		sc := score(trainPts, trainF[c.Name], scale, nil)
		bestBaseMAE = math.Min(bestBaseMAE, sc.MAE)
		bestBaseMASE = math.Min(bestBaseMASE, sc.MASE)
	}
	type parts struct{ centers, spreads, seasons []float64 }
	partsOf := func(pp map[string]float64) parts {
		ps := parts{make([]float64, len(trainPts)), make([]float64, len(trainPts)), make([]float64, len(trainPts))}
		sp := spec(models.MethodPeak, h, pp)
		hn := models.HistorySteps(&sp)
		for i, pt := range trainPts {
			hist := series[pt.S].Counts[:pt.T+1]
			if len(hist) > hn {
				hist = hist[len(hist)-hn:]
			}
			ps.centers[i], ps.spreads[i] = models.PeakCenter(hist, pp, h)
			ps.seasons[i] = models.SeasonalComponent(hist, pp, h)
		}
		return ps
	}
	forecastK := func(ps parts, k float64) []float64 {
		fk := make([]float64, len(trainPts))
		for i := range trainPts {
			fk[i] = math.Max(0, math.Max(ps.centers[i]+k*ps.spreads[i], ps.seasons[i]))
		}
		return fk
	}
	// Structure: chosen on the training points at k = 0 by MAE.
	var pp map[string]float64
	var best parts
	bestMAE := math.Inf(1)
	for _, alpha := range []float64{0.3, 0.6} {
		for _, mw := range []float64{1, 5} {
			for _, tw := range []float64{0, 1} {
				for _, seasons := range []float64{1, 3} {
					cand := PeakParams()
					cand["alpha"], cand["mean_window"], cand["trend_weight"], cand["seasons"] = alpha, mw, tw, seasons
					ps := partsOf(cand)
					sc := score(trainPts, forecastK(ps, 0), scale, nil)
					res.PeakGrid = append(res.PeakGrid, fmt.Sprintf("α=%g mean_window=%g trend_weight=%g seasons=%g: train MAE %.3f, MASE %.3f, under %.3f", alpha, mw, tw, seasons, sc.MAE, sc.MASE, sc.Under))
					if sc.MAE < bestMAE {
						bestMAE, pp, best = sc.MAE, cand, ps
					}
				}
			}
		}
	}
	resid := make([]float64, len(trainPts))
	for i, pt := range trainPts {
		if best.spreads[i] > 0 {
			resid[i] = (pt.Actual - best.centers[i]) / best.spreads[i]
		}
	}
	sorted := append([]float64(nil), resid...)
	sort.Float64s(sorted)
	chosen := -1
	for _, q := range cfg.Quantiles {
		k := math.Round(sorted[int(q*float64(len(sorted)-1))]*1000) / 1000
		fk := forecastK(best, k)
		sc := score(trainPts, fk, scale, nil)
		row := CalibrationRow{Quantile: q, K: k, TrainMAE: sc.MAE, TrainU: sc.Under, TrainMASE: sc.MASE}
		res.Calibration = append(res.Calibration, row)
		if sc.MAE <= bestBaseMAE && sc.MASE <= bestBaseMASE {
			chosen = len(res.Calibration) - 1
		}
	}
	if chosen < 0 {
		// No margin keeps MAE at the best baseline's: take the median (the
		// MAE-optimal quantile) and say so in the report.
		chosen = 0
	}
	res.Calibration[chosen].Chosen = true
	pp["k"] = res.Calibration[chosen].K
	peak := Candidate{Name: "prescale-peak", Spec: spec(models.MethodPeak, h, pp),
		Note: fmt.Sprintf("margin k=%g (the %g quantile of the training residuals)", pp["k"], res.Calibration[chosen].Quantile)}
	cands = append(cands, peak)
	f, err = forecastAll(series, trainPts, &peak)
	if err != nil {
		return nil, err
	}
	trainF[peak.Name] = f
	say("prescale-peak calibrated")

	// Score everything on the test points.
	traceSet := map[string]bool{}
	for _, s := range series {
		traceSet[s.Trace] = true
	}
	for t := range traceSet {
		res.Traces = append(res.Traces, t)
	}
	sort.Strings(res.Traces)
	for i := range cands {
		tf, err := forecastAll(series, testPts, &cands[i])
		if err != nil {
			return nil, err
		}
		res.testF = append(res.testF, tf)
		res.Train = append(res.Train, score(trainPts, trainF[cands[i].Name], scale, nil))
		res.Test = append(res.Test, score(testPts, tf, scale, nil))
		per := map[string]Scores{}
		for _, tr := range res.Traces {
			tr := tr
			per[tr] = score(testPts, tf, scale, func(p point) bool { return series[p.S].Trace == tr })
		}
		res.PerTrace = append(res.PerTrace, per)
	}
	res.Candidates = cands
	// The default, chosen on the training split: the lowest under-forecast
	// rate among the models whose training MAE is no worse than the best
	// baseline's (ties: lower MAE).
	bestBase := math.Inf(1)
	for i, c := range cands {
		if c.Baseline {
			bestBase = math.Min(bestBase, res.Train[i].MAE)
		}
	}
	res.BestBaselineTrainMAE = bestBase
	res.Default = -1
	for i := range cands {
		tr := res.Train[i]
		if tr.MAE > bestBase {
			continue
		}
		if d := res.Default; d < 0 || tr.Under < res.Train[d].Under || (tr.Under == res.Train[d].Under && tr.MAE < res.Train[d].MAE) {
			res.Default = i
		}
	}
	return res, nil
}

// trainLagForest fits the golearn forest on lag features of a
// deterministic sample of the training points.
func trainLagForest(series []Series, trainPts []point, cfg ForecastConfig) (Candidate, error) {
	// The same number of rows from every function (evenly spaced in time),
	// so the few large functions are not drowned by the many small ones.
	bySeries := map[int][]int{}
	for i, p := range trainPts {
		bySeries[p.S] = append(bySeries[p.S], i)
	}
	per := max(1, cfg.ForestSamples/max(1, len(bySeries)))
	var idx []int
	for s := range series {
		pts := bySeries[s]
		if len(pts) == 0 {
			continue
		}
		step := max(1, len(pts)/per)
		for j := 0; j < len(pts) && j/step < per; j += step {
			idx = append(idx, pts[j])
		}
	}
	x := make([][]float64, 0, len(idx))
	y := make([]float64, 0, len(idx))
	for _, i := range idx {
		p := trainPts[i]
		s := series[p.S]
		row, sc := models.LagFeatures(s.Counts[:p.T+1], cfg.Horizon, minuteOfDay(s, p.T))
		x = append(x, row)
		y = append(y, math.Log((p.Actual+1)/sc))
	}
	ff, err := FitForest(x, y, cfg.Forest, nil)
	if err != nil {
		return Candidate{}, fmt.Errorf("forest on lag features: %w", err)
	}
	return Candidate{Name: "golearn forest on lags", Baseline: true, Forest: ff.Export,
		Spec: spec(models.MethodForestLags, cfg.Horizon, map[string]float64{}),
		Note: fmt.Sprintf("%d bagged golearn CART regression trees, depth ≤ %d, %d of %d features each, %d training rows",
			cfg.Forest.Trees, cfg.Forest.MaxDepth, cfg.Forest.SubFeatures, len(models.LagFeatureNames()), len(x))}, nil
}
