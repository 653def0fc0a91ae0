package sim

import (
	"errors"
	"fmt"
	"runtime"
)

// Config holds the simulator's parameters. Start from DefaultConfig.
type Config struct {
	Concurrency    int     // request slots per replica, 1..10000
	ColdStart      Dist    // delay from a replica's creation to its readiness
	SLO            float64 // seconds of waiting (latency minus service time) a request tolerates
	Seed           uint64  // seeds arrivals, service times and cold starts
	Arrivals       string  // "poisson" (uniform random instants within each minute) or "uniform" (evenly spaced)
	MinReplicas    int     // lower bound every policy respects, 0..MaxReplicas (0: the scale-to-zero regime)
	MaxReplicas    int     // upper bound every policy respects, 1..100000
	DefaultService float64 // seconds of service time for functions without a durations row, > 0
	Workers        int     // functions simulated in parallel, >= 1
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	cold, _ := ParseDist(DefaultColdStart)
	return Config{
		Concurrency:    10,
		ColdStart:      cold,
		SLO:            1,
		Seed:           1,
		Arrivals:       "poisson",
		MinReplicas:    1,
		MaxReplicas:    100,
		DefaultService: 0.1,
		Workers:        runtime.GOMAXPROCS(0),
	}
}

// Validate reports the first parameter out of its allowed range.
func (c Config) Validate() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > 10000:
		return fmt.Errorf("concurrency %d: allowed range is 1..10000", c.Concurrency)
	case c.ColdStart == nil:
		return errors.New("cold-start distribution is required")
	case c.SLO <= 0:
		return fmt.Errorf("slo %gs: must be > 0", c.SLO)
	case c.Arrivals != "poisson" && c.Arrivals != "uniform":
		return fmt.Errorf("arrivals %q: allowed values are poisson and uniform", c.Arrivals)
	case c.MaxReplicas < 1 || c.MaxReplicas > 100000:
		return fmt.Errorf("max replicas %d: allowed range is 1..100000", c.MaxReplicas)
	case c.MinReplicas < 0 || c.MinReplicas > c.MaxReplicas:
		return fmt.Errorf("min replicas %d: allowed range is 0..%d (max replicas; 0 = scale to zero)", c.MinReplicas, c.MaxReplicas)
	case c.DefaultService <= 0:
		return fmt.Errorf("default service time %gs: must be > 0", c.DefaultService)
	case c.Workers < 1:
		return fmt.Errorf("workers %d: must be >= 1", c.Workers)
	}
	return nil
}
