package dist

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Dist is a distribution of non-negative durations in seconds.
type Dist interface {
	Sample(r *rand.Rand) float64
	// Max is an upper bound of every sample (the oracle plans with it).
	Max() float64
	String() string
}

// DefaultColdStart is a Kubernetes pod start of an OpenFaaS function whose
// image is already cached on the node: scheduling, container start and the
// first passing readiness probe. See bench/RESULTS.md for the source.
const DefaultColdStart = "lognormal:2.5s,0.35,10s"

// Fixed is the distribution that always gives d seconds.
func Fixed(d float64) Dist { return fixedDist(d) }

// Duration is one sample of d as a time.Duration.
func Duration(d Dist, r *rand.Rand) time.Duration {
	return time.Duration(d.Sample(r) * float64(time.Second))
}

// ParseDelay parses a replica start delay: a Go duration ("3s", fixed) or a
// distribution (ParseDist), whose every sample must lie in [0, max].
func ParseDelay(s string, max time.Duration) (Dist, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 || d > max {
			return nil, fmt.Errorf("delay %q out of range (allowed 0s..%s)", s, max)
		}
		return fixedDist(d.Seconds()), nil
	}
	if !strings.Contains(s, ":") {
		return nil, fmt.Errorf("delay %q: want a Go duration in 0s..%s (e.g. \"3s\") or lognormal:MEDIAN,SIGMA,MAX (e.g. %q)", s, max, DefaultColdStart)
	}
	d, err := ParseDist(s)
	if err != nil {
		return nil, err
	}
	if d.Max() > max.Seconds() {
		return nil, fmt.Errorf("delay %q: its largest value %s is above the allowed %s (set MAX)", s, fmtSec(d.Max()), max)
	}
	return d, nil
}

type fixedDist float64

func (d fixedDist) Sample(*rand.Rand) float64 { return float64(d) }
func (d fixedDist) Max() float64              { return float64(d) }
func (d fixedDist) String() string            { return "fixed:" + fmtSec(float64(d)) }

type uniformDist struct{ lo, hi float64 }

func (d uniformDist) Sample(r *rand.Rand) float64 { return d.lo + (d.hi-d.lo)*r.Float64() }
func (d uniformDist) Max() float64                { return d.hi }
func (d uniformDist) String() string {
	return "uniform:" + fmtSec(d.lo) + "," + fmtSec(d.hi)
}

// lognormalDist has median m and log-space sigma s, truncated to [0, max].
type lognormalDist struct{ median, sigma, max float64 }

func (d lognormalDist) Sample(r *rand.Rand) float64 {
	return math.Min(d.max, d.median*math.Exp(d.sigma*r.NormFloat64()))
}
func (d lognormalDist) Max() float64 { return d.max }
func (d lognormalDist) String() string {
	return fmt.Sprintf("lognormal:%s,%g,%s", fmtSec(d.median), d.sigma, fmtSec(d.max))
}

func fmtSec(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) + "s" }

// ParseDist parses "fixed:D", "uniform:LO,HI" or "lognormal:MEDIAN,SIGMA[,MAX]"
// where durations are Go durations ("2.5s", "800ms") or plain seconds.
func ParseDist(s string) (Dist, error) {
	kind, args, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return nil, fmt.Errorf("distribution %q: want fixed:D, uniform:LO,HI or lognormal:MEDIAN,SIGMA[,MAX]", s)
	}
	parts := strings.Split(args, ",")
	switch kind {
	case "fixed":
		if len(parts) != 1 {
			return nil, fmt.Errorf("distribution %q: fixed takes one duration", s)
		}
		d, err := parseSec(parts[0])
		if err != nil {
			return nil, fmt.Errorf("distribution %q: %w", s, err)
		}
		return fixedDist(d), nil
	case "uniform":
		if len(parts) != 2 {
			return nil, fmt.Errorf("distribution %q: uniform takes LO,HI", s)
		}
		lo, err1 := parseSec(parts[0])
		hi, err2 := parseSec(parts[1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("distribution %q: want 0 <= LO <= HI durations: %w", s, err)
		}
		if hi < lo {
			return nil, fmt.Errorf("distribution %q: want 0 <= LO <= HI durations", s)
		}
		return uniformDist{lo, hi}, nil
	case "lognormal":
		if len(parts) != 2 && len(parts) != 3 {
			return nil, fmt.Errorf("distribution %q: lognormal takes MEDIAN,SIGMA[,MAX]", s)
		}
		m, err := parseSec(parts[0])
		if err != nil || m <= 0 {
			return nil, fmt.Errorf("distribution %q: median must be a positive duration", s)
		}
		sg, err := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
		if err != nil || sg < 0 || sg > 3 {
			return nil, fmt.Errorf("distribution %q: sigma must be a number in [0, 3]", s)
		}
		mx := math.Min(m*math.Exp(3*sg), maxSeconds)
		if len(parts) == 3 {
			if mx, err = parseSec(parts[2]); err != nil || mx < m {
				return nil, fmt.Errorf("distribution %q: max must be a duration >= the median", s)
			}
		}
		return lognormalDist{m, sg, mx}, nil
	}
	return nil, fmt.Errorf("distribution %q: unknown kind %q (fixed, uniform, lognormal)", s, kind)
}

// maxSeconds is the longest time.Duration in seconds: Duration samples
// convert to one.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

func parseSec(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("duration %q must be finite and >= 0", s)
		}
		if f > maxSeconds {
			return 0, fmt.Errorf("duration %q too large: at most %g seconds (a time.Duration, about 292 years)", s, maxSeconds)
		}
		return f, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q must be >= 0", s)
	}
	return d.Seconds(), nil
}
