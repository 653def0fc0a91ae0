package autoscaler

import (
	"fmt"
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// KPAConfig is the Knative Pod Autoscaler (serving pkg/autoscaler/scaling)
// in concurrency mode with the config-autoscaler defaults: 60 s stable
// window, panic window 10 % of it (6 s), panic threshold 200 %, target 70 %
// of the container concurrency, max scale-up rate 1000, max scale-down rate
// 2, a 2 s tick. Scale to zero is off here (min 1 for every policy). The
// observed concurrency is every request in the function, queued or in
// service, as the queue-proxies (and the activator, when it buffers) report.
type KPAConfig struct {
	StableWindow      int     // seconds
	PanicWindowPct    float64 // percent of the stable window
	PanicThreshold    float64 // 2.0 = 200 %
	TargetUtilization float64 // 0.7 of the container concurrency
	MaxScaleUpRate    float64
	MaxScaleDownRate  float64
	Tick              int // seconds
}

// DefaultKPA returns Knative's defaults.
func DefaultKPA() KPAConfig {
	return KPAConfig{StableWindow: 60, PanicWindowPct: 10, PanicThreshold: 2, TargetUtilization: 0.7,
		MaxScaleUpRate: 1000, MaxScaleDownRate: 2, Tick: 2}
}

// Validate reports the first field out of range.
func (c KPAConfig) Validate() error {
	switch {
	case c.StableWindow < 6 || c.StableWindow > 3600:
		return fmt.Errorf("kpa stable window %d s: allowed range is 6..3600", c.StableWindow)
	case c.PanicWindowPct < 1 || c.PanicWindowPct > 100:
		return fmt.Errorf("kpa panic window %g %%: allowed range is 1..100", c.PanicWindowPct)
	case c.PanicThreshold <= 1:
		return fmt.Errorf("kpa panic threshold %g: must be > 1 (100 %%)", c.PanicThreshold)
	case c.TargetUtilization <= 0 || c.TargetUtilization > 1:
		return fmt.Errorf("kpa target utilization %g: allowed range is (0, 1]", c.TargetUtilization)
	case c.MaxScaleUpRate <= 1 || c.MaxScaleDownRate <= 1:
		return fmt.Errorf("kpa max scale rates must be > 1")
	case c.Tick < 1:
		return fmt.Errorf("kpa tick %d s: must be >= 1", c.Tick)
	}
	return nil
}

// KPA is the Knative policy.
type KPA struct{ Config KPAConfig }

func (KPA) Name() string { return "kpa" }

func (k KPA) NewController(f sim.FunctionInfo) sim.Controller {
	return &kpaCtl{cfg: k.Config, f: f, panicSince: -1}
}

type kpaCtl struct {
	cfg          KPAConfig
	f            sim.FunctionInfo
	panicSince   float64 // -1 when not panicking (Knative's zero panicTime)
	maxPanicPods int
}

func (k *kpaCtl) Period() int { return k.cfg.Tick }
func (k *kpaCtl) Lag() int    { return 0 }

func (k *kpaCtl) Decide(v sim.View) int {
	now := v.Now()
	sw := min(k.cfg.StableWindow, int(now))
	pw := min(max(1, int(math.Round(float64(k.cfg.StableWindow)*k.cfg.PanicWindowPct/100))), int(now))
	if sw < 1 {
		return sim.Keep
	}
	stable := v.InFlightSeconds(sw) / float64(sw)
	panicC := v.InFlightSeconds(pw) / float64(pw)
	return k.step(now, v.Ready(), stable, panicC)
}

// step is the KPA's Scale(): observed stable and panic concurrency in, the
// desired pod count out.
func (k *kpaCtl) step(now float64, ready int, stable, panicC float64) int {
	target := k.cfg.TargetUtilization * float64(k.f.Concurrency)
	rp := math.Max(1, float64(ready))
	maxUp := int(math.Ceil(k.cfg.MaxScaleUpRate * rp))
	maxDown := int(math.Floor(rp / k.cfg.MaxScaleDownRate))
	dspc := min(max(int(math.Ceil(stable/target)), maxDown), maxUp)
	dppc := min(max(int(math.Ceil(panicC/target)), maxDown), maxUp)
	over := panicC/target/rp >= k.cfg.PanicThreshold
	switch {
	case k.panicSince < 0 && over:
		k.panicSince = now
	case over:
		k.panicSince = now
	case k.panicSince >= 0 && k.panicSince+float64(k.cfg.StableWindow) < now:
		k.panicSince = -1
		k.maxPanicPods = 0
	}
	want := dspc
	if k.panicSince >= 0 {
		want = max(want, dppc)
		if want > k.maxPanicPods {
			k.maxPanicPods = want
		} else {
			want = k.maxPanicPods
		}
	}
	return min(max(want, k.f.Min), k.f.Max)
}

// Panicking reports whether the controller is in panic mode (for tests).
func (k *kpaCtl) Panicking() bool { return k.panicSince >= 0 }
