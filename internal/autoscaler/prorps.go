package autoscaler

import (
	"fmt"
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// ProRPSConfig is OpenFaaS Pro's autoscaler in rps mode:
// desired = ceil(load / (target per replica × target proportion)), bounded
// by min/max, re-evaluated periodically. Target 0 means "what one replica
// can serve" (concurrency / mean service time), the value a user tunes the
// com.openfaas.scale.target label to; the label's default is 50 rps.
type ProRPSConfig struct {
	Target     float64 // rps per replica; 0 = derived from the function
	Proportion float64 // com.openfaas.scale.target-proportion (0.9)
	Interval   int     // seconds between evaluations
	RateWindow int     // seconds of the rate query
}

// DefaultProRPS returns the documented defaults (interval and window are
// not documented publicly; see bench/RESULTS.md).
func DefaultProRPS() ProRPSConfig {
	return ProRPSConfig{Target: 0, Proportion: 0.9, Interval: 15, RateWindow: 30}
}

// Validate reports the first field out of range.
func (c ProRPSConfig) Validate() error {
	switch {
	case c.Target < 0:
		return fmt.Errorf("pro-rps target %g: must be >= 0 (0 = derived)", c.Target)
	case c.Proportion <= 0 || c.Proportion > 1:
		return fmt.Errorf("pro-rps target proportion %g: allowed range is (0, 1]", c.Proportion)
	case c.Interval < 1 || c.RateWindow < 1:
		return fmt.Errorf("pro-rps interval and rate window must be >= 1 s")
	}
	return nil
}

// ProRPS is the OpenFaaS Pro rps-mode policy.
type ProRPS struct{ Config ProRPSConfig }

func (ProRPS) Name() string { return "pro-rps" }

func (p ProRPS) NewController(f sim.FunctionInfo) sim.Controller {
	t := p.Config.Target
	if t == 0 {
		t = float64(f.Concurrency) / math.Max(f.MeanService, 1e-3)
	}
	return &proCtl{cfg: p.Config, f: f, target: t}
}

type proCtl struct {
	cfg    ProRPSConfig
	f      sim.FunctionInfo
	target float64
}

func (p *proCtl) Period() int { return p.cfg.Interval }
func (p *proCtl) Lag() int    { return 0 }

func (p *proCtl) Decide(v sim.View) int {
	w := min(p.cfg.RateWindow, int(v.Now()))
	if w < 1 {
		return sim.Keep
	}
	return proReplicas(v.Arrivals(w)/float64(w), p.target, p.cfg.Proportion, p.f.Min, p.f.Max)
}

func proReplicas(rps, target, proportion float64, lo, hi int) int {
	n := int(math.Ceil(rps / (target * proportion)))
	return min(max(n, lo), hi)
}
