package decide

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var z0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return z0.Add(secs(s)) }

func zeroOn() ZeroSettings {
	s := DefaultZeroSettings()
	s.Enabled = true
	return s
}

func TestParseZeroSettings(t *testing.T) {
	s, err := ParseZeroSettings(map[string]string{
		LabelZero: "true", LabelZeroDuration: "5m", LabelColdStartCost: "120", LabelPrewarmLead: "20s", LabelZeroPredict: "false",
	}, DefaultZeroSettings())
	if err != nil {
		t.Fatal(err)
	}
	if !s.Enabled || s.KeepAlive != 5*time.Minute || s.ColdStartCost != 120*time.Second || s.PrewarmLead != 20*time.Second || s.Predict {
		t.Fatalf("parsed %+v", s)
	}
	if d := DefaultZeroSettings(); d.Enabled || d.KeepAlive != 0 || d.FixedKeepAlive() != 40*time.Minute || d.ColdStartCost != 600*time.Second || !d.Predict {
		t.Fatalf("defaults %+v", d)
	}
	_, err = ParseZeroSettings(map[string]string{LabelZeroDuration: "0s", LabelColdStartCost: "forever", LabelPrewarmLead: "1h", LabelZeroPredict: "maybe"}, DefaultZeroSettings())
	if !errors.Is(err, ErrZeroSettings) {
		t.Fatalf("want ErrZeroSettings, got %v", err)
	}
	for _, want := range []string{LabelZeroDuration + `="0s"`, "1s..24h0m0s", LabelColdStartCost + `="forever"`, LabelPrewarmLead + `="1h"`, "0s..10m0s", "true or false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDecideZeroDisabledBusyClamp(t *testing.T) {
	var st ArrivalState
	st.Observe(at(0))
	d := DecideZero(st, at(3600), DefaultZeroSettings(), ZeroObservation{Replicas: 1})
	if d.Action != ZeroKeep || d.Rule != RuleDisabled || d.Floor != -1 {
		t.Fatalf("disabled: %+v", d)
	}
	d = DecideZero(st, at(3600), zeroOn(), ZeroObservation{Replicas: 1, InFlight: 2})
	if d.Action != ZeroKeep || d.Rule != RuleBusy {
		t.Fatalf("busy: %+v", d)
	}
	set := zeroOn()
	set.CEClamp = true
	d = DecideZero(st, at(3600), set, ZeroObservation{Replicas: 1})
	if d.Action != ZeroScaleToZero || !d.Clamped || d.Floor != 1 || !strings.Contains(d.Reason, "clamped to 1") {
		t.Fatalf("clamp: %+v", d)
	}
}

// Timeline: the fixed keep-alive while the model is not confident.
func TestDecideZeroFixedKeepAlive(t *testing.T) {
	var st ArrivalState
	st.Observe(at(0), at(100))
	set := zeroOn()
	set.KeepAlive = 10 * time.Minute
	if def := zeroOn(); def.FixedKeepAlive() != 4*def.ColdStartCost {
		t.Fatalf("default fixed keep-alive %s, want 4 W", def.FixedKeepAlive())
	}
	def := zeroOn()
	def.ColdStartCost = 2 * time.Hour
	if def.FixedKeepAlive() != 4*time.Hour {
		t.Fatalf("fixed keep-alive %s, want the 4 h cap", def.FixedKeepAlive())
	}
	for _, c := range []struct {
		now    float64
		warm   bool
		action ZeroAction
		floor  int
	}{
		{101, true, ZeroKeepAlive, 1},
		{699, true, ZeroKeepAlive, 1},
		{700, true, ZeroScaleToZero, 0},
		{800, false, ZeroScaleToZero, 0},
	} {
		rep := 0
		if c.warm {
			rep = 1
		}
		d := DecideZero(st, at(c.now), set, ZeroObservation{Replicas: rep})
		if d.Action != c.action || d.Floor != c.floor || d.Rule != RuleFixed {
			t.Errorf("t=%v: %+v", c.now, d)
		}
		if c.action == ZeroKeepAlive && !d.Until.Equal(at(700)) {
			t.Errorf("t=%v: until %v, want %v", c.now, d.Until, at(700))
		}
		if !strings.Contains(d.Reason, "not yet confident (1 of 8") {
			t.Errorf("reason %q", d.Reason)
		}
	}
	set.Predict = false
	if d := DecideZero(st, at(101), set, ZeroObservation{Replicas: 1}); !strings.Contains(d.Reason, "prediction off") {
		t.Errorf("reason %q", d.Reason)
	}
}

// Hand-computed histogram: ten idle times of 9.5 min (bin 9), no period,
// so the plan smooths bin 9 over 9 ± round(0.2·9) = bins 7..11 (2 each).
// Keeping the replica through bins 0..6 wastes 420 s × S; releasing and
// pre-warming costs the 15 s lead: release now, pre-warm at 420-15 = 405 s
// after the last; in bin 7 the hazard is 2/10 per minute, and 600 s × 0.2
// = 120 > 60 s of replica time: warm from there to the end of bin 11.
func TestHistogramPlanPrewarm(t *testing.T) {
	var st ArrivalState
	for i := 0; i <= 10; i++ {
		st.Observe(at(float64(i) * 570))
	}
	if st.Gaps != 10 || len(st.Idle) != 10 || st.Idle[9] == 0 {
		t.Fatalf("state %+v", st)
	}
	st.Period, st.Starts = 0, nil // histogram only
	last := 5700.0
	d := DecideZero(st, at(last+5), zeroOn(), ZeroObservation{Replicas: 1})
	if d.Action != ZeroScaleToZero || d.Rule != RuleHistogram || !d.Prewarm.Equal(at(last+405)) {
		t.Fatalf("after the invocation: %+v", d)
	}
	d = DecideZero(st, at(last+400), zeroOn(), ZeroObservation{Replicas: 0})
	if d.Action != ZeroPrewarm || d.Floor != 0 || !d.Prewarm.Equal(at(last+405)) {
		t.Fatalf("waiting: %+v", d)
	}
	d = DecideZero(st, at(last+410), zeroOn(), ZeroObservation{Replicas: 0})
	if d.Action != ZeroPrewarm || d.Floor != 1 {
		t.Fatalf("due: %+v", d)
	}
	// Warm inside bin 9: keep alive to the end of bin 11 (720 s), P = 1.
	d = DecideZero(st, at(last+545), zeroOn(), ZeroObservation{Replicas: 1})
	if d.Action != ZeroKeepAlive || !d.Until.Equal(at(last+720)) {
		t.Fatalf("in the bin: %+v", d)
	}
	// A cheap cold start (W = 10 s < the lead + waste): never pre-warm.
	set := zeroOn()
	set.ColdStartCost = 10 * time.Second
	d = DecideZero(st, at(last+5), set, ZeroObservation{Replicas: 1})
	if d.Action != ZeroScaleToZero || !d.Prewarm.IsZero() {
		t.Fatalf("cheap cold start: %+v", d)
	}
	// Past every idle time seen: nothing to wait for.
	d = DecideZero(st, at(last+730), zeroOn(), ZeroObservation{Replicas: 1})
	if d.Action != ZeroScaleToZero || !strings.Contains(d.Reason, "no idle time") {
		t.Fatalf("past the histogram: %+v", d)
	}
}

// Hand-computed: idle times of 30 s (8 of them) and 30 min (2). Right after
// an invocation, bin 0 holds 80 % of the mass: warm costs ≤ 60 s, cold
// 0.8·600 = 480 → keep alive to the end of bin 0 (60 s), P = 0.8.
func TestHistogramPlanKeepAlive(t *testing.T) {
	st := ArrivalState{Gaps: 10, Idle: make([]float64, 31)}
	st.Idle[0], st.Idle[30] = 8, 2
	p := histogramPlan(st, 0, true, 600, 15)
	if !p.warmNow || p.until != 60 || p.pWarm < 0.799 || p.pWarm > 0.801 {
		t.Fatalf("plan %+v", p)
	}
	// After bin 0: only the 30-min mass is left → release, pre-warm at 1800 s.
	p = histogramPlan(st, 61, true, 600, 15)
	if p.warmNow || p.prewarm != 1800 {
		t.Fatalf("plan %+v", p)
	}
}

func TestPeriodicPrewarm(t *testing.T) {
	var st ArrivalState
	for i := 0; i < 8; i++ {
		st.Observe(at(float64(i) * 300))
	}
	if st.Period != 300 || st.Jitter != 0 {
		t.Fatalf("period %v jitter %v score %v", st.Period, st.Jitter, st.PeriodScore)
	}
	last := 2100.0
	d := DecideZero(st, at(last+10), zeroOn(), ZeroObservation{Replicas: 1})
	// tol = 1 s; pre-warm at 300-1-15 = 284 s after the last start.
	if d.Action != ZeroScaleToZero || d.Rule != RulePeriodic || !d.Prewarm.Equal(at(last+284)) || !d.Expected.Equal(at(last+300)) {
		t.Fatalf("%+v", d)
	}
	d = DecideZero(st, at(last+258), zeroOn(), ZeroObservation{Replicas: 0})
	if d.Action != ZeroPrewarm || d.Floor != 0 || !strings.Contains(d.Reason, "next invocation expected in 42 s (period 300 s)") {
		t.Fatalf("%+v", d)
	}
	d = DecideZero(st, at(last+285), zeroOn(), ZeroObservation{Replicas: 0})
	if d.Action != ZeroPrewarm || d.Floor != 1 || !d.Until.Equal(at(last+301)) {
		t.Fatalf("%+v", d)
	}
	// A missed fire: the window moves on by one period.
	d = DecideZero(st, at(last+310), zeroOn(), ZeroObservation{Replicas: 1})
	if !d.Expected.Equal(at(last+600)) || d.Floor != 0 {
		t.Fatalf("%+v", d)
	}
	// A gap shorter than the pre-warm window (lead 60 s): stays warm.
	var fast ArrivalState
	for i := 0; i < 8; i++ {
		fast.Observe(at(float64(i) * 70))
	}
	if fast.Period != 70 {
		t.Fatalf("period %v", fast.Period)
	}
	slow := zeroOn()
	slow.PrewarmLead = time.Minute
	d = DecideZero(fast, at(490+10), slow, ZeroObservation{Replicas: 1})
	if d.Action != ZeroKeepAlive {
		t.Fatalf("%+v", d)
	}
}

// A timer is trusted from three burst starts when both gaps agree to a
// quarter of the model's unit (15 s at 1 min), or to the quantum of the
// counts they were seen in (at most one unit); otherwise the
// autocorrelation needs five starts.
func TestTimerFromThreeStarts(t *testing.T) {
	var st ArrivalState
	st.Observe(at(0), at(300))
	if st.Period != 0 {
		t.Fatalf("two starts: period %v", st.Period)
	}
	st.Observe(at(610))
	if st.Period != 310 || st.Jitter != 10 || st.PeriodScore != 1 {
		t.Fatalf("gaps 300, 310: period %v jitter %v score %v", st.Period, st.Jitter, st.PeriodScore)
	}
	d := DecideZero(st, at(620), zeroOn(), ZeroObservation{Replicas: 1})
	if d.Rule != RulePeriodic || !d.Expected.Equal(at(920)) {
		t.Fatalf("%+v", d)
	}
	var loose ArrivalState
	loose.Observe(at(0), at(300), at(620)) // gaps 300, 320: 20 s > 15 s
	if loose.Period != 0 {
		t.Fatalf("gaps 300, 320: period %v", loose.Period)
	}
	d = DecideZero(loose, at(630), zeroOn(), ZeroObservation{Replicas: 1})
	if d.Rule != RuleFixed {
		t.Fatalf("not a timer: %+v", d)
	}
	// The fourth start breaks the agreement: no period until five starts.
	st.Observe(at(1100))
	if st.Period != 0 {
		t.Fatalf("gaps 300, 310, 490: period %v", st.Period)
	}
	// Counts per 2 s tick at a 2 s unit: a start is known to ±1 s, so gaps
	// of 18 and 20 s agree (tolerance min(quantum, unit) = 2 s), 17 and
	// 20 s do not.
	set := zeroOn()
	set.Resolution = 2 * time.Second
	tick := func(calls ...float64) ArrivalState {
		var a ArrivalState
		a.Configure(set)
		for _, c := range calls {
			a.Update(1, at(c-1), at(c+1))
		}
		return a
	}
	if a := tick(3, 21, 41); a.Period != 20 || a.Quantum != 2 {
		t.Fatalf("ticks 3, 21, 41: period %v quantum %v", a.Period, a.Quantum)
	}
	if a := tick(3, 20, 40); a.Period != 0 {
		t.Fatalf("ticks 3, 20, 40: period %v", a.Period)
	}
}

// The window around an expected timer call: exact times widen it by the
// jitter and a second; starts counted per tick by half a tick and the
// jitter the tick cannot explain, so a timer whose calls sit on a tick's
// edge (placed 18 s, then 20 s apart) gets ±1.5 s, not ±3 s.
func TestToleranceFromQuantum(t *testing.T) {
	var ex ArrivalState
	ex.Observe(at(0), at(300.4), at(600), at(900.2))
	if ex.Period != 300.2 || ex.Jitter != 0.6 || ex.Quantum != 0 || ex.Tolerance() != secs(ex.Jitter+1) {
		t.Fatalf("exact times: period %v jitter %v quantum %v tolerance %v, want jitter + 1 s", ex.Period, ex.Jitter, ex.Quantum, ex.Tolerance())
	}
	count := func(res, q float64, calls ...float64) ArrivalState {
		set := zeroOn()
		set.Resolution = secs(res)
		var a ArrivalState
		a.Configure(set)
		for _, c := range calls {
			a.Update(1, at(c-q/2), at(c+q/2))
		}
		return a
	}
	for _, c := range []struct {
		name      string
		st        ArrivalState
		jit, want float64
	}{
		{"2 s ticks, on a tick's edge", count(2, 2, 3, 21, 41), 2, 1.5},
		{"2 s ticks, steady", count(2, 2, 3, 23, 43), 0, 1.5},
		{"5 s ticks", count(60, 5, 2.5, 302.5, 602.5), 0, 3},
		{"2 s ticks, jitter beyond the tick", count(60, 2, 101, 401, 706), 5, 4.5},
	} {
		if c.st.Period == 0 || c.st.Jitter != c.jit || c.st.Tolerance() != secs(c.want) {
			t.Errorf("%s: period %v jitter %v (want %v) tolerance %v, want %v s", c.name, c.st.Period, c.st.Jitter, c.jit, c.st.Tolerance(), c.want)
		}
	}
	// The pre-warm after the third call on a tick's edge: the expected call
	// (41 + 20 s) less the tolerance and the lead.
	st := count(2, 2, 3, 21, 41)
	set := zeroOn()
	set.Resolution, set.ColdStartCost, set.PrewarmLead = 2*time.Second, 20*time.Second, 5*time.Second
	d := DecideZero(st, at(44), set, ZeroObservation{Replicas: 1})
	if d.Rule != RulePeriodic || d.Floor != 0 || !d.Prewarm.Equal(at(61-1.5-5)) {
		t.Fatalf("after the third call: %+v, want a release and a pre-warm at %s", d, clock(at(54.5)))
	}
}

func TestPeriodicityNotDetectedOnRandomArrivals(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var st ArrivalState
	tt := 0.0
	for range 200 {
		tt += 60 + r.ExpFloat64()*900
		st.Observe(at(tt))
	}
	if st.Period != 0 {
		t.Fatalf("random arrivals detected as periodic: %v (score %v)", st.Period, st.PeriodScore)
	}
}

func TestRareFactor(t *testing.T) {
	st := ArrivalState{Since: at(0), Total: 60}
	if f := rareFactor(st, at(3600)); f != 1 { // one call a minute
		t.Fatalf("factor %v, want 1", f)
	}
	st.Total = 15 // 15 an hour: sqrt(60/15) = 2
	if f := rareFactor(st, at(3600)); f != 2 {
		t.Fatalf("factor %v, want 2", f)
	}
	st.Total = 0.5
	if f := rareFactor(st, at(3600)); f != 8 {
		t.Fatalf("factor %v, want the cap 8", f)
	}
}

func TestUpdateCountsAndBoundedJSON(t *testing.T) {
	var st ArrivalState
	st.Update(0, at(0), at(5))
	if !st.Since.Equal(at(0)) || st.Total != 0 || !st.Last.IsZero() {
		t.Fatalf("%+v", st)
	}
	st.Update(4, at(5), at(10))
	// Four calls spread evenly: at 5.625, 6.875, 8.125, 9.375 s.
	if st.Total != 4 || st.Gaps != 3 || !st.Last.Equal(at(9.375)) || st.Idle[0] != 3 {
		t.Fatalf("%+v", st)
	}
	st.Update(1, at(600), at(605))
	if st.Gaps != 4 || len(st.Idle) != 10 || st.Idle[9] == 0 || len(st.Starts) != 2 {
		t.Fatalf("%+v", st)
	}
	// Days of random traffic keep the state bounded.
	r := rand.New(rand.NewPCG(3, 4))
	now := 605.0
	for range 200000 {
		now += r.ExpFloat64() * 400
		st.Update(float64(r.IntN(3)), at(now-5), at(now))
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 6000 || len(st.Idle) > IdleBins || len(st.Starts) > StartsCap {
		t.Fatalf("state is %d bytes, %d bins, %d starts", len(b), len(st.Idle), len(st.Starts))
	}
	var back ArrivalState
	if err := json.Unmarshal(b, &back); err != nil || back.Gaps != st.Gaps || !back.Last.Equal(st.Last) {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}
