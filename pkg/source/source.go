package source

import (
	"context"
	"time"

	"github.com/prescale/prescale/pkg/decide"
)

// Source observes one function over the interval ending at now.
// Implementations: the gateway's /metrics, Prometheus, an active probe.
type Source interface {
	Observe(ctx context.Context, function string, now time.Time) (decide.Sample, error)
}
