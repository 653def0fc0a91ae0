package decide

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Arrival model constants. The state they bound is a few KB of JSON.
const (
	// IdleBins is the number of one-minute bins of the idle-time histogram
	// (0..4 h, the range of Shahrad et al.'s hybrid histogram). Idle times
	// of 4 h or more are counted in ArrivalState.Over.
	IdleBins = 240
	// IdleBinWidth is the width of one histogram bin at the default
	// resolution (ArrivalState.Res scales it).
	IdleBinWidth = time.Minute
	// StartsCap is how many burst starts (invocations after at least
	// BurstGap of silence) the periodicity ring keeps.
	StartsCap = 32
	// BurstGap is the silence after which an invocation starts a new burst,
	// at the default resolution (ArrivalState.Res scales it).
	BurstGap = time.Minute
	// ArrivalHalfLife is the half-life of the histogram's exponential decay:
	// an idle time seen a day ago counts half as much as one seen now.
	ArrivalHalfLife = 24 * time.Hour
	// periodMinStarts is the fewest burst starts a period is detected from
	// by autocorrelation.
	periodMinStarts = 5
	// timerMinStarts is the fewest burst starts a timer's period is
	// trusted from: every gap between them within a quarter of the model's
	// unit (timerTolerance) of their median, or within the observation's
	// own quantum when that is coarser (Quantum: a start seen in a count
	// per tick is known only to within the tick). Gaps of irregular calls
	// rarely agree that closely; a timer's do every time, and waiting for
	// five starts holds it warm through two more periods (bench/NOTES.md).
	timerMinStarts = 3
	timerTolerance = 0.25
	// periodMinScore is the autocorrelation a period needs (the share of
	// burst starts followed by another one period later, ±1 bin).
	periodMinScore = 0.6
)

// ArrivalState is one function's arrival model between control ticks:
// plain JSON (a few KB at most: 240 numbers, 32 timestamps), bounded in
// size, kept in the KV store so it survives restarts. It is fed by Update
// (counts per tick, e.g. from the gateway's counters, which keep counting a
// function at zero replicas) or Observe (exact invocation times).
//
//   - Idle is the exponentially decayed histogram of idle times (the gap
//     between one invocation and the next), one-minute bins over 4 h; Over
//     counts the idle times of 4 h or more. Bins are stored scaled by
//     2^((Epoch-DecayEpoch)/half-life) (lazy decay): only ratios matter.
//   - Starts is a ring of the newest burst starts (Unix ms), from which
//     Period (seconds; 0 = not periodic) is detected by autocorrelation.
type ArrivalState struct {
	V      int       `json:"v"`
	Since  time.Time `json:"since,omitzero"` // first Update/Observe
	Last   time.Time `json:"last,omitzero"`  // newest invocation
	Total  float64   `json:"total"`          // invocations seen
	Gaps   int       `json:"gaps"`           // idle times recorded (not decayed): the model's confidence
	Idle   []float64 `json:"idle,omitempty"` // len <= IdleBins, trailing zeros trimmed
	Over   float64   `json:"over,omitempty"`
	Epoch  time.Time `json:"epoch,omitzero"` // time the stored scale refers to
	Starts []int64   `json:"starts,omitempty"`
	// Period is the detected period (seconds) of the burst starts, 0 when
	// none; Jitter is the largest deviation (seconds) of a recent matching
	// gap from it; PeriodScore its autocorrelation (0..1).
	Period      float64 `json:"period,omitempty"`
	Jitter      float64 `json:"jitter,omitempty"`
	PeriodScore float64 `json:"period_score,omitempty"`
	// Res is the model's time unit in seconds: the histogram's bin width and
	// the silence that starts a burst (0 = 60 s, IdleBinWidth). Only
	// time-compressed tests and demos lower it (label
	// prescale.arrival-resolution); the 4 h range becomes 240 units.
	Res float64 `json:"res,omitempty"`
	// Quantum is how precisely the newest burst start is known, in seconds:
	// the interval of the count it came from (Update), 0 for an exact time
	// (Observe).
	Quantum float64 `json:"quantum,omitempty"`
}

// res is the model's time unit in seconds.
func (st *ArrivalState) res() float64 {
	if st.Res > 0 {
		return st.Res
	}
	return IdleBinWidth.Seconds()
}

// burstGap is the silence that starts a new burst at this resolution.
func (st *ArrivalState) burstGap() time.Duration { return secs(st.res()) }

// Configure makes st a model at the settings' resolution: a state kept at
// another resolution (other units) starts afresh. Callers configure a
// stored state before they feed it.
func (st *ArrivalState) Configure(set ZeroSettings) {
	st.guard()
	r := set.Resolution.Seconds()
	if r <= 0 {
		r = IdleBinWidth.Seconds()
	}
	if st.res() != r {
		*st = ArrivalState{}
	}
	if r != IdleBinWidth.Seconds() {
		st.Res = r
	}
}

// Bounds ArrivalState.Check enforces on a stored or received model.
const (
	// MaxArrivalPeriod is the longest period a model may hold: 7 days (the
	// starts ring spans at most StartsCap bursts of a period).
	MaxArrivalPeriod = 7 * 24 * 60 * 60
	// minArrivalRes and maxArrivalRes bound a stored resolution (seconds),
	// as the label prescale.arrival-resolution does (1s..1m).
	minArrivalRes, maxArrivalRes = 1, 60
)

// Check reports why a stored or received arrival model cannot be used:
// more than IdleBins bins or StartsCap starts, a count, weight or period
// that is negative, NaN or infinite, a period above MaxArrivalPeriod, a
// score outside 0..1, or a resolution outside 1s..1m. Update, Observe and
// Configure start afresh from such a model, DecideZero keeps the function.
func (st *ArrivalState) Check() error {
	ok := func(v, hi float64) bool { return v >= 0 && v <= hi } // false for NaN
	switch {
	case len(st.Idle) > IdleBins:
		return fmt.Errorf("%d idle-time bins, at most %d", len(st.Idle), IdleBins)
	case len(st.Starts) > StartsCap:
		return fmt.Errorf("%d burst starts, at most %d", len(st.Starts), StartsCap)
	case st.Gaps < 0 || !ok(st.Total, math.MaxFloat64) || !ok(st.Over, math.MaxFloat64):
		return fmt.Errorf("total %v, gaps %d, over %v: must be finite and >= 0", st.Total, st.Gaps, st.Over)
	case !ok(st.Period, MaxArrivalPeriod) || !ok(st.Jitter, MaxArrivalPeriod) || !ok(st.PeriodScore, 1) || !ok(st.Quantum, MaxArrivalPeriod):
		return fmt.Errorf("period %v s, jitter %v s, quantum %v s, score %v: need period, jitter and quantum in 0..%d s, score in 0..1", st.Period, st.Jitter, st.Quantum, st.PeriodScore, MaxArrivalPeriod)
	case st.Res != 0 && !(st.Res >= minArrivalRes && st.Res <= maxArrivalRes):
		return fmt.Errorf("resolution %v s: must be in %d..%d s (0 = 60 s)", st.Res, minArrivalRes, maxArrivalRes)
	}
	for i, x := range st.Idle {
		if !ok(x, math.MaxFloat64) {
			return fmt.Errorf("idle-time bin %d = %v: must be finite and >= 0", i, x)
		}
	}
	return nil
}

// guard starts afresh from a model that fails Check.
func (st *ArrivalState) guard() {
	if st.Check() != nil {
		*st = ArrivalState{}
	}
}

// ArrivalVersion is the current ArrivalState schema.
const ArrivalVersion = 1

// Update records n invocations observed in (t0, t1] (t0 < t1; n >= 0),
// spread evenly over the interval, as load-probe sees them from per-tick
// counter differences. It mutates st and uses no clock; n = 0 only
// advances the model's start.
func (st *ArrivalState) Update(n float64, t0, t1 time.Time) {
	st.guard()
	st.touch(t0)
	if !(n >= 0.5) || !t1.After(t0) {
		return
	}
	k := int(math.Round(n))
	step := t1.Sub(t0) / time.Duration(k)
	first := t0.Add(step / 2)
	st.Quantum = round4(t1.Sub(t0).Seconds())
	st.record(first)
	if k > 1 {
		// The other k-1 invocations follow each other by step: in-burst
		// idle times, all in the histogram's first bins.
		st.addIdle(step.Seconds(), float64(k-1), t1)
		st.Gaps += k - 1
		st.Total += float64(k - 1)
		if l := first.Add(step * time.Duration(k-1)); l.After(st.Last) {
			st.Last = l // never backwards: an overlapping interval
		}
	}
}

// Observe records invocations at the given times (any order; times at or
// before Last are ignored as already seen).
func (st *ArrivalState) Observe(times ...time.Time) {
	st.guard()
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	for _, t := range ts {
		st.touch(t)
		if !st.Last.IsZero() && !t.After(st.Last) {
			continue
		}
		st.Quantum = 0
		st.record(t)
	}
}

func (st *ArrivalState) touch(t time.Time) {
	if st.V == 0 {
		st.V = ArrivalVersion
	}
	if st.Since.IsZero() || t.Before(st.Since) {
		st.Since = t
	}
}

// record adds one invocation at t.
func (st *ArrivalState) record(t time.Time) {
	st.Total++
	if st.Last.IsZero() {
		st.Last = t
		st.addStart(t)
		return
	}
	if t.Before(st.Last) {
		// Older than the newest invocation (an overlapping interval): an
		// in-burst call; Last, and so the starts, never go backwards.
		st.addIdle(0, 1, t)
		st.Gaps++
		return
	}
	gap := t.Sub(st.Last)
	st.addIdle(gap.Seconds(), 1, t)
	st.Gaps++
	if gap >= st.burstGap() {
		st.addStart(t)
	}
	st.Last = t
}

// addIdle adds weight w to the bin of an idle time of gap seconds, decayed
// to time t.
func (st *ArrivalState) addIdle(gap, w float64, t time.Time) {
	if st.Epoch.IsZero() {
		st.Epoch = t
	}
	scale := math.Exp2(t.Sub(st.Epoch).Seconds() / ArrivalHalfLife.Seconds())
	if scale > 1e6 || scale < 1e-6 {
		st.rescale(t)
		scale = 1
	}
	w *= scale
	// The bin, computed in floats: a gap far beyond the range (or a stored
	// resolution near 0) has no int value, and an invocation observed
	// before the newest one (an overlapping or late observation) has a
	// negative gap, counted in the first bin.
	bf := math.Max(0, gap/st.res())
	if !(bf < IdleBins) {
		st.Over = round4(st.Over + w)
		return
	}
	b := int(bf)
	if b >= len(st.Idle) {
		st.Idle = append(st.Idle, make([]float64, b+1-len(st.Idle))...)
	}
	st.Idle[b] = round4(st.Idle[b] + w)
}

// rescale moves the stored scale to time t.
func (st *ArrivalState) rescale(t time.Time) {
	f := math.Exp2(-t.Sub(st.Epoch).Seconds() / ArrivalHalfLife.Seconds())
	for i := range st.Idle {
		st.Idle[i] = round4(st.Idle[i] * f)
	}
	st.Over = round4(st.Over * f)
	st.Epoch = t
}

// round4 keeps 4 significant digits so the JSON stays small.
func round4(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	e := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*e) / e
}

func (st *ArrivalState) addStart(t time.Time) {
	st.Starts = append(st.Starts, t.UnixMilli())
	if len(st.Starts) > StartsCap {
		st.Starts = append(st.Starts[:0], st.Starts[len(st.Starts)-StartsCap:]...)
	}
	st.detectPeriod()
}

// detectPeriod looks for a period in the burst starts: the autocorrelation
// of the start series binned at max(1 min, span/240), with ±1 bin of
// tolerance, at the lags (2..n/2 bins) that occur as consecutive gaps; the
// smallest lag scoring at least
// periodMinScore is the period, refined to the median of the consecutive
// start gaps within a bin of a multiple of it.
func (st *ArrivalState) detectPeriod() {
	st.Period, st.Jitter, st.PeriodScore = 0, 0, 0
	s := st.Starts
	if len(s) < periodMinStarts {
		st.detectTimer()
		return
	}
	span := float64(s[len(s)-1]-s[0]) / 1000
	if !(span > 0) || !slices.IsSorted(s) {
		return // a stored ring out of order: no period until it refills
	}
	width := math.Max(st.res(), span/IdleBins)
	n := int(span/width) + 1
	x := make([]bool, n+2)
	idx := make([]int, len(s))
	for k, ms := range s {
		idx[k] = int(float64(ms-s[0]) / 1000 / width)
		x[idx[k]] = true
	}
	// Candidate lags: the consecutive gaps (a period shows up as one); the
	// autocorrelation at every other lag is not needed to find the smallest
	// one above the threshold among them.
	var lags []int
	for k := 1; k < len(idx); k++ {
		if l := idx[k] - idx[k-1]; l >= 2 && l <= n/2 {
			lags = append(lags, l)
		}
	}
	slices.Sort(lags)
	lags = slices.Compact(lags)
	for _, lag := range lags {
		hits, tot := 0, 0
		prev := -1
		for _, i := range idx {
			if i == prev || i+lag+1 >= n+1 { // no room to see the next one: not counted
				continue
			}
			prev = i
			tot++
			if x[i+lag] || x[i+lag-1] || x[i+lag+1] {
				hits++
			}
		}
		if tot < periodMinStarts-1 {
			break
		}
		score := float64(hits) / float64(tot)
		if score < periodMinScore {
			continue
		}
		// Refine: consecutive gaps close to a multiple of lag·width.
		p0 := float64(lag) * width
		var gaps []float64
		for i := 1; i < len(s); i++ {
			g := float64(s[i]-s[i-1]) / 1000
			k := math.Round(g / p0)
			if k >= 1 && math.Abs(g-k*p0) <= 1.5*width {
				gaps = append(gaps, g/k)
			}
		}
		if len(gaps) < periodMinStarts-1 {
			continue
		}
		slices.Sort(gaps)
		p := gaps[len(gaps)/2]
		jit := 0.0
		for _, g := range gaps {
			jit = math.Max(jit, math.Abs(g-p))
		}
		st.Period, st.Jitter, st.PeriodScore = math.Round(p*1000)/1000, math.Round(jit*1000)/1000, math.Round(score*1000)/1000
		return
	}
}

// detectTimer is the period of fewer than periodMinStarts burst starts:
// at least timerMinStarts of them, in order, every consecutive gap within
// timerTolerance units of the gaps' median, or within the newest start's
// Quantum (at most one unit) when that is coarser: the period is the
// median, the jitter the largest deviation, the score 1. Otherwise none.
func (st *ArrivalState) detectTimer() {
	s := st.Starts
	if len(s) < timerMinStarts || !slices.IsSorted(s) {
		return
	}
	gaps := make([]float64, 0, len(s)-1)
	for i := 1; i < len(s); i++ {
		gaps = append(gaps, float64(s[i]-s[i-1])/1000)
	}
	sorted := slices.Sorted(slices.Values(gaps))
	p := sorted[len(sorted)/2]
	jit := 0.0
	for _, g := range gaps {
		jit = math.Max(jit, math.Abs(g-p))
	}
	if !(p > 0) || jit > math.Max(timerTolerance*st.res(), math.Min(st.Quantum, st.res())) {
		return
	}
	st.Period, st.Jitter, st.PeriodScore = math.Round(p*1000)/1000, math.Round(jit*1000)/1000, 1
}

// Tolerance is how far either side of NextPeriodic's time the next burst
// start of a periodic function is expected. Exact times (Quantum 0): the
// detected jitter + 1 s. Starts counted per tick are each placed mid-tick, known to ±Quantum/2,
// so a gap between two of them is off by up to a whole Quantum: that much
// of the jitter is the counting, not the function (a timer counted per 2 s
// tick shows a jitter of 2 s when its calls fall on a tick's edge). The
// next start is then off by the newest start's placement (±Quantum/2) and
// the jitter beyond the quantum: tol = max(1 s, Quantum/2 + 0.5 s) +
// max(0, Jitter − Quantum). A jitter hidden inside the quantum is not
// covered: the price is a cold start, which the window is to avoid, not an
// error (bench/NOTES.md measures it).
func (st *ArrivalState) Tolerance() time.Duration {
	if !(st.Quantum > 0) {
		return secs(st.Jitter + 1)
	}
	return secs(math.Max(1, st.Quantum/2+0.5) + math.Max(0, st.Jitter-st.Quantum))
}

// NextPeriodic is the predicted next burst start at or after now-tol for
// a periodic function (ok false when no period is detected).
func (st *ArrivalState) NextPeriodic(now time.Time, tol time.Duration) (time.Time, bool) {
	if st.Period <= 0 || len(st.Starts) == 0 {
		return time.Time{}, false
	}
	last := time.UnixMilli(st.Starts[len(st.Starts)-1])
	per := Seconds(st.Period)
	if per <= 0 {
		return time.Time{}, false
	}
	k := int64(1)
	if d := now.Add(-tol).Sub(last); d > 0 {
		k = max(1, int64(math.Ceil(float64(d)/float64(per))))
	}
	return last.Add(time.Duration(k) * per), true
}
