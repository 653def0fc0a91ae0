package autoscaler

import (
	"github.com/prescale/prescale/internal/sim"
)

// KPAZero is the Knative Pod Autoscaler with scale to zero on (min scale
// 0, Knative's default): the KPA above decides the pods; once its
// stable-window (60 s) concurrency is zero it wants 0 pods, and the
// revision is scaled to zero only after scale-to-zero-grace-period (30 s by
// default) more of wanting 0 (pkg/reconciler/autoscaling/kpa, with
// scale-to-zero-pod-retention-period 0). A request at zero is held by the
// activator while one pod starts (the simulator's scale from zero).
type KPAZero struct {
	Config KPAConfig
	Grace  int // seconds of scale-to-zero-grace-period
	Label  string
}

func (k KPAZero) Name() string {
	if k.Label != "" {
		return k.Label
	}
	return "kpa"
}

func (k KPAZero) NewController(f sim.FunctionInfo) sim.Controller {
	f.Min = 0
	return &kpaZeroCtl{kpaCtl: kpaCtl{cfg: k.Config, f: f, panicSince: -1}, grace: float64(k.Grace), zeroSince: -1}
}

type kpaZeroCtl struct {
	kpaCtl
	grace     float64
	zeroSince float64 // when the KPA first wanted 0 pods; -1 when it does not
}

func (k *kpaZeroCtl) Decide(v sim.View) int {
	want := k.kpaCtl.Decide(v)
	if want != 0 || v.Replicas() == 0 {
		k.zeroSince = -1
		return want
	}
	now := v.Now()
	if k.zeroSince < 0 {
		k.zeroSince = now
	}
	if now-k.zeroSince < k.grace {
		return sim.Keep // inactive, within the grace period
	}
	return 0
}
