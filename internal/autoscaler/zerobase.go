package autoscaler

import (
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// zeroLayer decides between zero and one replica; the shared load layer
// of zeroCtl adds replicas beyond one. Every keep-alive-style policy of the
// scale-to-zero regime (fixed keep-alive, hybrid histogram, prescale) runs
// on the same load layer, so their frontiers differ only in the zero
// decision.
type zeroLayer interface {
	// floor is the least replicas wanted at this control instant: 1 to
	// hold (or start) a replica, 0 to let the function go to zero.
	floor(v sim.View) int
	// arrived is called for every arrival (before dispatch).
	arrived(now float64)
}

// zeroCtl is the scale-to-zero controller: every period it asks the zero
// layer for its floor and the load layer for what the load needs, and
// returns the larger. Load layer (reactive, Knative-like): one replica
// while any request is in flight; beyond one, ceil(mean in-flight over the
// period / (target × slots)), held for a 60 s stabilization window. A
// replica is never removed under requests (the simulator also refuses it).
type zeroCtl struct {
	period, lag int
	target      float64 // in-flight requests per replica the load layer aims at
	z           zeroLayer
	ring        []int // load need (>= 2 only) over the stabilization window
	pos         int
}

const zeroStabilization = 60 // seconds

func newZeroCtl(f sim.FunctionInfo, period, lag int, z zeroLayer) *zeroCtl {
	return newZeroCtlWith(f, period, lag, z, LoadLayer{})
}

// LoadLayer overrides the shared load layer's defaults (zero values keep
// them): a time-compressed live run (prescale bench-live) shortens the
// stabilization with the trace and aims at the chain's
// prescale.target-concurrency.
type LoadLayer struct {
	Target        float64 // in-flight requests per replica (0 = 0.7 × slots)
	Stabilization int     // seconds a need of two or more is held (0 = 60)
}

func newZeroCtlWith(f sim.FunctionInfo, period, lag int, z zeroLayer, l LoadLayer) *zeroCtl {
	target, stab := 0.7*float64(f.Concurrency), zeroStabilization
	if l.Target > 0 {
		target = l.Target
	}
	if l.Stabilization > 0 {
		stab = l.Stabilization
	}
	return &zeroCtl{period: period, lag: lag, target: target, z: z, ring: make([]int, max(1, stab/period))}
}

func (c *zeroCtl) Period() int        { return c.period }
func (c *zeroCtl) Lag() int           { return c.lag }
func (c *zeroCtl) Arrived(v sim.View) { c.z.arrived(v.Now()) }
func (c *zeroCtl) Decide(v sim.View) int {
	w := min(c.period, int(v.Now()))
	need := 0
	if w > 0 {
		need = int(math.Ceil(math.Max(v.InFlightSeconds(w)/float64(w), float64(v.InFlight())) / c.target))
	}
	if need < 2 {
		need = 0
	}
	c.ring[c.pos] = need
	c.pos = (c.pos + 1) % len(c.ring)
	want := c.z.floor(v)
	for _, n := range c.ring {
		want = max(want, n)
	}
	if v.InFlight() > 0 {
		want = max(want, 1)
	}
	if want == v.Replicas() {
		return sim.Keep
	}
	return want
}

// KeepAlive is the fixed keep-alive idler: OpenFaaS Pro's
// com.openfaas.scale.zero-duration (scale to zero once the function has had
// no invocation for Duration), the ~10-minute keep-alive of commercial
// clouds. Checked every 5 s, on the shared load layer.
type KeepAlive struct {
	Duration float64 // seconds
	Label    string
	// Period is the check interval in seconds (0 = 5); a time-compressed
	// live run (prescale bench-live) checks as often as the chain decides.
	Period int
	Load   LoadLayer
}

func (k KeepAlive) Name() string {
	if k.Label != "" {
		return k.Label
	}
	return "keepalive"
}

func (k KeepAlive) NewController(f sim.FunctionInfo) sim.Controller {
	return newZeroCtlWith(f, periodOr5(k.Period), 0, &keepAliveLayer{ka: k.Duration, last: math.Inf(-1)}, k.Load)
}

type keepAliveLayer struct{ ka, last float64 }

func (l *keepAliveLayer) arrived(now float64) { l.last = now }
func (l *keepAliveLayer) floor(v sim.View) int {
	if v.Now()-l.last < l.ka {
		return 1
	}
	return 0
}

// periodOr5 is a zero policy's control period: p, or 5 s when unset.
func periodOr5(p int) int {
	if p > 0 {
		return p
	}
	return 5
}
