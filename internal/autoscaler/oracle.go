package autoscaler

import (
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// Oracle knows every future arrival and service time. Each second it holds
// the most replicas any second of the next (longest cold start + 1 s) needs
// for no request to wait (ceil(in-flight / concurrency) with every request
// served at once), and releases them as soon as no such second needs them.
// Its replica-seconds are the reference: the least a policy can spend with
// (almost) no cold-start queueing, given that replicas must be started a
// full worst-case cold start ahead.
type Oracle struct{}

func (Oracle) Name() string { return "oracle" }

func (Oracle) NewController(f sim.FunctionInfo) sim.Controller {
	return &oracleCtl{horizon: int(math.Ceil(f.ColdStartMax)) + 1}
}

type oracleCtl struct{ horizon int }

func (*oracleCtl) UsesFuture()             {}
func (*oracleCtl) Period() int             { return 1 }
func (*oracleCtl) Lag() int                { return 0 }
func (o *oracleCtl) Decide(v sim.View) int { return v.NeedAhead(o.horizon) }
