package inference

import (
	"fmt"
	"math"
	"sort"
)

// Forecasting methods. The default artefact uses MethodPeak; the others are
// the baselines it is measured against, shipped so any of them can be
// published and served.
const (
	MethodLastValue     = "last-value"
	MethodMovingAverage = "moving-average"
	MethodSeasonalNaive = "seasonal-naive"
	MethodHoltWinters   = "holt-winters"
	MethodForestLags    = "forest-lags"
	// MethodPeak is prescale's forecaster: a level (the larger of an EWMA
	// and a short mean) plus its positive trend over the horizon, plus a
	// calibrated safety margin of k spreads, where the spread is the larger
	// of the recent standard deviation and the Poisson floor sqrt(level);
	// never below the peak of the same window one season ago.
	MethodPeak = "prescale-peak"
)

// ForecasterSpec is a forecaster's method and parameters. The series unit
// is requests per minute per step (what the Azure traces count); StepSeconds
// is the step the model was trained on.
type ForecasterSpec struct {
	Method       string             `json:"method"`
	HorizonSteps int                `json:"horizon_steps"`
	StepSeconds  float64            `json:"step_seconds"`
	Params       map[string]float64 `json:"params"`
}

// methodParams lists the parameters each method requires.
func methodParams() map[string][]string {
	return map[string][]string{
		MethodLastValue:     nil,
		MethodMovingAverage: {"window"},
		MethodSeasonalNaive: {"period"},
		MethodHoltWinters:   {"alpha", "beta", "gamma", "period", "fit_window"},
		MethodForestLags:    nil,
		MethodPeak:          {"alpha", "mean_window", "trend_window", "sigma_window", "k", "period"},
	}
}

// Methods lists the known forecasting methods, sorted.
func Methods() []string {
	mp := methodParams()
	out := make([]string, 0, len(mp))
	for m := range mp {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func (s *ForecasterSpec) validate() error {
	need, ok := methodParams()[s.Method]
	if !ok {
		return fmt.Errorf("unknown method %q (known: %v)", s.Method, Methods())
	}
	if s.HorizonSteps < 1 || s.HorizonSteps > 1440 {
		return fmt.Errorf("horizon_steps %d outside 1..1440", s.HorizonSteps)
	}
	if !finite(s.StepSeconds) || s.StepSeconds <= 0 {
		return fmt.Errorf("step_seconds %v must be a finite number > 0", s.StepSeconds)
	}
	for k, v := range s.Params {
		if !finite(v) {
			return fmt.Errorf("parameter %q is not a finite number", k)
		}
	}
	for _, p := range need {
		if _, ok := s.Params[p]; !ok {
			return fmt.Errorf("method %s needs parameter %q", s.Method, p)
		}
	}
	for _, p := range []string{"window", "period", "fit_window", "mean_window", "trend_window", "sigma_window", "seasons"} {
		if v, ok := s.Params[p]; ok && (v < 1 || v > 100000 || v != math.Trunc(v)) {
			return fmt.Errorf("parameter %q = %v must be a whole number in 1..100000", p, v)
		}
	}
	for _, p := range []string{"alpha", "beta", "gamma"} {
		if v, ok := s.Params[p]; ok && (v <= 0 || v > 1) {
			return fmt.Errorf("parameter %q = %v must be in (0, 1]", p, v)
		}
	}
	return nil
}

// PeakForecast forecasts the peak of the next h steps of a series from its
// history (oldest first, newest last). minuteOfDay locates the newest step
// in the day (0..1439) for methods that use time of day. forest is needed
// only by MethodForestLags. The result is never negative.
func PeakForecast(spec *ForecasterSpec, forest *Forest, history []float64, minuteOfDay float64) (float64, error) {
	if len(history) == 0 {
		return 0, fmt.Errorf("forecast: empty history")
	}
	for i, v := range history {
		if !finite(v) || v < 0 {
			return 0, fmt.Errorf("forecast: history value %d is %v, want a finite number >= 0", i, v)
		}
	}
	history = tail(history, HistorySteps(spec))
	h := spec.HorizonSteps
	p := spec.Params
	n := len(history)
	last := history[n-1]
	var out float64
	switch spec.Method {
	case MethodLastValue:
		out = last
	case MethodMovingAverage:
		out = mean(tail(history, int(p["window"])))
	case MethodSeasonalNaive:
		out = seasonalPeak(history, int(p["period"]), h, last)
	case MethodHoltWinters:
		out = holtWintersPeak(tail(history, int(p["fit_window"])), p["alpha"], p["beta"], p["gamma"], int(p["period"]), h)
	case MethodPeak:
		out = prescalePeak(history, p, h)
	case MethodForestLags:
		if forest == nil {
			return 0, fmt.Errorf("forecast: method %s has no forest", MethodForestLags)
		}
		x, scale := LagFeatures(history, h, minuteOfDay)
		out = math.Exp(forest.Predict(x))*scale - 1
	default:
		return 0, fmt.Errorf("forecast: unknown method %q", spec.Method)
	}
	if !finite(out) || out < 0 {
		out = 0
	}
	return out, nil
}

// HistorySteps is how much history a forecast looks at: longer histories
// are cut to this, so training-time evaluation and serving see the same
// input. It is at least 240 steps (four hours of minutes).
func HistorySteps(spec *ForecasterSpec) int {
	n := max(240, int(spec.Params["period"])*int(max(1, spec.Params["seasons"]))+spec.HorizonSteps+1)
	for _, k := range []string{"fit_window", "window", "mean_window", "trend_window", "sigma_window"} {
		n = max(n, int(spec.Params[k]))
	}
	return max(n, int(spec.Params["period"])+spec.HorizonSteps+1)
}

// PeakCenter and PeakSpread are the two parts of MethodPeak before the
// margin: the forecast is max(center + k*spread, seasonal peak). They are
// exported so training can calibrate k on the training split.
func PeakCenter(history []float64, p map[string]float64, h int) (center, spread float64) {
	level := ewma(history, p["alpha"])
	level = math.Max(level, mean(tail(history, int(p["mean_window"]))))
	slope := trendSlope(tail(history, int(p["trend_window"])))
	trendWeight := 1.0
	if w, ok := p["trend_weight"]; ok {
		trendWeight = w
	}
	center = level + trendWeight*math.Max(0, slope)*float64(h)
	sd := stddev(tail(history, int(p["sigma_window"])))
	spread = math.Max(sd, math.Sqrt(math.Max(level, 0)))
	return center, spread
}

func prescalePeak(history []float64, p map[string]float64, h int) float64 {
	center, spread := PeakCenter(history, p, h)
	return math.Max(center+p["k"]*spread, SeasonalComponent(history, p, h))
}

// SeasonalComponent is MethodPeak's seasonal part: the median of the peaks
// of the same window in each of the last "seasons" periods (default 1)
// that the history covers; 0 when it covers none.
func SeasonalComponent(history []float64, p map[string]float64, h int) float64 {
	period := int(p["period"])
	seasons := max(1, int(p["seasons"]))
	var peaks []float64
	for k := 1; k <= seasons; k++ {
		end := len(history) - (k-1)*period // the series as it was k-1 periods ago
		if end-period < 0 {
			break
		}
		peaks = append(peaks, seasonalPeak(history[:end], period, h, 0))
	}
	if len(peaks) == 0 {
		return 0
	}
	sort.Float64s(peaks)
	if len(peaks)%2 == 1 {
		return peaks[len(peaks)/2]
	}
	return (peaks[len(peaks)/2-1] + peaks[len(peaks)/2]) / 2
}

// seasonalPeak is the peak of the h steps that followed the same point one
// period ago; fallback when the history is shorter than a period.
func seasonalPeak(x []float64, period, h int, fallback float64) float64 {
	n := len(x)
	// Newest step is n-1; the next h steps are n..n+h-1; a period earlier
	// they are n-period..n-period+h-1, of which only those < n exist.
	from := n - period
	if from < 0 {
		return fallback
	}
	to := min(from+h, n)
	peak := 0.0
	for i := from; i < to; i++ {
		peak = math.Max(peak, x[i])
	}
	return peak
}

// holtWintersPeak fits additive Holt-Winters to x and returns the largest
// of the h forecasts. Shorter than two periods: Holt's linear method.
func holtWintersPeak(x []float64, alpha, beta, gamma float64, period, h int) float64 {
	n := len(x)
	if period < 2 || n < 2*period {
		level, trend := x[0], 0.0
		for i := 1; i < n; i++ {
			prev := level
			level = alpha*x[i] + (1-alpha)*(level+trend)
			trend = beta*(level-prev) + (1-beta)*trend
		}
		peak := 0.0
		for k := 1; k <= h; k++ {
			peak = math.Max(peak, level+float64(k)*trend)
		}
		return peak
	}
	m1, m2 := mean(x[:period]), mean(x[period:2*period])
	level, trend := m1, (m2-m1)/float64(period)
	season := make([]float64, period)
	for i := 0; i < period; i++ {
		season[i] = x[i] - m1
	}
	for i := period; i < n; i++ {
		s := season[i%period]
		prev := level
		level = alpha*(x[i]-s) + (1-alpha)*(level+trend)
		trend = beta*(level-prev) + (1-beta)*trend
		season[i%period] = gamma*(x[i]-level) + (1-gamma)*s
	}
	peak := math.Inf(-1)
	for k := 1; k <= h; k++ {
		peak = math.Max(peak, level+float64(k)*trend+season[(n-1+k)%period])
	}
	return peak
}

// LagFeatureNames names the features of MethodForestLags, in order.
func LagFeatureNames() []string {
	return []string{"lag0", "lag1", "lag2", "lag3", "lag4", "lag5", "lag6", "lag7", "lag8", "lag9",
		"mean5", "mean15", "max15", "std30", "slope15", "season_peak", "log_scale", "tod_sin", "tod_cos"}
}

// LagFeatures builds the forest-lags input for the newest step of history:
// lags and rolling statistics divided by scale = mean of the last 30 steps
// + 1 (so one forest serves functions of any size), the log of that scale,
// and the time of day. The forest predicts log((peak+1)/scale).
func LagFeatures(history []float64, h int, minuteOfDay float64) (x []float64, scale float64) {
	scale = mean(tail(history, 30)) + 1
	n := len(history)
	x = make([]float64, 0, 19)
	for i := 0; i < 10; i++ {
		v := 0.0
		if n-1-i >= 0 {
			v = history[n-1-i]
		} else {
			v = history[0]
		}
		x = append(x, v/scale)
	}
	x = append(x,
		mean(tail(history, 5))/scale,
		mean(tail(history, 15))/scale,
		maxOf(tail(history, 15))/scale,
		stddev(tail(history, 30))/scale,
		trendSlope(tail(history, 15))/scale,
		seasonalPeak(history, 60, h, mean(tail(history, 15)))/scale,
		math.Log1p(scale),
		math.Sin(2*math.Pi*minuteOfDay/1440),
		math.Cos(2*math.Pi*minuteOfDay/1440),
	)
	return x, scale
}

func tail(x []float64, n int) []float64 {
	if n <= 0 || n >= len(x) {
		return x
	}
	return x[len(x)-n:]
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func maxOf(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, v)
	}
	return m
}

func stddev(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m := mean(x)
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

func ewma(x []float64, alpha float64) float64 {
	if len(x) == 0 {
		return 0
	}
	l := x[0]
	for _, v := range x[1:] {
		l = alpha*v + (1-alpha)*l
	}
	return l
}

// trendSlope is the least-squares slope per step.
func trendSlope(x []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i, v := range x {
		fi := float64(i)
		sx += fi
		sy += v
		sxx += fi * fi
		sxy += fi * v
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
