package live

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prescale/prescale/internal/clock"
	"github.com/prescale/prescale/internal/sim"
)

// DefaultFailAfter is Config.FailAfter's default.
const DefaultFailAfter = 5

// retryFirst is the backoff after a first failed observation; it doubles
// with each further one, up to Config.Observe.
const retryFirst = 100 * time.Millisecond

// Config configures one run of one Controller against one function.
type Config struct {
	Function string
	// Duration is how long the run lasts (1s..24h).
	Duration time.Duration
	// Observe is the sampling period (default 1s; 100ms..10s): every
	// window sum is computed from samples this far apart.
	Observe time.Duration
	// Min, Max bound the replicas the runner posts (Max 1..100, Min 0..Max).
	Min, Max int
	// FailAfter is how many observations in a row may fail before the run
	// ends (default 5; 1..100). A failed one is retried after a short
	// backoff (100 ms, doubling, at most Observe) and recorded as a Gap.
	FailAfter int
	Clock     clock.Clock // default: the wall clock
	// OnSample, when set, sees every sample (progress, plots).
	OnSample func(Sample)
	// OnDecision, when set, sees every applied scale call.
	OnDecision func(t float64, before, after int, err error)
}

func (c Config) withDefaults() Config {
	if c.Observe == 0 {
		c.Observe = time.Second
	}
	if c.FailAfter == 0 {
		c.FailAfter = DefaultFailAfter
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	return c
}

// Validate states every value out of its allowed range.
func (c Config) Validate() error {
	var errs []error
	if c.Function == "" {
		errs = append(errs, errors.New("function is empty (allowed: a deployed function's name)"))
	}
	if c.Duration < time.Second || c.Duration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("duration %s out of range (allowed 1s..24h)", c.Duration))
	}
	if c.Observe < 100*time.Millisecond || c.Observe > 10*time.Second {
		errs = append(errs, fmt.Errorf("observe %s out of range (allowed 100ms..10s)", c.Observe))
	}
	if c.FailAfter < 1 || c.FailAfter > 100 {
		errs = append(errs, fmt.Errorf("fail-after %d out of range (allowed 1..100 consecutive failed observations)", c.FailAfter))
	}
	if c.Max < 1 || c.Max > 100 || c.Min < 0 || c.Min > c.Max {
		errs = append(errs, fmt.Errorf("min %d, max %d out of range (allowed 0 <= min <= max, 1 <= max <= 100)", c.Min, c.Max))
	}
	return errors.Join(errs...)
}

// Run drives ctl against g for cfg.Duration and returns the History. A
// Controller that is a sim.ArrivalObserver gets Arrived once per request
// started since the previous sample, at the sample (before Decide). A
// Controller with Period 0 never decides (the run only observes: prescale's
// own chain, or a static deployment). A failed observation is retried after
// a short backoff and recorded in the History as a Gap; cfg.FailAfter
// failures in a row, or ctx's end, end the run.
func Run(ctx context.Context, g Gateway, ctl sim.Controller, cfg Config) (*History, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("live run: %w", err)
	}
	h := &History{}
	start := cfg.Clock.Now()
	type pending struct {
		at       float64
		replicas int
	}
	var queue []pending
	nextDecide := 0.0
	if ctl != nil && ctl.Period() > 0 {
		nextDecide = float64(ctl.Period())
	}
	failed := 0 // observations failed in a row
	for {
		now := cfg.Clock.Now().Sub(start).Seconds()
		s, err := g.Observe(ctx, cfg.Function)
		if err != nil {
			if ctx.Err() != nil {
				return h, ctx.Err()
			}
			failed++
			h.gaps = append(h.gaps, Gap{T: now, Err: err})
			if failed >= cfg.FailAfter {
				return h, fmt.Errorf("live run at %.1fs: %d observations in a row failed, the last: %w", now, failed, err)
			}
			if err := sleep(ctx, cfg.Clock, retryAfter(failed, cfg.Observe)); err != nil {
				return h, err
			}
			continue
		}
		failed = 0
		s.T = now
		prevStarted := h.Last().Started
		first := h.Len() == 0
		h.Add(s)
		// A zero-mode Controller (sim.ArrivalObserver: keep-alive, hybrid)
		// is told of every arrival; live, the requests that started since
		// the last sample arrive at this sample's time (at most 10000 a
		// sample: the counters are the gateway's, a jump beyond that is a
		// reset, not arrivals).
		if ao, ok := ctl.(sim.ArrivalObserver); ok && !first {
			for n := min(10000, int(math.Round(s.Started-prevStarted))); n > 0; n-- {
				ao.Arrived(ViewOf(h))
			}
		}
		if cfg.OnSample != nil {
			cfg.OnSample(s)
		}
		if ctl != nil && ctl.Period() > 0 && now >= nextDecide {
			for nextDecide <= now {
				nextDecide += float64(ctl.Period())
			}
			if d := ctl.Decide(ViewOf(h)); d != sim.Keep {
				queue = append(queue, pending{now + float64(ctl.Lag()), min(cfg.Max, max(cfg.Min, d))})
			}
		}
		for len(queue) > 0 && queue[0].at <= now {
			p := queue[0]
			queue = queue[1:]
			before := h.Last().Replicas
			if p.replicas == before {
				continue
			}
			err := g.Scale(ctx, cfg.Function, p.replicas)
			if cfg.OnDecision != nil {
				cfg.OnDecision(now, before, p.replicas, err)
			}
			if err != nil && ctx.Err() != nil {
				return h, ctx.Err()
			}
		}
		if now >= cfg.Duration.Seconds() {
			return h, nil
		}
		if err := sleep(ctx, cfg.Clock, cfg.Observe); err != nil {
			return h, err
		}
	}
}

// retryAfter is the backoff after the failed-th failure in a row:
// retryFirst doubled failed-1 times, at most observe.
func retryAfter(failed int, observe time.Duration) time.Duration {
	d := retryFirst
	for i := 1; i < failed && d < observe; i++ {
		d *= 2
	}
	return min(d, observe)
}

// sleep waits d on c, or returns ctx's error when it ends first.
func sleep(ctx context.Context, c clock.Clock, d time.Duration) error {
	t := c.NewTimer(d)
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
