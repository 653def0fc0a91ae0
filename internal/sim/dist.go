package sim

import "github.com/prescale/prescale/internal/dist"

// Dist is a distribution of non-negative durations in seconds (internal/dist,
// shared with the plugin's replica start delay).
type Dist = dist.Dist

// DefaultColdStart is dist.DefaultColdStart.
const DefaultColdStart = dist.DefaultColdStart

// ParseDist is dist.ParseDist.
func ParseDist(s string) (Dist, error) { return dist.ParseDist(s) }
