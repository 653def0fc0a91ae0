package autoscaler

import "github.com/prescale/prescale/internal/sim"

// Static never scales: the function keeps its minimum replicas (1 by default).
type Static struct{}

func (Static) Name() string { return "static" }

func (Static) NewController(sim.FunctionInfo) sim.Controller { return staticCtl{} }

type staticCtl struct{}

func (staticCtl) Period() int         { return 0 }
func (staticCtl) Lag() int            { return 0 }
func (staticCtl) Decide(sim.View) int { return sim.Keep }
