package decide

import (
	"strings"
	"testing"
	"time"
)

func zeroTestSettings() ZeroSettings {
	z := DefaultZeroSettings()
	z.Enabled, z.ColdStartCost, z.PrewarmLead, z.KeepAlive, z.Resolution = true, 2*time.Second, 4*time.Second, 3*time.Second, time.Second
	return z
}

// A timer-like function invoked every 10 s, observed every 2 s as
// load-probe sees it (counts per tick), with a 1 s model resolution (a
// time-compressed test): once the period is learnt, every gap has a tick
// where the replica is released and a tick, before the next invocation,
// where one is pre-warmed.
func TestZeroTimelinePeriodicPrewarm(t *testing.T) {
	set := zeroTestSettings()
	var st ArrivalState
	st.Configure(set)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const period, tick, offset = 10, 2, 1 // invocations at 1, 11, 21, … s
	replicas := 1
	type obs struct {
		at    int
		floor int
	}
	var seen []obs
	for sec := tick; sec <= 200; sec += tick {
		n := 0.0
		for s := sec - tick + 1; s <= sec; s++ {
			if s%period == offset {
				n++
				if replicas == 0 {
					replicas = 1 // the platform's scale from zero
				}
			}
		}
		now := t0.Add(time.Duration(sec) * time.Second)
		st.Update(n, now.Add(-tick*time.Second), now)
		z := DecideZero(st, now, set, ZeroObservation{Replicas: replicas})
		if z.Floor >= 0 {
			replicas = min(replicas, z.Floor)
			if z.Floor == 1 {
				replicas = 1
			}
		}
		seen = append(seen, obs{sec, replicas})
		if sec > 100 && (st.Period != period || !strings.Contains(z.Reason, "period 10 s")) {
			t.Fatalf("t=%d s: period %g, rule %s, reason %q: want the periodic model (period 10 s) once learnt", sec, st.Period, z.Rule, z.Reason)
		}
	}
	if st.Period != period {
		t.Fatalf("period %g s, want %d", st.Period, period)
	}
	// After learning: in every gap (next invocation at k·10+1) the replica
	// is at zero at some tick, and up at the tick just before it.
	for inv := 111; inv <= 191; inv += period {
		released, warmBefore := false, false
		for _, o := range seen {
			if o.at > inv-period && o.at < inv && o.floor == 0 {
				released = true
			}
			if o.at == inv-1 && o.floor == 1 {
				warmBefore = true
			}
		}
		if !released || !warmBefore {
			t.Errorf("gap before the invocation at %d s: released %v, warm on the tick before %v (%v)", inv, released, warmBefore, seen)
		}
	}
	// State round trip through JSON-sized bounds; resolution kept.
	if st.Res != 1 {
		t.Fatalf("resolution %g, want 1", st.Res)
	}
	st.Configure(DefaultZeroSettings())
	if st.Res != 0 || st.Total != 0 {
		t.Fatalf("a state at another resolution must start afresh: %+v", st)
	}
}

// WithZero: the zero decision owns 0 ↔ 1, the load policy 2 and up.
func TestWithZero(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := DefaultSettings()
	set.Min, set.Max = 1, 10
	pol := DefaultPolicy()
	decide := func(cur int, obs Sample) Decision {
		d, _ := pol.Decide(Input{Function: "f", Current: cur, Observed: obs, ServiceTime: 0.5, Settings: set}, State{}, now)
		return d
	}
	release := ZeroDecision{Action: ZeroScaleToZero, Rule: RulePeriodic, Floor: 0, Reason: "scale to zero, pre-warm at 00:00:09"}
	prewarm := ZeroDecision{Action: ZeroPrewarm, Rule: RulePeriodic, Floor: 1, Reason: "pre-warm until 00:00:12"}
	idle := Sample{Interval: 5}
	for _, tc := range []struct {
		name      string
		cur       int
		obs       Sample
		z         ZeroDecision
		want      int
		scale     bool
		reasonHas string
	}{
		{"idle at one: released", 1, idle, release, 0, true, "scale to zero"},
		{"at zero: pre-warmed", 0, idle, prewarm, 1, true, "pre-warm"},
		{"at zero, release: stays", 0, idle, release, 0, false, "scale to zero"},
		{"in flight: one kept", 1, Sample{Interval: 5, InFlight: 1, RPS: 0.2}, release, 1, false, ""},
		{"load needs 4: the policy's", 1, Sample{Interval: 5, RPS: 8, InFlight: 4}, release, 4, true, "scale up"},
		{"zero off: the policy's", 0, idle, ZeroDecision{Rule: RuleDisabled, Floor: -1}, 1, true, "scale up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := WithZero(decide(tc.cur, tc.obs), tc.z)
			if d.After != tc.want || d.Scale != tc.scale || !strings.Contains(d.Reason, tc.reasonHas) {
				t.Fatalf("after %d scale %v reason %q, want %d %v %q", d.After, d.Scale, d.Reason, tc.want, tc.scale, tc.reasonHas)
			}
			if tc.z.Rule != RuleDisabled && (d.Zero == nil || d.Zero.Rule != tc.z.Rule) {
				t.Fatalf("zero decision not recorded: %+v", d.Zero)
			}
		})
	}
	// Forecast-only: would release, scales nothing.
	set.ForecastOnly = true
	d := WithZero(decide(1, idle), release)
	if d.Scale || d.After != 0 || !strings.HasPrefix(d.Reason, "forecast-only: would") {
		t.Fatalf("forecast-only: %+v", d)
	}
}

func TestArrivalResolutionLabel(t *testing.T) {
	z, err := ParseZeroSettings(map[string]string{LabelArrivalResolution: "2s"}, DefaultZeroSettings())
	if err != nil || z.Resolution != 2*time.Second {
		t.Fatalf("2s: %v %v", z.Resolution, err)
	}
	for _, bad := range []string{"0s", "2m", "soon"} {
		if _, err := ParseZeroSettings(map[string]string{LabelArrivalResolution: bad}, DefaultZeroSettings()); err == nil || !strings.Contains(err.Error(), "1s..1m") {
			t.Errorf("%s: %v, want a range error", bad, err)
		}
	}
}
