package decide

import (
	"fmt"
	"math"
)

// Capacity is the capacity model that turns a request rate into replicas.
//
// By Little's law the mean number of requests in the system is
// L = λ × W (rate × time in system). A replica is meant to hold
// TargetConcurrency requests at once (Knative's target concurrency: the
// per-replica concurrency the autoscaler aims for, below the hard limit), so
//
//	replicas = ceil(rps × service_time / TargetConcurrency)
//
// and, when TargetRPS (a per-replica rate target, as OpenFaaS Pro's rps mode)
// is set, at least ceil(rps / TargetRPS).
// The service time is the observed mean latency through the gateway, so
// queueing under overload raises the estimate, which is what L = λW asks for.
type Capacity struct {
	TargetConcurrency  float64 `json:"target_concurrency"`   // requests in flight per replica, > 0
	TargetRPS          float64 `json:"target_rps"`           // per replica; 0 = off
	DefaultServiceTime float64 `json:"default_service_time"` // seconds, when none observed
}

// DefaultCapacity: target concurrency 1 (a replica serves one request at a
// time, as a classic-watchdog function or a CPU-bound one does), no rate
// target, 0.1 s service time until one is observed.
func DefaultCapacity() Capacity {
	return Capacity{TargetConcurrency: 1, DefaultServiceTime: 0.1}
}

// Validate checks the targets, naming the allowed ranges.
func (c Capacity) Validate() error {
	if !(c.TargetConcurrency > 0) || c.TargetConcurrency > 10000 {
		return fmt.Errorf("target concurrency %v: must be in (0,10000]", c.TargetConcurrency)
	}
	if c.TargetRPS < 0 || c.TargetRPS > 1e6 || math.IsNaN(c.TargetRPS) {
		return fmt.Errorf("target rps %v: must be in [0,1e6] (0 = off)", c.TargetRPS)
	}
	if c.DefaultServiceTime < 0 || math.IsNaN(c.DefaultServiceTime) {
		return fmt.Errorf("default service time %v: must be >= 0", c.DefaultServiceTime)
	}
	return nil
}

// Raw is the fractional number of replicas the rate needs.
func (c Capacity) Raw(rps, serviceTime float64) float64 {
	if rps <= 0 || math.IsNaN(rps) {
		return 0
	}
	if serviceTime <= 0 || math.IsNaN(serviceTime) {
		serviceTime = c.DefaultServiceTime
	}
	r := 0.0
	if c.TargetConcurrency > 0 {
		r = rps * serviceTime / c.TargetConcurrency
	}
	if c.TargetRPS > 0 {
		r = math.Max(r, rps/c.TargetRPS)
	}
	return r
}

// Replicas is ceil(Raw(rps, serviceTime)).
func (c Capacity) Replicas(rps, serviceTime float64) int { return ceil(c.Raw(rps, serviceTime)) }

// ForInFlight is the fractional number of replicas the requests in flight
// right now need to run at once: inFlight / max(TargetConcurrency, 1).
// The rate term (Raw) already holds the interval's mean concurrency
// (rps × latency = L); this instantaneous count adds a backlog the rate
// does not show yet. A target concurrency below 1 is a utilisation goal for
// the mean, not a limit, so here a replica counts for at least one request:
// one request in flight never asks for more than one replica.
func (c Capacity) ForInFlight(inFlight float64) float64 {
	if inFlight <= 0 || c.TargetConcurrency <= 0 {
		return 0
	}
	return inFlight / math.Max(c.TargetConcurrency, 1)
}

// Ahead is the fractional number of replicas a request rate needs `ahead`
// seconds from now, given the requests in flight now.
//
// Little's law (Raw) is the steady state: it holds over windows long
// compared with the service time. A function whose requests last longer
// than the window has not reached it: its concurrency relaxes from the
// in-flight count L0 towards λW with the service time as time constant
// (the M/G/∞ transient, exact for exponential service times),
//
//	L(ahead) = λW + (L0 − λW) · exp(−ahead / W)
//
// divided by TargetConcurrency. When the service time is much shorter than
// ahead (the usual case: 0.1 s requests, a 30 s horizon) this is Raw; when
// it is much longer (minutes-long requests sampled every few seconds) it is
// what is in flight, and a rate measured from a handful of completions in
// a short interval can no longer ask for dozens of replicas.
// ahead <= 0 means unknown: Raw.
func (c Capacity) Ahead(rps, inFlight, serviceTime, ahead float64) float64 {
	ss := c.Raw(rps, serviceTime)
	if serviceTime <= 0 || math.IsNaN(serviceTime) {
		serviceTime = c.DefaultServiceTime
	}
	if !(ahead > 0) || !(serviceTime > 0) || c.TargetConcurrency <= 0 {
		return ss
	}
	w := math.Exp(-ahead / serviceTime)
	if w < 1e-9 {
		return ss
	}
	now := math.Max(0, inFlight) / c.TargetConcurrency
	return ss*(1-w) + now*w
}

// ForForecast is the fractional number of replicas a forecast needs: its
// rate over its horizon through Ahead, given the requests in flight now.
// The predictor's recommendation and Policy.Decide both use it, so the two
// cannot disagree on what a forecast means.
func (c Capacity) ForForecast(f Forecast, inFlight, serviceTime float64) float64 {
	return c.Ahead(f.RPS, inFlight, serviceTime, f.Horizon)
}

// Reactive is the fractional number of replicas the observed load needs:
// the larger of Ahead(observed rate, in-flight, over the sample's interval)
// and ForInFlight(observed in-flight).
func (c Capacity) Reactive(observed Sample, serviceTime float64) float64 {
	return math.Max(c.Ahead(observed.RPS, observed.InFlight, serviceTime, observed.Interval), c.ForInFlight(observed.InFlight))
}

// Ceil rounds a fractional replica count up, forgiving float noise
// (2.0000000001 → 2); non-positive and NaN give 0.
func Ceil(x float64) int { return ceil(x) }

func ceil(x float64) int {
	if x <= 0 || math.IsNaN(x) {
		return 0
	}
	if math.IsInf(x, 1) || x > 1e9 {
		return 1e9
	}
	return int(math.Ceil(x - 1e-9))
}
