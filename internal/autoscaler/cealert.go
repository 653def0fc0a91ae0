package autoscaler

import (
	"fmt"
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// CEAlertConfig is OpenFaaS CE's scaling: Prometheus evaluates
// APIHighInvocationRate, sum(rate(gateway_function_invocation_total{code="200"}[10s])) by (function_name) > 5,
// with `for: 5s`; AlertManager (group_wait 5s, group_interval 10s,
// repeat_interval 30s, send_resolved) posts to the gateway's /system/alert,
// which adds ceil(min(max,5) × factor / 100) replicas per firing
// notification, capped at min(max, 5), and sets min replicas when resolved.
type CEAlertConfig struct {
	Threshold      float64 // rps
	RateWindow     int     // seconds
	For            int     // seconds
	EvalInterval   int     // seconds
	GroupWait      int     // seconds
	GroupInterval  int     // seconds
	RepeatInterval int     // seconds
	Factor         float64 // percent, com.openfaas.scale.factor
	CECap          int     // the CE gateway's replica cap
}

// DefaultCEAlert returns the OpenFaaS CE chart's values.
func DefaultCEAlert() CEAlertConfig {
	return CEAlertConfig{Threshold: 5, RateWindow: 10, For: 5, EvalInterval: 5,
		GroupWait: 5, GroupInterval: 10, RepeatInterval: 30, Factor: 10, CECap: 5}
}

// Validate reports the first field out of range.
func (c CEAlertConfig) Validate() error {
	switch {
	case c.Threshold <= 0:
		return fmt.Errorf("ce-alert threshold %g rps: must be > 0", c.Threshold)
	case c.RateWindow < 1 || c.EvalInterval < 1 || c.For < 0 || c.GroupWait < 0 || c.GroupInterval < 1 || c.RepeatInterval < 1:
		return fmt.Errorf("ce-alert windows and intervals must be >= 1 s")
	case c.Factor < 1 || c.Factor > 100:
		return fmt.Errorf("ce-alert factor %g: allowed range is 1..100 (as com.openfaas.scale.factor)", c.Factor)
	case c.CECap < 1:
		return fmt.Errorf("ce-alert cap %d: must be >= 1", c.CECap)
	}
	return nil
}

// CEAlert is the OpenFaaS CE alert-rule policy.
type CEAlert struct{ Config CEAlertConfig }

func (CEAlert) Name() string { return "ce-alert" }

func (c CEAlert) NewController(f sim.FunctionInfo) sim.Controller {
	return &ceCtl{cfg: c.Config, f: f, pendingSince: -1, nextFlush: -1}
}

type alertState uint8

const (
	alertInactive alertState = iota
	alertPending
	alertFiring
)

type ceCtl struct {
	cfg          CEAlertConfig
	f            sim.FunctionInfo
	state        alertState
	pendingSince float64
	// AlertManager's group: flushes every GroupInterval from its first
	// notification; nextFlush < 0 means no active group.
	nextFlush    float64
	lastNotified float64
}

func (c *ceCtl) Period() int { return c.cfg.EvalInterval }
func (c *ceCtl) Lag() int    { return 0 }

func (c *ceCtl) Decide(v sim.View) int {
	w := min(c.cfg.RateWindow, int(v.Now()))
	rate := 0.0
	if w > 0 {
		rate = v.Completions(w) / float64(c.cfg.RateWindow)
	}
	return c.step(v.Now(), v.Replicas(), rate)
}

func (c *ceCtl) capN() int { return min(c.f.Max, c.cfg.CECap) }

// step evaluates the rule at now and returns what the gateway sets, or Keep.
func (c *ceCtl) step(now float64, cur int, rate float64) int {
	// Prometheus rule evaluation.
	if rate > c.cfg.Threshold {
		switch c.state {
		case alertInactive:
			c.state, c.pendingSince = alertPending, now
		}
		if c.state == alertPending && now-c.pendingSince >= float64(c.cfg.For) {
			c.state = alertFiring
			if c.nextFlush < 0 { // new group: first notification after group_wait
				c.nextFlush = now + float64(c.cfg.GroupWait)
				c.lastNotified = math.Inf(-1)
			}
		}
	} else {
		c.state = alertInactive
	}
	// AlertManager flush.
	if c.nextFlush < 0 || now < c.nextFlush {
		return sim.Keep
	}
	for c.nextFlush <= now {
		c.nextFlush += float64(c.cfg.GroupInterval)
	}
	switch c.state {
	case alertFiring:
		if now-c.lastNotified < float64(c.cfg.RepeatInterval) {
			return sim.Keep
		}
		c.lastNotified = now
		step := int(math.Ceil(float64(c.capN()) * c.cfg.Factor / 100))
		return min(cur+step, c.capN())
	case alertPending:
		return sim.Keep // still part of the group: wait for the next flush
	default: // resolved
		c.nextFlush = -1
		return c.f.Min
	}
}
