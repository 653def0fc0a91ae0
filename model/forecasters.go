package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/prescale/prescale/pkg/inference"
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
	Spec     inference.ForecasterSpec
	Forest   *inference.Forest
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
		f, err := inference.PeakForecast(&c.Spec, c.Forest, s.Counts[:p.T+1], minuteOfDay(s, p.T))
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

func spec(method string, h int, params map[string]float64) inference.ForecasterSpec {
	return inference.ForecasterSpec{Method: method, HorizonSteps: h, StepSeconds: 60, Params: params}
}

// baselines are the fixed baselines; Holt-Winters' parameters are chosen
// on the training points from a small grid.
func baselines(h int) []Candidate {
	return []Candidate{
		{Name: "last value", Spec: spec(inference.MethodLastValue, h, map[string]float64{}), Baseline: true},
		{Name: "moving average (15 min)", Spec: spec(inference.MethodMovingAverage, h, map[string]float64{"window": 15}), Baseline: true},
		{Name: "seasonal naive (60 min)", Spec: spec(inference.MethodSeasonalNaive, h, map[string]float64{"period": 60}), Baseline: true,
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

// RunForecast runs the forecasting experiment in stages (the series are
// loaded by LoadSeries; Train writes the report):
//
//	split    the forecast points of the training and test parts (splitForecast)
//	fit      the baselines, the Holt-Winters grid, the golearn forest on lag
//	         features and prescale-peak with its margin calibrated, all on
//	         the training points (fitForecasters)
//	evaluate every candidate on the test points, overall and per trace
//	         (evaluateForecasters)
//	choose   the default on the training split (chooseDefault)
func RunForecast(series []Series, cfg ForecastConfig, progress func(string)) (*ForecastResult, error) {
	sp, err := splitForecast(series, cfg)
	if err != nil {
		return nil, err
	}
	res := &ForecastResult{Config: cfg, Series: series, testPts: sp.test, NaiveScale: sp.scale}
	fit, err := fitForecasters(sp, res, progress)
	if err != nil {
		return nil, err
	}
	if err := evaluateForecasters(sp, res, fit); err != nil {
		return nil, err
	}
	res.Default, res.BestBaselineTrainMAE = chooseDefault(res.Candidates, res.Train)
	return res, nil
}

// forecastSplit is the split stage's output: the series' forecast points
// and the MASE scale.
type forecastSplit struct {
	series      []Series
	cfg         ForecastConfig
	train, test []point
	scale       []float64 // each series' MASE denominator
}

// splitForecast cuts each series at its Split into training and test
// forecast points; both must exist.
func splitForecast(series []Series, cfg ForecastConfig) (forecastSplit, error) {
	sp := forecastSplit{series: series, cfg: cfg, train: points(series, cfg, false), test: points(series, cfg, true)}
	if len(sp.train) == 0 || len(sp.test) == 0 {
		return sp, fmt.Errorf("forecast: %d training and %d test points; need both", len(sp.train), len(sp.test))
	}
	sp.scale = naiveScale(series, cfg)
	return sp, nil
}

// trainScore scores forecasts f of the training points.
func (sp forecastSplit) trainScore(f []float64) Scores { return score(sp.train, f, sp.scale, nil) }

// fitted is the fit stage's output: the candidates in order and their
// forecasts of the training points.
type fitted struct {
	cands  []Candidate
	trainF map[string][]float64 // by candidate name
}

func (ft *fitted) add(c Candidate, f []float64) {
	ft.cands = append(ft.cands, c)
	ft.trainF[c.Name] = f
}

// addForecast forecasts the training points with c and adds it.
func (ft *fitted) addForecast(sp forecastSplit, c Candidate) error {
	f, err := forecastAll(sp.series, sp.train, &c)
	if err != nil {
		return err
	}
	ft.add(c, f)
	return nil
}

// fitForecasters fits every candidate on the training points, recording
// the grids and the calibration in res.
func fitForecasters(sp forecastSplit, res *ForecastResult, progress func(string)) (fitted, error) {
	say := func(s string) {
		if progress != nil {
			progress(s)
		}
	}
	ft := fitted{trainF: map[string][]float64{}}
	for _, c := range baselines(sp.cfg.Horizon) {
		if err := ft.addForecast(sp, c); err != nil {
			return ft, err
		}
		say("baseline " + c.Name)
	}
	hw, f, err := fitHoltWinters(sp, res)
	if err != nil {
		return ft, err
	}
	ft.add(hw, f)
	say("Holt-Winters grid")
	fc, err := trainLagForest(sp.series, sp.train, sp.cfg)
	if err == nil {
		err = ft.addForecast(sp, fc)
	}
	if err != nil {
		return ft, err
	}
	say("golearn forest on lag features")
	peak, err := fitPeak(sp, res, ft)
	if err == nil {
		err = ft.addForecast(sp, peak)
	}
	if err != nil {
		return ft, err
	}
	say("prescale-peak calibrated")
	return ft, nil
}

// fitHoltWinters chooses Holt-Winters additive's (PHPA's model) parameters
// from a grid on the training points by MASE.
func fitHoltWinters(sp forecastSplit, res *ForecastResult) (Candidate, []float64, error) {
	var best Candidate
	var bestF []float64
	bestMASE := math.Inf(1)
	for _, a := range []float64{0.3, 0.6, 0.9} {
		for _, b := range []float64{0.01, 0.1} {
			for _, g := range []float64{0.1, 0.3} {
				c := Candidate{Name: "Holt-Winters additive", Baseline: true,
					Spec: spec(inference.MethodHoltWinters, sp.cfg.Horizon, map[string]float64{"alpha": a, "beta": b, "gamma": g, "period": 60, "fit_window": 180})}
				f, err := forecastAll(sp.series, sp.train, &c)
				if err != nil {
					return Candidate{}, nil, err
				}
				sc := sp.trainScore(f)
				res.HWGrid = append(res.HWGrid, fmt.Sprintf("α=%g β=%g γ=%g: train MASE %.3f", a, b, g, sc.MASE))
				if sc.MASE < bestMASE {
					bestMASE, best, bestF = sc.MASE, c, f
				}
			}
		}
	}
	p := best.Spec.Params
	best.Note = fmt.Sprintf("period 60 min, fitted on the last 180 min; α=%g β=%g γ=%g chosen on the training split", p["alpha"], p["beta"], p["gamma"])
	return best, bestF, nil
}

// peakParts are prescale-peak's forecast components at each training point:
// center and spread of the peak, and the seasonal component.
type peakParts struct{ centers, spreads, seasons []float64 }

func peakPartsOf(sp forecastSplit, pp map[string]float64) peakParts {
	n := len(sp.train)
	ps := peakParts{make([]float64, n), make([]float64, n), make([]float64, n)}
	h := sp.cfg.Horizon
	s := spec(inference.MethodPeak, h, pp)
	hn := inference.HistorySteps(&s)
	for i, pt := range sp.train {
		hist := sp.series[pt.S].Counts[:pt.T+1]
		if len(hist) > hn {
			hist = hist[len(hist)-hn:]
		}
		ps.centers[i], ps.spreads[i] = inference.PeakCenter(hist, pp, h)
		ps.seasons[i] = inference.SeasonalComponent(hist, pp, h)
	}
	return ps
}

// forecast is prescale-peak's forecast of each training point with margin k.
func (ps peakParts) forecast(k float64) []float64 {
	fk := make([]float64, len(ps.centers))
	for i := range fk {
		fk[i] = math.Max(0, math.Max(ps.centers[i]+k*ps.spreads[i], ps.seasons[i]))
	}
	return fk
}

// fitPeak chooses prescale-peak's structure on the training points at k = 0
// by MAE, then calibrates its margin k: the largest quantile of the
// training residuals whose training MAE and MASE are no worse than the best
// candidate's so far (ft), else the median.
func fitPeak(sp forecastSplit, res *ForecastResult, ft fitted) (Candidate, error) {
	bestBaseMAE, bestBaseMASE := math.Inf(1), math.Inf(1)
	for _, c := range ft.cands {
		sc := sp.trainScore(ft.trainF[c.Name])
		bestBaseMAE = math.Min(bestBaseMAE, sc.MAE)
		bestBaseMASE = math.Min(bestBaseMASE, sc.MASE)
	}
	pp, best := peakStructure(sp, res)
	chosen := calibratePeak(sp, res, best, bestBaseMAE, bestBaseMASE)
	pp["k"] = res.Calibration[chosen].K
	return Candidate{Name: "prescale-peak", Spec: spec(inference.MethodPeak, sp.cfg.Horizon, pp),
		Note: fmt.Sprintf("margin k=%g (the %g quantile of the training residuals)", pp["k"], res.Calibration[chosen].Quantile)}, nil
}

// peakStructure is the grid over prescale-peak's structural parameters at
// k = 0, by training MAE.
func peakStructure(sp forecastSplit, res *ForecastResult) (map[string]float64, peakParts) {
	var pp map[string]float64
	var best peakParts
	bestMAE := math.Inf(1)
	for _, alpha := range []float64{0.3, 0.6} {
		for _, mw := range []float64{1, 5} {
			for _, tw := range []float64{0, 1} {
				for _, seasons := range []float64{1, 3} {
					cand := PeakParams()
					cand["alpha"], cand["mean_window"], cand["trend_weight"], cand["seasons"] = alpha, mw, tw, seasons
					ps := peakPartsOf(sp, cand)
					sc := sp.trainScore(ps.forecast(0))
					res.PeakGrid = append(res.PeakGrid, fmt.Sprintf("α=%g mean_window=%g trend_weight=%g seasons=%g: train MAE %.3f, MASE %.3f, under %.3f", alpha, mw, tw, seasons, sc.MAE, sc.MASE, sc.Under))
					if sc.MAE < bestMAE {
						bestMAE, pp, best = sc.MAE, cand, ps
					}
				}
			}
		}
	}
	return pp, best
}

// calibratePeak records a CalibrationRow per configured quantile and
// returns the chosen row's index (marked Chosen).
func calibratePeak(sp forecastSplit, res *ForecastResult, best peakParts, bestBaseMAE, bestBaseMASE float64) int {
	resid := make([]float64, len(sp.train))
	for i, pt := range sp.train {
		if best.spreads[i] > 0 {
			resid[i] = (pt.Actual - best.centers[i]) / best.spreads[i]
		}
	}
	sorted := append([]float64(nil), resid...)
	sort.Float64s(sorted)
	chosen := -1
	for _, q := range sp.cfg.Quantiles {
		k := math.Round(sorted[int(q*float64(len(sorted)-1))]*1000) / 1000
		sc := sp.trainScore(best.forecast(k))
		res.Calibration = append(res.Calibration, CalibrationRow{Quantile: q, K: k, TrainMAE: sc.MAE, TrainU: sc.Under, TrainMASE: sc.MASE})
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
	return chosen
}

// evaluateForecasters scores every fitted candidate on the training points
// and on the test points, overall and per trace file.
func evaluateForecasters(sp forecastSplit, res *ForecastResult, ft fitted) error {
	traceSet := map[string]bool{}
	for _, s := range sp.series {
		traceSet[s.Trace] = true
	}
	for t := range traceSet {
		res.Traces = append(res.Traces, t)
	}
	sort.Strings(res.Traces)
	for i := range ft.cands {
		tf, err := forecastAll(sp.series, sp.test, &ft.cands[i])
		if err != nil {
			return err
		}
		res.testF = append(res.testF, tf)
		res.Train = append(res.Train, sp.trainScore(ft.trainF[ft.cands[i].Name]))
		res.Test = append(res.Test, score(sp.test, tf, sp.scale, nil))
		per := map[string]Scores{}
		for _, tr := range res.Traces {
			per[tr] = score(sp.test, tf, sp.scale, func(p point) bool { return sp.series[p.S].Trace == tr })
		}
		res.PerTrace = append(res.PerTrace, per)
	}
	res.Candidates = ft.cands
	return nil
}

// chooseDefault picks the default on the training split: the lowest
// under-forecast rate among the candidates whose training MAE is no worse
// than the best baseline's (ties: lower MAE). It returns the index (-1 when
// none qualifies) and that best baseline MAE.
func chooseDefault(cands []Candidate, train []Scores) (int, float64) {
	bestBase := math.Inf(1)
	for i, c := range cands {
		if c.Baseline {
			bestBase = math.Min(bestBase, train[i].MAE)
		}
	}
	def := -1
	for i := range cands {
		tr := train[i]
		if tr.MAE > bestBase {
			continue
		}
		if def < 0 || tr.Under < train[def].Under || (tr.Under == train[def].Under && tr.MAE < train[def].MAE) {
			def = i
		}
	}
	return def, bestBase
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
		row, sc := inference.LagFeatures(s.Counts[:p.T+1], cfg.Horizon, minuteOfDay(s, p.T))
		x = append(x, row)
		y = append(y, math.Log((p.Actual+1)/sc))
	}
	ff, err := FitForest(x, y, cfg.Forest, nil)
	if err != nil {
		return Candidate{}, fmt.Errorf("forest on lag features: %w", err)
	}
	return Candidate{Name: "golearn forest on lags", Baseline: true, Forest: ff.Export,
		Spec: spec(inference.MethodForestLags, cfg.Horizon, map[string]float64{}),
		Note: fmt.Sprintf("%d bagged golearn CART regression trees, depth ≤ %d, %d of %d features each, %d training rows",
			cfg.Forest.Trees, cfg.Forest.MaxDepth, cfg.Forest.SubFeatures, len(inference.LagFeatureNames()), len(x))}, nil
}
