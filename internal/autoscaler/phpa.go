package autoscaler

import (
	"fmt"
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// PHPAConfig is jthomperoo/predictive-horizontal-pod-autoscaler with one
// Holt-Winters model (additive trend and season; the project's example
// values alpha = beta = gamma = 0.9, 6 periods a season, 4 stored seasons)
// over the history of the HPA's calculated replica counts, one value per
// 15 s sync period; decisionType maximum: the larger of the HPA calculation
// and the model's next-period prediction, then the HPA's stabilization and
// rate limits. The model is used once StoredSeasons full seasons are held.
type PHPAConfig struct {
	HPA                HPAConfig
	Alpha, Beta, Gamma float64
	SeasonLength       int
	StoredSeasons      int
}

// DefaultPHPA returns the project's Holt-Winters example values.
func DefaultPHPA() PHPAConfig {
	return PHPAConfig{HPA: DefaultHPA(), Alpha: 0.9, Beta: 0.9, Gamma: 0.9, SeasonLength: 6, StoredSeasons: 4}
}

// Validate reports the first field out of range.
func (c PHPAConfig) Validate() error {
	if err := c.HPA.Validate(); err != nil {
		return err
	}
	for _, x := range []float64{c.Alpha, c.Beta, c.Gamma} {
		if x < 0 || x > 1 {
			return fmt.Errorf("phpa smoothing factor %g: allowed range is 0..1", x)
		}
	}
	if c.SeasonLength < 1 || c.StoredSeasons < 2 {
		return fmt.Errorf("phpa season length must be >= 1 and stored seasons >= 2")
	}
	return nil
}

// PHPA is the predictive HPA policy.
type PHPA struct{ Config PHPAConfig }

func (PHPA) Name() string { return "phpa" }

func (p PHPA) NewController(f sim.FunctionInfo) sim.Controller {
	return &phpaCtl{hpaCtl: hpaCtl{cfg: p.Config.HPA, f: f}, cfg: p.Config}
}

type phpaCtl struct {
	hpaCtl
	cfg  PHPAConfig
	hist []float64
}

func (p *phpaCtl) Decide(v sim.View) int {
	cur := v.Replicas()
	calc := min(max(p.calc(v), p.f.Min), p.f.Max) // the evaluation PHPA stores is within the bounds
	p.hist = append(p.hist, float64(calc))
	if n := p.cfg.SeasonLength * p.cfg.StoredSeasons; len(p.hist) > n {
		p.hist = p.hist[len(p.hist)-n:]
	}
	want := calc
	if len(p.hist) == p.cfg.SeasonLength*p.cfg.StoredSeasons {
		pred := holtWinters(p.hist, p.cfg.SeasonLength, p.cfg.Alpha, p.cfg.Beta, p.cfg.Gamma, 1)
		want = max(want, int(math.Ceil(pred-1e-9)))
	}
	want = min(max(want, p.f.Min), p.f.Max)
	out := p.normalize(v.Now(), cur, want)
	p.record(v.Now(), cur, out)
	return out
}

// holtWinters is additive triple exponential smoothing: initial level = first
// value, initial trend = mean per-step change between the first two seasons,
// initial seasonal components = per-position mean deviation from each
// season's average; returns the forecast ahead steps past the last value.
func holtWinters(y []float64, L int, alpha, beta, gamma float64, ahead int) float64 {
	n := len(y)
	seasons := n / L
	var trend float64
	for i := 0; i < L; i++ {
		trend += (y[L+i] - y[i]) / float64(L)
	}
	trend /= float64(L)
	avg := make([]float64, seasons)
	for j := range seasons {
		for i := range L {
			avg[j] += y[j*L+i]
		}
		avg[j] /= float64(L)
	}
	season := make([]float64, L)
	for i := range L {
		for j := range seasons {
			season[i] += y[j*L+i] - avg[j]
		}
		season[i] /= float64(seasons)
	}
	level := y[0]
	for t := 1; t < n; t++ {
		last := level
		level = alpha*(y[t]-season[t%L]) + (1-alpha)*(level+trend)
		trend = beta*(level-last) + (1-beta)*trend
		season[t%L] = gamma*(y[t]-level) + (1-gamma)*season[t%L]
	}
	return level + float64(ahead)*trend + season[(n-1+ahead)%L]
}
