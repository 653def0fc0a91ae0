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
// (W = 600 s, 15 s pre-warm lead, a fixed keep-alive of 4 × W, 40 min, until
// confident: decide.ZeroSettings.FixedKeepAlive).
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
	l := &prescaleZeroLayer{set: p.Settings, period: p.Period, next: math.Inf(1), lastRep: -1}
	l.st.Configure(p.Settings) // the arrival model's unit (prescale.arrival-resolution), as load-probe does
	return newZeroCtl(f, p.Period, p.Lag, l)
}

// simTime is the wall time pkg/decide sees at simulated second s.
func simTime(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }

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
		l.next = d.Next.Sub(epoch).Seconds()
	}
	return l.floorV
}

// PrescaleChain is prescale as the chain runs it, whole: every period
// load-probe's sample feeds the predictor's step (decide.Predict with the
// shipped forecaster) and its count feeds the arrival model
// (ArrivalState.Update); the scaler's load policy (decide.Policy.Decide,
// at the one-replica minimum the labels default to) and its
// scale-to-zero decision (decide.DecideZero) are combined by
// decide.WithZero, exactly as functions/scaler combines them, and the
// answer lands Lag seconds later. Unlike PrescaleZero (the zero decision
// on the shared load layer, which isolates the zero decision for the
// frontier), the replicas beyond one come from prescale's forecast.
type PrescaleChain struct {
	Config PrescaleConfig
	Zero   decide.ZeroSettings
	Label  string
}

// NewPrescaleChain is the chain of c (DefaultPrescale is what ships) with
// zero on at the label defaults.
func NewPrescaleChain(c PrescaleConfig) PrescaleChain {
	return PrescaleChain{Config: c, Zero: DefaultPrescaleZero().Settings}
}

func (p PrescaleChain) Name() string {
	if p.Label != "" {
		return p.Label
	}
	return "prescale-chain"
}

func (p PrescaleChain) NewController(f sim.FunctionInfo) sim.Controller {
	ctl := Prescale{Config: p.Config}.NewController(f).(*prescaleCtl)
	ctl.set.Min = max(1, f.Min) // com.openfaas.scale.min's default: zero is the zero decision's
	c := &prescaleChainCtl{p: ctl, zset: p.Zero}
	c.arr.Configure(p.Zero) // the arrival model's unit (prescale.arrival-resolution), as load-probe does
	return c
}

type prescaleChainCtl struct {
	p    *prescaleCtl
	zset decide.ZeroSettings
	arr  decide.ArrivalState
	// Last is the newest combined decision (for tests).
	Last decide.Decision
}

func (c *prescaleChainCtl) Period() int { return c.p.Period() }
func (c *prescaleChainCtl) Lag() int    { return c.p.Lag() }

func (c *prescaleChainCtl) Decide(v sim.View) int {
	p := c.p
	now := simTime(v.Now())
	// load-probe: the sample for the predictor, the count for the model.
	p.hist = append(p.hist, sampleOf(v, p.f.Name, p.cfg.Period, now))
	if len(p.hist) > p.cfg.History {
		p.hist = p.hist[len(p.hist)-p.cfg.History:]
	}
	w := min(p.cfg.Period, int(v.Now()))
	n := 0.0
	if w > 0 {
		n = v.Arrivals(w)
	}
	c.arr.Update(n, now.Add(-time.Duration(w)*time.Second), now)
	// predictor → scaler.
	pred, ok := p.step(now)
	if !ok {
		return sim.Keep
	}
	d, st := p.cfg.Policy.Decide(pred.PolicyInput(p.f.Name, v.Replicas(), p.set, false), p.state, now)
	z := decide.DecideZero(c.arr, now, c.zset, decide.ZeroObservation{Replicas: v.Replicas(), InFlight: float64(v.InFlight())})
	d = decide.WithZero(d, z)
	if !d.Invalid {
		p.state = st
	}
	c.Last = d
	if d.Invalid || !d.Scale {
		return sim.Keep
	}
	return d.After
}
