package decide

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Scale-to-zero labels.
const (
	// LabelZero is OpenFaaS Pro's opt-in to scale to zero: "true" enables
	// it (anything else, or no label, leaves it off).
	LabelZero = "com.openfaas.scale.zero"
	// LabelZeroDuration is OpenFaaS Pro's idle time before scaling to zero
	// (a Go duration, e.g. "15m"). prescale uses it as the fixed keep-alive
	// while prediction is off or not yet confident. 1s..24h; without the
	// label the keep-alive is 4 × W (prescale.cold-start-cost), at most 4 h.
	LabelZeroDuration = "com.openfaas.scale.zero-duration"
	// LabelColdStartCost is what one cold start is worth in replica-seconds
	// (W): a Go duration or a number of seconds, 1s..24h; default 600 s.
	LabelColdStartCost = "prescale.cold-start-cost"
	// LabelZeroPredict turns the arrival model off ("false"): only the
	// fixed keep-alive is used. Default true.
	LabelZeroPredict = "prescale.zero-predict"
	// LabelPrewarmLead is how long before a predicted invocation the
	// pre-warm is asked for: the cold start plus the control period plus
	// the chain's latency. 0s..10m; default 15s.
	LabelPrewarmLead = "prescale.prewarm-lead"
	// LabelArrivalResolution is the arrival model's time unit: the
	// idle-time histogram's bin width and the silence that starts a new
	// burst. 1s..1m; default 1m. Lower it only where time is compressed (a
	// test or demo replaying a trace faster than real time), and never below
	// the control period: load-probe sees invocations as counts per tick, so
	// an invocation's time is known only to within a tick, and a unit finer
	// than that makes a steady period look irregular (a period is matched to
	// within one unit).
	LabelArrivalResolution = "prescale.arrival-resolution"
)

// DefaultColdStartCost is W, the default price of one cold start: 600
// replica-seconds. Why: keeping one replica for a gap of g seconds costs g
// replica-seconds; releasing it costs one cold start. Without any model of
// the next gap, the best one can guarantee is the ski-rental break-even:
// keep the replica for W seconds, then release (never more than twice the
// cost of hindsight). The ~10-minute keep-alive that commercial clouds use
// for idle functions is that strategy for W = 600 s, so W = 600 s prices a
// cold start the way those platforms do. In latency terms: a 2.5 s cold
// start on a 100 ms request is a 25× slowdown for that user; 10 minutes of
// one idle replica is the price we put on avoiding it. Users who care more
// about cost lower it (prescale.cold-start-cost: "60s"); those who care
// more about latency raise it.
const DefaultColdStartCost = 600 * time.Second

// MinConfidentIdleTimes is how many idle times the histogram needs before
// prescale trusts it (a detected period is trusted at once).
const MinConfidentIdleTimes = 8

// ZeroSettings are one function's scale-to-zero settings (labels, parsed).
type ZeroSettings struct {
	Enabled bool `json:"enabled"`
	// KeepAlive is the fixed keep-alive (zero-duration) used while the
	// arrival model is off or not yet confident; 0 = 4 × ColdStartCost, at
	// most 4 h (see FixedKeepAlive).
	KeepAlive time.Duration `json:"keep_alive"`
	// ColdStartCost is W: one cold start is worth this many replica-seconds.
	ColdStartCost time.Duration `json:"cold_start_cost"`
	// Predict enables the arrival model (histogram and periodicity).
	Predict bool `json:"predict"`
	// PrewarmLead is how far ahead of a predicted invocation the replica is
	// asked for.
	PrewarmLead time.Duration `json:"prewarm_lead"`
	// CEClamp: the platform cannot scale to zero (OpenFaaS CE's gateway
	// clamps the scale API to 1..5); a scale to zero is reported as clamped
	// to 1. Set by the scaler from its configuration, not from a label.
	CEClamp bool `json:"ce_clamp,omitempty"`
	// Resolution is the arrival model's time unit (ArrivalState.Configure);
	// 0 means IdleBinWidth (1 m).
	Resolution time.Duration `json:"resolution,omitempty"`
}

// DefaultZeroSettings: off, keep-alive = W until confident, W = 600 s,
// prediction on, pre-warm lead 15 s.
func DefaultZeroSettings() ZeroSettings {
	return ZeroSettings{ColdStartCost: DefaultColdStartCost, Predict: true, PrewarmLead: 15 * time.Second}
}

// FixedKeepAlive is the keep-alive used while the model is off or not yet
// confident: KeepAlive, or when it is 0, 4 × W capped at 4 h (the
// histogram's range). The worst-case (ski-rental) choice would be W itself,
// at most twice the cost of hindsight for any gap; but a function that has
// not yet shown 8 idle times is a rare one, whose next call is a large
// share of its calls, and on the 500-function trace a keep-alive of W left
// the 75th-percentile function ≥ 62 % cold at every W while 4 × W moved the
// whole frontier down (bench/NOTES.md). Set the label to choose.
func (s ZeroSettings) FixedKeepAlive() time.Duration {
	if s.KeepAlive > 0 {
		return s.KeepAlive
	}
	return min(4*s.ColdStartCost, 4*time.Hour)
}

// ErrZeroSettings wraps every scale-to-zero label error.
var ErrZeroSettings = errors.New("invalid scale-to-zero label")

// ParseZeroSettings reads the scale-to-zero labels over def. Every bad
// label is reported (joined), naming the label, the value and the allowed
// range; errors wrap ErrZeroSettings.
func ParseZeroSettings(labels map[string]string, def ZeroSettings) (ZeroSettings, error) {
	s := def
	var errs []error
	get := func(k string) (string, bool) {
		v := strings.TrimSpace(labels[k])
		return v, v != ""
	}
	bad := func(k, v, rng string) {
		errs = append(errs, fmt.Errorf("%w: %s=%q: %s", ErrZeroSettings, k, v, rng))
	}
	if v, ok := get(LabelZero); ok {
		s.Enabled = strings.EqualFold(v, "true")
	}
	dur := func(k string, dst *time.Duration, lo, hi time.Duration) {
		v, ok := get(k)
		if !ok {
			return
		}
		d, err := parseDuration(v)
		if err != nil {
			// Fractional seconds ("1.5"), converted only within the range
			// (a float beyond it has no time.Duration).
			if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f >= lo.Seconds() && f <= hi.Seconds() {
				d, err = time.Duration(f*float64(time.Second)), nil
			}
		}
		if err != nil || d < lo || d > hi {
			bad(k, v, fmt.Sprintf("must be a duration (e.g. %s) or seconds in %s..%s", def.durationExample(k), lo, hi))
			return
		}
		*dst = d
	}
	dur(LabelZeroDuration, &s.KeepAlive, time.Second, 24*time.Hour)
	dur(LabelColdStartCost, &s.ColdStartCost, time.Second, 24*time.Hour)
	dur(LabelPrewarmLead, &s.PrewarmLead, 0, 10*time.Minute)
	dur(LabelArrivalResolution, &s.Resolution, time.Second, time.Minute)
	if v, ok := get(LabelZeroPredict); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(LabelZeroPredict, v, "must be true or false")
		} else {
			s.Predict = b
		}
	}
	if len(errs) == 0 {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errors.Join(errs...)
}

func (ZeroSettings) durationExample(k string) string {
	switch k {
	case LabelZeroDuration:
		return "15m"
	case LabelPrewarmLead:
		return "15s"
	}
	return "600s"
}

// Validate checks the ranges ParseZeroSettings enforces.
func (s ZeroSettings) Validate() error {
	switch {
	case s.KeepAlive != 0 && (s.KeepAlive < time.Second || s.KeepAlive > 24*time.Hour):
		return fmt.Errorf("%w: keep-alive %s (%s): allowed range is 1s..24h (0 = the cold-start cost)", ErrZeroSettings, s.KeepAlive, LabelZeroDuration)
	case s.ColdStartCost < time.Second || s.ColdStartCost > 24*time.Hour:
		return fmt.Errorf("%w: cold-start cost %s (%s): allowed range is 1s..24h", ErrZeroSettings, s.ColdStartCost, LabelColdStartCost)
	case s.Resolution != 0 && (s.Resolution < time.Second || s.Resolution > time.Minute):
		return fmt.Errorf("%w: arrival resolution %s (%s): allowed range is 1s..1m", ErrZeroSettings, s.Resolution, LabelArrivalResolution)
	case s.PrewarmLead < 0 || s.PrewarmLead > 10*time.Minute:
		return fmt.Errorf("%w: pre-warm lead %s (%s): allowed range is 0s..10m", ErrZeroSettings, s.PrewarmLead, LabelPrewarmLead)
	}
	return nil
}

// ZeroAction is what a zero decision asks for.
type ZeroAction string

const (
	// ZeroKeep: no zero-related change (zero off, or requests in flight);
	// the load policy alone decides.
	ZeroKeep ZeroAction = "keep"
	// ZeroKeepAlive: hold at least one replica until Until.
	ZeroKeepAlive ZeroAction = "keep-alive"
	// ZeroPrewarm: the function is at zero; start one replica at At (now
	// when At <= now).
	ZeroPrewarm ZeroAction = "pre-warm"
	// ZeroScaleToZero: release the last replica now (if the load policy
	// needs none); At, when set, is the planned pre-warm.
	ZeroScaleToZero ZeroAction = "scale-to-zero"
)

// Zero rules: which part of the model fired.
const (
	RuleDisabled  = "disabled"
	RuleBusy      = "busy"
	RuleFixed     = "fixed-keep-alive"
	RulePeriodic  = "periodic"
	RuleHistogram = "histogram"
	// RuleInvalid: the arrival model failed ArrivalState.Check; the
	// function is kept (floor -1, as busy) and nothing is planned.
	RuleInvalid = "invalid-model"
)

// ZeroObservation is what the caller sees of the function now.
type ZeroObservation struct {
	Replicas int     `json:"replicas"`  // current (desired) replicas
	InFlight float64 `json:"in_flight"` // requests started, not completed
}

// ZeroDecision is one scale-to-zero decision.
type ZeroDecision struct {
	At     time.Time  `json:"at"`
	Action ZeroAction `json:"action"`
	Rule   string     `json:"rule"`
	// Floor is the least replicas this decision wants: 1 (keep alive, or
	// pre-warm now), 0 (may be at zero), -1 (no opinion: ZeroKeep).
	Floor int `json:"floor"`
	// Until: end of the keep-alive (ZeroKeepAlive).
	Until time.Time `json:"until,omitzero"`
	// Prewarm: when the next replica should be started (ZeroPrewarm,
	// ZeroScaleToZero with a plan); zero when none is planned.
	Prewarm time.Time `json:"prewarm,omitzero"`
	// Expected: the predicted next invocation, when there is one.
	Expected time.Time `json:"expected,omitzero"`
	// Next: decide again at the latest then (the next planned change).
	Next time.Time `json:"next,omitzero"`
	// Clamped: the platform cannot scale to zero; Floor was raised to 1.
	Clamped bool   `json:"clamped,omitempty"`
	Reason  string `json:"reason"`
}

// DecideZero is the scale-to-zero decision at now: pure, from the
// function's arrival state, settings and what is observed.
//
// Rules, in order: zero off → keep; requests in flight → keep (busy); the
// model is off or not yet confident (fewer than MinConfidentIdleTimes idle
// times and no period) → the fixed keep-alive after the last invocation;
// a detected period → keep alive through short gaps, otherwise release and
// pre-warm PrewarmLead before the next expected burst's window (±
// ArrivalState.Tolerance); else the idle-time histogram → the cost-optimal
// warm/cold plan over the coming minutes (see histogramPlan). With CEClamp, a scale to zero is
// reported as clamped to one replica.
func DecideZero(st ArrivalState, now time.Time, set ZeroSettings, obs ZeroObservation) ZeroDecision {
	d := decideZero(st, now, set, obs)
	d.At = now
	if d.Floor == 0 && !d.Prewarm.IsZero() && !d.Prewarm.After(now) {
		// The planned pre-warm is due: start (or keep) one replica now.
		d.Floor, d.Next = 1, now.Add(st.burstGap())
		if obs.Replicas > 0 {
			d.Action, d.Until = ZeroKeepAlive, d.Expected
		} else {
			d.Action = ZeroPrewarm
		}
		d.Reason = strings.Replace(d.Reason, "pre-warm at", "pre-warm due since", 1)
	}
	if set.CEClamp && d.Floor == 0 {
		d.Clamped, d.Floor = true, 1
		d.Reason += "; clamped to 1 replica: the OpenFaaS CE gateway scales 1..5 (zero works on the plugin, faasd and OpenFaaS Pro)"
	}
	return d
}

func decideZero(st ArrivalState, now time.Time, set ZeroSettings, obs ZeroObservation) ZeroDecision {
	if !set.Enabled {
		return ZeroDecision{Action: ZeroKeep, Rule: RuleDisabled, Floor: -1, Reason: "scale to zero off (" + LabelZero + " is not \"true\")"}
	}
	if obs.InFlight > 0 {
		return ZeroDecision{Action: ZeroKeep, Rule: RuleBusy, Floor: -1, Reason: fmt.Sprintf("busy: %.0f requests in flight", obs.InFlight)}
	}
	if err := st.Check(); err != nil {
		return ZeroDecision{Action: ZeroKeep, Rule: RuleInvalid, Floor: -1, Reason: "arrival model refused, function kept: " + err.Error()}
	}
	last := st.Last
	if last.IsZero() {
		last = st.Since
	}
	if last.IsZero() || last.After(now) {
		last = now
	}
	warm := obs.Replicas > 0
	if set.Predict && st.Period > 0 && st.Gaps < MinConfidentIdleTimes {
		return periodicPlan(st, now, last, warm, set)
	}
	if !set.Predict || st.Gaps < MinConfidentIdleTimes {
		why := "prediction off (" + LabelZeroPredict + ")"
		if set.Predict {
			why = fmt.Sprintf("prediction not yet confident (%d of %d idle times)", st.Gaps, MinConfidentIdleTimes)
		}
		ka := set.FixedKeepAlive()
		until := last.Add(ka)
		if now.Before(until) && warm {
			return ZeroDecision{Action: ZeroKeepAlive, Rule: RuleFixed, Floor: 1, Until: until, Next: until,
				Reason: fmt.Sprintf("keep-alive until %s: fixed %s after the last invocation, %s", clock(until), ka, why)}
		}
		return ZeroDecision{Action: ZeroScaleToZero, Rule: RuleFixed, Floor: 0,
			Reason: fmt.Sprintf("scale to zero: idle for %s ≥ fixed keep-alive %s, %s", now.Sub(last).Round(time.Second), ka, why)}
	}
	if st.Period > 0 && st.Gaps >= MinConfidentIdleTimes {
		// Both models: hold a replica if either wants one, else pre-warm
		// at the earlier of their plans.
		dp := periodicPlan(st, now, last, warm, set)
		dh := histogramDecision(st, now, last, warm, set)
		switch {
		case dp.Floor == 1:
			if dh.Floor == 1 && dh.Until.After(dp.Until) {
				dp.Until, dp.Next = dh.Until, dh.Until
			}
			return dp
		case dh.Floor == 1:
			dh.Reason += fmt.Sprintf("; periodic model: next invocation expected in %.0f s (period %.0f s)", math.Max(0, dp.Expected.Sub(now).Seconds()), st.Period)
			return dh
		}
		if !dh.Prewarm.IsZero() && (dp.Prewarm.IsZero() || dh.Prewarm.Before(dp.Prewarm)) {
			dp.Prewarm, dp.Next = dh.Prewarm, dh.Next
			dp.Reason += fmt.Sprintf("; the histogram pre-warms earlier, at %s", clock(dh.Prewarm))
		}
		return dp
	}
	return histogramDecision(st, now, last, warm, set)
}

// histogramDecision is the decision of the idle-time histogram alone.
func histogramDecision(st ArrivalState, now, last time.Time, warm bool, set ZeroSettings) ZeroDecision {
	lead := set.PrewarmLead
	W := set.ColdStartCost.Seconds() * rareFactor(st, now)
	e := now.Sub(last).Seconds()
	smooth := histogramSmoothing
	if st.Period > 0 {
		smooth = 0
	}
	p := histogramPlanSmoothed(st, e, warm, W, lead.Seconds(), smooth)
	n := float64(st.Gaps)
	switch {
	case p.none:
		return ZeroDecision{Action: ZeroScaleToZero, Rule: RuleHistogram, Floor: 0,
			Reason: fmt.Sprintf("scale to zero: no idle time of %s or more in the histogram (%.0f idle times)", now.Sub(last).Round(time.Second), n)}
	case p.warmNow && warm:
		until := last.Add(secs(p.until))
		return ZeroDecision{Action: ZeroKeepAlive, Rule: RuleHistogram, Floor: 1, Until: until, Next: until,
			Reason: fmt.Sprintf("keep-alive until %s: P(next invocation before then) = %.2f, worth more than the replica time at a cold-start cost of %s (histogram, %.0f idle times)",
				clock(until), p.pWarm, set.ColdStartCost, n)}
	case p.warmNow:
		return ZeroDecision{Action: ZeroPrewarm, Rule: RuleHistogram, Floor: 1, Prewarm: now, Until: last.Add(secs(p.until)), Next: last.Add(secs(p.until)),
			Reason: fmt.Sprintf("pre-warm now: P(next invocation in the next %s) = %.2f (histogram, %.0f idle times)", secs(p.until-e).Round(time.Second), p.pWarm, n)}
	case p.prewarm > 0:
		at := last.Add(secs(p.prewarm - lead.Seconds()))
		act := ZeroScaleToZero
		if !warm {
			act = ZeroPrewarm
		}
		return ZeroDecision{Action: act, Rule: RuleHistogram, Floor: 0, Prewarm: at, Expected: last.Add(secs(p.prewarm)), Next: at,
			Reason: fmt.Sprintf("%s: next invocation likely from %s on (in %s); pre-warm at %s (histogram, %.0f idle times)",
				zeroVerb(warm), clock(last.Add(secs(p.prewarm))), secs(p.prewarm-e).Round(time.Second), clock(at), n)}
	default:
		return ZeroDecision{Action: ZeroScaleToZero, Rule: RuleHistogram, Floor: 0,
			Reason: fmt.Sprintf("%s: a cold start (%s) costs less than waiting warm for the next invocation (histogram, %.0f idle times)", zeroVerb(warm), set.ColdStartCost, n)}
	}
}

func zeroVerb(warm bool) string {
	if warm {
		return "scale to zero"
	}
	return "stay at zero"
}

// periodicPlan: the next burst is expected at last start + k·Period, within
// ±tol (ArrivalState.Tolerance). In a short gap (the next start
// closer than the window a pre-warm costs) the replica stays; otherwise it
// is released once the in-burst keep-alive (the histogram's first warm run)
// is over and pre-warmed PrewarmLead before the window opens. When even
// the window costs more than a cold start (W < 2·tol + lead), it waits cold.
func periodicPlan(st ArrivalState, now, last time.Time, warm bool, set ZeroSettings) ZeroDecision {
	tol := st.Tolerance()
	next, _ := st.NextPeriodic(now, tol)
	per := secs(st.Period)
	open := next.Add(-tol)
	closeAt := next.Add(tol)
	window := 2*tol + set.PrewarmLead
	prewarm := open.Add(-set.PrewarmLead)
	desc := fmt.Sprintf("next invocation expected in %.0f s (period %.0f s)", math.Max(0, next.Sub(now).Seconds()), per.Seconds())
	d := ZeroDecision{Rule: RulePeriodic, Expected: next}
	// In-burst keep-alive from the histogram (bursts of several calls).
	if warm && st.Gaps >= MinConfidentIdleTimes {
		e := now.Sub(last).Seconds()
		if p := histogramPlan(st, e, true, set.ColdStartCost.Seconds(), set.PrewarmLead.Seconds()); !p.none && p.warmNow && e < st.res() {
			until := last.Add(secs(math.Min(p.until, st.res())))
			if until.After(now) {
				d.Action, d.Floor, d.Until, d.Next = ZeroKeepAlive, 1, until, until
				d.Reason = fmt.Sprintf("keep-alive until %s inside the burst; %s", clock(until), desc)
				return d
			}
		}
	}
	switch {
	case set.ColdStartCost < window:
		d.Action, d.Floor = ZeroScaleToZero, 0
		d.Reason = fmt.Sprintf("%s: a pre-warm window of %s costs more than a cold start (%s); %s", zeroVerb(warm), window.Round(time.Second), set.ColdStartCost, desc)
	case !now.Before(prewarm) && now.Before(closeAt):
		d.Floor, d.Until, d.Next = 1, closeAt, closeAt
		d.Action = ZeroKeepAlive
		if !warm {
			d.Action, d.Prewarm = ZeroPrewarm, now
		}
		d.Reason = fmt.Sprintf("%s until %s: %s", map[bool]string{true: "keep-alive", false: "pre-warm"}[warm], clock(closeAt), desc)
	case warm && closeAt.Sub(now) <= window+tol:
		d.Action, d.Floor, d.Until, d.Next = ZeroKeepAlive, 1, closeAt, closeAt
		d.Reason = fmt.Sprintf("keep-alive until %s: the gap is shorter than a pre-warm window; %s", clock(closeAt), desc)
	default:
		d.Floor, d.Prewarm, d.Next = 0, prewarm, prewarm
		d.Action = ZeroScaleToZero
		if !warm {
			d.Action = ZeroPrewarm
		}
		d.Reason = fmt.Sprintf("%s, pre-warm at %s: %s", zeroVerb(warm), clock(prewarm), desc)
	}
	return d
}

// plan is the histogram's answer, in seconds since the last invocation.
type plan struct {
	none    bool    // no idle time at least this long was ever seen
	warmNow bool    // the cheapest plan holds (or starts) a replica now
	until   float64 // end of the current warm run
	prewarm float64 // start of the next warm run (0: none)
	pWarm   float64 // probability the next invocation falls in the current warm run
}

// histogramPlan finds the cheapest warm/cold schedule of the next idle
// time, minute bin by minute bin, given that e seconds have passed since
// the last invocation. The idle-time distribution is the histogram
// conditioned on T > e (mass uniform within a bin). Costs, in
// replica-seconds: warm through a bin = the expected replica time spent in
// it while waiting (∫S dt over the bin); cold in a bin = W × P(the
// invocation falls in it); turning a replica on at the start of a bin = lead
// × S (it runs lead seconds before). Beyond 4 h the model is cold (one cold
// start per such gap). A two-state dynamic programme over the 240 bins
// gives the optimum exactly, in O(bins).
func histogramPlan(st ArrivalState, e float64, warm bool, W, lead float64) plan {
	return histogramPlanSmoothed(st, e, warm, W, lead, 0)
}

// histogramSmoothing is the relative half-width of the kernel that spreads
// each bin's mass over its neighbours (bin i over i ± round(0.2·i)) before
// planning, for functions without a period: a few dozen idle times leave
// empty bins between the observed ones, and an unsmoothed plan would turn
// the replica off in every such hole (a hole is not evidence that no call
// comes then). Periodic functions keep the sharp histogram.
const histogramSmoothing = 0.2

// histogramPlanSmoothed is histogramPlan over the histogram smoothed with
// relative half-width smooth (0 = none).
func histogramPlanSmoothed(st ArrivalState, e float64, warm bool, W, lead, smooth float64) plan {
	if smooth > 0 {
		var diff [IdleBins + 1]float64
		for i, x := range st.Idle {
			if x == 0 {
				continue
			}
			h := int(math.Round(smooth * float64(i)))
			lo, hi := max(0, i-h), min(IdleBins-1, i+h)
			w := x / float64(hi-lo+1)
			diff[lo] += w
			diff[hi+1] -= w
		}
		sm := make([]float64, IdleBins)
		acc := 0.0
		for i := range sm {
			acc += diff[i]
			sm[i] = math.Max(acc, 0)
		}
		st.Idle = sm
	}
	bw := st.res()
	j0 := int(e / bw)
	if j0 >= IdleBins {
		return plan{none: true}
	}
	nb := IdleBins - j0
	var mA, sA, vwA, vcA [IdleBins + 1]float64
	var stayA, onA [IdleBins]bool
	m := mA[:nb] // mass per bin from j0 on
	for j := j0; j < len(st.Idle); j++ {
		m[j-j0] = st.Idle[j]
	}
	if j0 < len(st.Idle) {
		m[0] *= 1 - (e-float64(j0)*bw)/bw
	}
	S := sA[:nb+1] // survival at the start of bin (index), unnormalised
	S[nb] = st.Over
	for j := nb - 1; j >= 0; j-- {
		S[j] = S[j+1] + m[j]
	}
	if S[0] <= 0 || S[0] == st.Over && st.Over <= 0 {
		return plan{none: true}
	}
	if S[0]-st.Over <= 1e-12*S[0] { // only out-of-range gaps remain
		return plan{}
	}
	start := func(j int) float64 {
		if j == 0 {
			return e
		}
		return float64(j0+j) * bw
	}
	vw, vc := vwA[:nb+1], vcA[:nb+1]
	stayW := stayA[:nb] // warm at j: stay warm at j+1
	onC := onA[:nb]     // cold at j: turn on for j+1
	vw[nb], vc[nb] = W*st.Over, W*st.Over
	for j := nb - 1; j >= 0; j-- {
		width := start(j+1) - start(j)
		waste := width * (S[j] + S[j+1]) / 2
		cold := W * m[j]
		if vw[j+1] < vc[j+1] { // ties go cold: no replica for nothing
			vw[j], stayW[j] = waste+vw[j+1], true
		} else {
			vw[j] = waste + vc[j+1]
		}
		on := lead*S[j+1] + vw[j+1]
		if j+1 < nb && on < vc[j+1] {
			vc[j], onC[j] = cold+on, true
		} else {
			vc[j] = cold + vc[j+1]
		}
	}
	var p plan
	if warm {
		p.warmNow = vw[0] <= vc[0]
	} else {
		p.warmNow = lead*S[0]+vw[0] < vc[0]
	}
	j := 0
	if p.warmNow {
		for j < nb-1 && stayW[j] {
			j++
		}
		p.until = start(j + 1)
		p.pWarm = (S[0] - S[j+1]) / S[0]
		return p
	}
	for j < nb-1 && !onC[j] {
		j++
	}
	if j < nb-1 && onC[j] {
		p.prewarm = start(j + 1)
	}
	return p
}

func secs(s float64) time.Duration { return Seconds(s) }

// Seconds converts float seconds to a time.Duration, saturating: beyond
// the range (about ±292 years) it is the longest (or most negative)
// duration, NaN is 0. A plain time.Duration(s * 1e9) of such a value is
// implementation-defined (on amd64 the most negative duration).
func Seconds(s float64) time.Duration {
	ns := s * float64(time.Second)
	switch {
	case math.IsNaN(ns):
		return 0
	case ns >= math.MaxInt64: // float64(MaxInt64) is 2^63
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05") }

// rareFactor scales W for rarely invoked functions: a cold start is one
// call in n of the function's, so for a function invoked r times an hour
// it weighs sqrt(60/r) times more (1 for one call a minute or more, at most
// 8): the histogram's plan then spends replica time where each cold start
// is a large share of a function's calls, not only where calls are many.
func rareFactor(st ArrivalState, now time.Time) float64 {
	span := now.Sub(st.Since).Seconds() / (60 * st.res()) // hours, in model time
	if span <= 0 || st.Total <= 0 {
		return 1
	}
	r := st.Total / span
	return math.Min(8, math.Max(1, math.Sqrt(60/r)))
}
