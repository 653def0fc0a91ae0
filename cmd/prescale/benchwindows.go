package main

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/prescale/prescale/internal/trace"
)

// window is [from, to) minutes of a series and the burst minute in it.
type window struct{ from, to, burst int }

// quietShare is how much of the burst's rise a lead-in minute may rise:
// a window whose rise starts before the burst minute (a ramp, or an
// earlier smaller burst) is not a burst from quiet.
const quietShare = 0.25

// burstWindow is the rule: the minute m with the largest rise over the
// minute before (rise = counts[m] - counts[m-1], the earliest on ties)
// among the minutes whose lead-in is quiet — no minute of the before
// minutes ahead of m rises over its own predecessor by more than
// quietShare of m's rise — with before minutes ahead of m and after
// minutes from m on (the window must fit in the series).
func burstWindow(counts []float64, before, after int) (window, error) {
	if len(counts) < 2 {
		return window{}, fmt.Errorf("%d minutes: need at least 2", len(counts))
	}
	best, rise := -1, math.Inf(-1)
	for m := max(1, before); m+after <= len(counts); m++ {
		d := counts[m] - counts[m-1]
		if !(d > rise) || d <= 0 {
			continue
		}
		quiet := true
		for k := max(1, m-before); k < m; k++ {
			if counts[k]-counts[k-1] > quietShare*d {
				quiet = false
				break
			}
		}
		if quiet {
			best, rise = m, d
		}
	}
	if best < 0 {
		return window{}, fmt.Errorf("%d minutes: no rise from a quiet lead-in with %d minutes before and %d after it", len(counts), before, after)
	}
	return window{from: best - before, to: best + after, burst: best}, nil
}

// timedWindow is a window of one function's real invocation instants.
type timedWindow struct {
	fn    string    // the function's hash (first 8 characters)
	index int       // its position in the trace file
	calls int       // invocations in the trace
	times []float64 // real seconds from the window's start, sorted
	span  float64   // real seconds the window lasts
	// periodic window: the period (median consecutive gap), the share of
	// gaps within periodTol of it and the largest deviation (seconds).
	period, score, jitter float64
	// from-zero window: the idle gaps longer than long (1.05 × the
	// keep-alive, real seconds).
	longGaps int
	long     float64
}

// periodTol is how close (share of the period) a consecutive gap must be
// to the median gap to count as the timer firing on time.
const periodTol = 0.01

// periodicMinScore is the share of on-time gaps that makes a function a
// timer.
const periodicMinScore = 0.9

// minTimerCalls is how many invocations a timer needs: the arrival model
// detects a period after 5 starts, and then some must be left to measure.
const minTimerCalls = 10

// timerStats are a function's period, on-time share and jitter.
func timerStats(times []float64) (period, score, jitter float64) {
	if len(times) < 3 {
		return 0, 0, 0
	}
	gaps := make([]float64, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i]-times[i-1])
	}
	s := append([]float64(nil), gaps...)
	sort.Float64s(s)
	period = s[len(s)/2]
	if !(period > 0) {
		return 0, 0, 0
	}
	on := 0
	for _, g := range gaps {
		jitter = math.Max(jitter, math.Abs(g-period))
		if math.Abs(g-period) <= periodTol*period {
			on++
		}
	}
	return period, float64(on) / float64(len(gaps)), jitter
}

func hash8(f trace.Function) string {
	if len(f.Hash) > 8 {
		return f.Hash[:8]
	}
	return f.Hash
}

// errNoTimes: the trace has no real invocation instants.
var errNoTimes = errors.New("no function of the trace has real invocation instants (the Azure 2021 format)")

// periodicWindow is the rule for the periodic/timer window: among the
// functions with real invocation instants and at least minTimerCalls
// invocations whose consecutive gaps are at least periodicMinScore on time
// (within periodTol of their median, the period), the one with the highest
// on-time share, whose period compressed by speed is at least minPeriod
// seconds (a pre-warm can start and the replica be released in between)
// and whose calls compressed fit in budget seconds (after the first call,
// one compressed period more for the last release); ties go to more calls,
// then the smaller jitter, then the earlier function in the file. The
// window starts one trace minute before the first call and ends one
// period after the last.
func periodicWindow(fns []trace.Function, speed, minPeriod, budget float64) (timedWindow, error) {
	best := timedWindow{index: -1}
	seen := false
	for i, f := range fns {
		if len(f.Times) == 0 {
			continue
		}
		seen = true
		if len(f.Times) < minTimerCalls {
			continue
		}
		p, sc, jit := timerStats(f.Times)
		if sc < periodicMinScore || p/speed < minPeriod {
			continue
		}
		span := 60 + (f.Times[len(f.Times)-1] - f.Times[0]) + p
		if span/speed > budget {
			continue
		}
		c := timedWindow{fn: hash8(f), index: i, calls: len(f.Times), period: p, score: sc, jitter: jit, span: span}
		if best.index < 0 || c.score > best.score || (c.score == best.score && (c.calls > best.calls ||
			(c.calls == best.calls && c.jitter < best.jitter))) {
			best = c
		}
	}
	if !seen {
		return timedWindow{}, errNoTimes
	}
	if best.index < 0 {
		return timedWindow{}, fmt.Errorf("no timer (>= %d calls, >= %.0f %% of gaps within %.0f %% of the period) with a compressed period >= %.0f s fits in %.0f s at speed %g",
			minTimerCalls, 100*periodicMinScore, 100*periodTol, minPeriod, budget, speed)
	}
	best.times = shifted(fns[best.index].Times, 60)
	return best, nil
}

// fromZeroWindow is the rule for the scale-from-zero window: among the
// functions with real invocation instants that are not timers (on-time
// share below periodicMinScore: the periodic window's subject) and whose
// whole trace compressed by speed fits in budget seconds, the one with the
// most idle gaps longer than 1.05 × keepAlive (real seconds: each one sends
// the keep-alive idler to zero and makes the next call a scale from zero),
// at least 3; ties go to more calls, then the earlier function. The window
// is the function's whole trace, from one trace minute before its first
// call to 1.05 × keepAlive after its last, and every policy starts it at
// zero replicas.
func fromZeroWindow(fns []trace.Function, speed, keepAlive, budget float64) (timedWindow, error) {
	best := timedWindow{index: -1}
	longGap := 1.05 * keepAlive
	seen := false
	for i, f := range fns {
		if len(f.Times) == 0 {
			continue
		}
		seen = true
		if _, sc, _ := timerStats(f.Times); sc >= periodicMinScore {
			continue
		}
		long := 0
		for k := 1; k < len(f.Times); k++ {
			if f.Times[k]-f.Times[k-1] > longGap {
				long++
			}
		}
		span := 60 + (f.Times[len(f.Times)-1] - f.Times[0]) + longGap
		if long < 3 || span/speed > budget {
			continue
		}
		c := timedWindow{fn: hash8(f), index: i, calls: len(f.Times), longGaps: long, long: longGap, span: span}
		if best.index < 0 || c.longGaps > best.longGaps || (c.longGaps == best.longGaps && c.calls > best.calls) {
			best = c
		}
	}
	if !seen {
		return timedWindow{}, errNoTimes
	}
	if best.index < 0 {
		return timedWindow{}, fmt.Errorf("no non-timer function with >= 3 idle gaps over %.0f s fits in %.0f s at speed %g", longGap, budget, speed)
	}
	best.times = shifted(fns[best.index].Times, 60)
	return best, nil
}

// unannounced are the idle gaps of times (sorted, seconds) longer than
// long whose length no earlier gap of the function came within ±window of:
// an arrival model that knows only the function's past has seen nothing
// that puts the gap's end inside a pre-warm window, so a policy meets
// such an end warm only by holding a replica through the gap (or by
// luck). It returns how many there are and their total length.
func unannounced(times []float64, long, window float64) (n int, total float64) {
	for k := 1; k < len(times); k++ {
		g := times[k] - times[k-1]
		if g <= long {
			continue
		}
		seen := false
		for j := 1; j < k && !seen; j++ {
			seen = math.Abs(times[j]-times[j-1]-g) <= window
		}
		if !seen {
			n++
			total += g
		}
	}
	return n, total
}

// shifted is times moved so the first is at lead seconds.
func shifted(times []float64, lead float64) []float64 {
	out := make([]float64, len(times))
	for i, t := range times {
		out[i] = t - times[0] + lead
	}
	return out
}

// truncate keeps the calls in the first secs real seconds (a --quick
// window) and shortens the span to match.
func (w timedWindow) truncate(secs float64) timedWindow {
	if secs <= 0 || secs >= w.span {
		return w
	}
	var keep []float64
	for _, t := range w.times {
		if t < secs {
			keep = append(keep, t)
		}
	}
	w.times, w.span = keep, secs
	return w
}

// perMinute bins real instants into per-minute counts over span seconds
// (the replay needs the window's length in minutes).
func perMinute(times []float64, span float64) []float64 {
	out := make([]float64, max(1, int(math.Ceil(span/60))))
	for _, t := range times {
		if i := int(t / 60); i >= 0 && i < len(out) {
			out[i]++
		}
	}
	return out
}

// Estimated costs of the plan, measured on this 2-core machine (a --quick
// run, 2026-12-02): a fresh platform's start, deploy, ready and close take
// ~6–8 s once the stack's functions are built; the first platform of a
// run also builds them (~20 s); the runner observes runTail after the last
// arrival.
const (
	platformOverhead = 8.0  // seconds per platform
	firstBuild       = 20.0 // seconds, once
	runTail          = 5.0  // seconds the runner observes after the last arrival
)

// planEstimate is the plan's wall time in seconds: burstRuns sequential
// runs of burstSecs each on a fresh platform, and one platform for the
// zero stage lasting zeroSecs (its copies run side by side, staggered).
func planEstimate(burstRuns int, burstSecs float64, zeroStage bool, zeroSecs float64) float64 {
	t := float64(burstRuns) * (burstSecs + runTail + platformOverhead)
	if zeroStage {
		t += zeroSecs + runTail + platformOverhead
	}
	if t > 0 {
		t += firstBuild
	}
	return t
}
