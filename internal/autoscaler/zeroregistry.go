package autoscaler

import (
	"fmt"
	"strings"
	"time"

	"github.com/prescale/prescale/internal/sim"
)

// ZeroNames lists the policies of the scale-to-zero regime
// (`prescale sim --min-replicas 0`), in report order.
func ZeroNames() []string {
	return []string{"keepalive", "kpa", "hybrid", "prescale", sim.ChainCurve, "oracle"}
}

// NewZero returns the named policy's scale-to-zero mode with its defaults:
// the 10-minute fixed keep-alive, Knative's KPA with its 30 s grace period,
// the paper's hybrid histogram, prescale with W = 600 s (on the shared load
// layer, and as the chain runs it: prescale-chain), and the oracle
// (which already releases every replica no second of the next cold-start
// horizon needs, and starts one exactly that far ahead).
func NewZero(name string, o Options) (sim.Policy, error) {
	switch name {
	case "keepalive":
		return KeepAlive{Duration: 600}, nil
	case "kpa":
		return KPAZero{Config: DefaultKPA(), Grace: 30}, nil
	case "hybrid":
		return Hybrid{Config: DefaultHybrid()}, nil
	case "prescale":
		return DefaultPrescaleZero(), nil
	case sim.ChainCurve:
		return NewPrescaleChain(o.Prescale), nil
	case "oracle":
		return Oracle{}, nil
	}
	return nil, fmt.Errorf("policy %q has no scale-to-zero mode: the zero-regime policies are %s", name, strings.Join(ZeroNames(), ", "))
}

// ParseZero is Parse for the scale-to-zero regime.
func ParseZero(list string, o Options) ([]sim.Policy, error) {
	return parseList(list, ZeroNames(), func(n string) (sim.Policy, error) { return NewZero(n, o) })
}

// Curve is one policy's knob sweep for a Pareto frontier.
type Curve struct {
	Policy string
	Knob   string // what is swept
	Points []sim.Policy
	Values []string // the knob's value per point
}

// ZeroCurves are the sweeps of the frontier benchmark: the fixed
// keep-alive 1–120 min, KPA's scale-to-zero grace period, the hybrid's
// head/tail percentiles, prescale's cold-start cost W; prescale as the
// chain runs it and the oracle are one point each.
func ZeroCurves(o Options) []Curve {
	var cs []Curve
	ka := Curve{Policy: "keepalive", Knob: "keep-alive"}
	for _, m := range []int{1, 2, 5, 10, 20, 30, 60, 120} {
		ka.Points = append(ka.Points, KeepAlive{Duration: float64(m * 60), Label: fmt.Sprintf("keepalive(%dm)", m)})
		ka.Values = append(ka.Values, fmt.Sprintf("%d min", m))
	}
	kpa := Curve{Policy: "kpa", Knob: "scale-to-zero grace (after the 60 s stable window)"}
	for _, g := range []int{30, 120, 300, 600, 1800, 3600} {
		kpa.Points = append(kpa.Points, KPAZero{Config: DefaultKPA(), Grace: g, Label: fmt.Sprintf("kpa(grace %s)", time.Duration(g)*time.Second)})
		kpa.Values = append(kpa.Values, (time.Duration(g) * time.Second).String())
	}
	hy := Curve{Policy: "hybrid", Knob: "head/tail percentiles"}
	for _, ht := range [][2]float64{{0.5, 99.9}, {1, 99.5}, {5, 99}, {10, 95}, {20, 90}, {30, 80}} {
		c := DefaultHybrid()
		c.Head, c.Tail = ht[0]/100, ht[1]/100
		hy.Points = append(hy.Points, Hybrid{Config: c, Label: fmt.Sprintf("hybrid(%g/%g)", ht[0], ht[1])})
		hy.Values = append(hy.Values, fmt.Sprintf("%g/%g", ht[0], ht[1]))
	}
	pz := Curve{Policy: "prescale", Knob: "cold-start cost W (prescale.cold-start-cost)"}
	for _, w := range []int{30, 60, 150, 300, 600, 1800, 3600, 7200, 14400} {
		p := DefaultPrescaleZero()
		p.Settings.ColdStartCost = time.Duration(w) * time.Second
		p.Label = fmt.Sprintf("prescale(W %s)", p.Settings.ColdStartCost)
		pz.Points = append(pz.Points, p)
		pz.Values = append(pz.Values, p.Settings.ColdStartCost.String())
	}
	pc := NewPrescaleChain(o.Prescale)
	ch := Curve{Policy: sim.ChainCurve, Knob: "cold-start cost W (the default)", Points: []sim.Policy{pc}, Values: []string{pc.Zero.ColdStartCost.String()}}
	or := Curve{Policy: "oracle", Knob: "—", Points: []sim.Policy{Oracle{}}, Values: []string{"—"}}
	return append(cs, ka, kpa, hy, pz, ch, or)
}
