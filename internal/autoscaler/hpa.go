package autoscaler

import (
	"fmt"
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// HPAConfig is the Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on CPU
// with its defaults: kube-controller-manager's 15 s sync period and 0.1
// tolerance, a 300 s scale-down stabilization window, and the default
// behaviour: scale up by max(4 pods, 100 %) per 15 s, scale down by up to
// 100 % per 15 s. CPU utilisation is modelled as the busy share of the ready
// replicas' request slots, averaged over MetricWindow seconds (metrics-server's
// 15 s resolution).
type HPAConfig struct {
	TargetUtilization float64 // 0.5 = 50 % CPU
	SyncPeriod        int     // seconds
	Tolerance         float64
	MetricWindow      int // seconds
	UpStabilization   int // seconds (0)
	DownStabilization int // seconds (300)
	UpPods            int // pods added per UpPeriod (4)
	UpPercent         float64
	UpPeriod          int // seconds (15)
	DownPercent       float64
	DownPeriod        int // seconds (15)
}

// DefaultHPA returns the Kubernetes defaults with a 50 % CPU target.
func DefaultHPA() HPAConfig {
	return HPAConfig{
		TargetUtilization: 0.5, SyncPeriod: 15, Tolerance: 0.1, MetricWindow: 15,
		UpStabilization: 0, DownStabilization: 300,
		UpPods: 4, UpPercent: 100, UpPeriod: 15, DownPercent: 100, DownPeriod: 15,
	}
}

// Validate reports the first field out of range.
func (c HPAConfig) Validate() error {
	switch {
	case c.TargetUtilization <= 0 || c.TargetUtilization > 1:
		return fmt.Errorf("hpa target utilization %g: allowed range is (0, 1]", c.TargetUtilization)
	case c.SyncPeriod < 1, c.MetricWindow < 1, c.UpPeriod < 1, c.DownPeriod < 1:
		return fmt.Errorf("hpa periods and windows must be >= 1 s")
	case c.Tolerance < 0 || c.Tolerance >= 1:
		return fmt.Errorf("hpa tolerance %g: allowed range is [0, 1)", c.Tolerance)
	case c.UpStabilization < 0 || c.DownStabilization < 0 || c.DownStabilization > 3600:
		return fmt.Errorf("hpa stabilization windows: allowed range is 0..3600 s")
	}
	return nil
}

// HPA is the Kubernetes HPA policy.
type HPA struct{ Config HPAConfig }

func (HPA) Name() string { return "hpa" }

func (h HPA) NewController(f sim.FunctionInfo) sim.Controller {
	return &hpaCtl{cfg: h.Config, f: f}
}

type timed struct {
	t float64
	n int
}

// hpaCtl mirrors the controller's per-HPA state: the recent unstabilized
// recommendations and the recent scale events.
type hpaCtl struct {
	cfg  HPAConfig
	f    sim.FunctionInfo
	recs []timed // (time, recommendation)
	evs  []timed // (time, replicas added (+) or removed (-))
}

func (h *hpaCtl) Period() int { return h.cfg.SyncPeriod }
func (h *hpaCtl) Lag() int    { return 0 }

func (h *hpaCtl) Decide(v sim.View) int {
	cur := v.Replicas()
	want := h.normalize(v.Now(), cur, h.calc(v))
	h.record(v.Now(), cur, want)
	return want
}

// calc is the replica calculator (GetResourceReplicas): the metric-based
// replica count before stabilization and rate limits.
func (h *hpaCtl) calc(v sim.View) int {
	cur := v.Replicas()
	ready, unready := v.Ready(), v.Starting()
	w := min(h.cfg.MetricWindow, int(v.Now()))
	readySec := v.ReadySeconds(w)
	if ready == 0 || readySec <= 0 {
		return cur // no metrics: no change
	}
	util := v.BusySeconds(w) / (readySec * float64(h.f.Concurrency))
	return hpaReplicas(cur, ready, unready, util, h.cfg.TargetUtilization, h.cfg.Tolerance)
}

// hpaReplicas is the HPA's formula: desired = ceil(ready × util / target)
// outside the tolerance band; when scaling up, not-yet-ready pods count as 0 %
// utilisation and the ratio is recomputed (and no change if that flips the
// direction or lands within tolerance).
func hpaReplicas(cur, ready, unready int, util, target, tol float64) int {
	ratio := util / target
	if unready == 0 || ratio <= 1 {
		if math.Abs(1-ratio) <= tol {
			return cur
		}
		n := int(math.Ceil(ratio * float64(ready)))
		if (ratio < 1 && n > cur) || (ratio > 1 && n < cur) {
			return cur
		}
		return n
	}
	total := float64(ready + unready)
	nr := util * float64(ready) / (target * total)
	if math.Abs(1-nr) <= tol {
		return cur
	}
	n := int(math.Ceil(nr * total))
	if (nr < 1 && n > cur) || (nr > 1 && n < cur) {
		return cur
	}
	return n
}

// normalize applies the stabilization windows, then the behaviour's rate
// limits and the min/max bounds (normalizeDesiredReplicasWithBehaviors).
func (h *hpaCtl) normalize(now float64, cur, desired int) int {
	up, down := desired, desired
	upCut := now - float64(h.cfg.UpStabilization)
	downCut := now - float64(h.cfg.DownStabilization)
	keep := h.recs[:0]
	for _, r := range h.recs {
		if r.t > upCut {
			up = min(up, r.n)
		}
		if r.t > downCut {
			down = max(down, r.n)
		}
		if r.t > upCut || r.t > downCut {
			keep = append(keep, r)
		}
	}
	h.recs = append(keep, timed{now, desired})
	rec := cur
	if rec < up {
		rec = up
	}
	if rec > down {
		rec = down
	}
	return h.rateLimit(now, cur, rec)
}

func (h *hpaCtl) rateLimit(now float64, cur, want int) int {
	added, removed := 0, 0
	upCut, downCut := now-float64(h.cfg.UpPeriod), now-float64(h.cfg.DownPeriod)
	for _, e := range h.evs {
		if e.n > 0 && e.t > upCut {
			added += e.n
		}
		if e.n < 0 && e.t > downCut {
			removed -= e.n
		}
	}
	switch {
	case want > cur:
		start := cur - added + removed
		limit := max(start+h.cfg.UpPods, int(math.Ceil(float64(start)*(1+h.cfg.UpPercent/100))))
		limit = max(limit, cur)
		want = min(want, limit, h.f.Max)
	case want < cur:
		start := cur - added + removed
		limit := int(float64(start) * (1 - h.cfg.DownPercent/100))
		limit = min(limit, cur)
		want = max(want, limit, h.f.Min)
	}
	return min(max(want, h.f.Min), h.f.Max)
}

func (h *hpaCtl) record(now float64, cur, want int) {
	keep := h.evs[:0]
	horizon := now - float64(max(h.cfg.UpPeriod, h.cfg.DownPeriod))
	for _, e := range h.evs {
		if e.t > horizon {
			keep = append(keep, e)
		}
	}
	h.evs = keep
	if want != cur {
		h.evs = append(h.evs, timed{now, want - cur})
	}
}
