package autoscaler

import (
	"math"
	"time"

	"github.com/prescale/prescale/internal/sim"
	"github.com/prescale/prescale/pkg/decide"
)

// PrescaleZero is prescale's scale-to-zero mode: every control period
// (5 s) the arrival model is fed the period's invocation count, as
// load-probe feeds it from the gateway's counters (decide.ArrivalState.
// Update), and decide.DecideZero, the code the scaler runs, says whether
// to hold one replica, release it or pre-warm one; the call lands Lag
// seconds later (the async chain). Replicas beyond one come from the shared
// load layer. Settings are the labels' (com.openfaas.scale.zero: "true",
// prescale.cold-start-cost = W).
type PrescaleZero struct {
	Period, Lag int
	Settings    decide.ZeroSettings
	Label       string
}

// DefaultPrescaleZero: period 5 s, lag 2 s, zero on, the label defaults
// (W = 600 s, 15 s pre-warm lead, 15 min fixed keep-alive until confident).
func DefaultPrescaleZero() PrescaleZero {
	s := decide.DefaultZeroSettings()
	s.Enabled = true
	return PrescaleZero{Period: 5, Lag: 2, Settings: s}
}

func (p PrescaleZero) Name() string {
	if p.Label != "" {
		return p.Label
	}
	return "prescale"
}

func (p PrescaleZero) NewController(f sim.FunctionInfo) sim.Controller {
	return newZeroCtl(f, p.Period, p.Lag, &prescaleZeroLayer{set: p.Settings, period: p.Period, next: math.Inf(1), lastRep: -1})
}

// simEpoch is the wall time of the simulation's t = 0.
var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func simTime(s float64) time.Time { return simEpoch.Add(time.Duration(s * float64(time.Second))) }

type prescaleZeroLayer struct {
	st      decide.ArrivalState
	set     decide.ZeroSettings
	period  int
	floorV  int
	next    float64 // decide again at the latest then
	lastRep int
	busy    bool
	// Last is the newest decision (for tests).
	Last decide.ZeroDecision
}

func (*prescaleZeroLayer) arrived(float64) {}

func (l *prescaleZeroLayer) floor(v sim.View) int {
	now := v.Now()
	w := min(l.period, int(now))
	n := 0.0
	if w > 0 {
		n = v.Arrivals(w)
	}
	l.st.Update(n, simTime(now-float64(w)), simTime(now))
	if n == 0 && !l.busy && now < l.next && v.Replicas() == l.lastRep {
		return l.floorV // nothing new: the last decision stands
	}
	d := decide.DecideZero(l.st, simTime(now), l.set, decide.ZeroObservation{Replicas: v.Replicas(), InFlight: float64(v.InFlight())})
	l.Last = d
	l.lastRep = v.Replicas()
	l.busy = d.Floor < 0
	l.floorV = max(d.Floor, 0)
	if l.busy {
		l.floorV = 1
	}
	l.next = math.Inf(1)
	if !d.Next.IsZero() {
		l.next = d.Next.Sub(simEpoch).Seconds()
	}
	return l.floorV
}
