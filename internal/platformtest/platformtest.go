package platformtest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/textutil"
	"github.com/prescale/prescale/pkg/testlog"
	"github.com/prescale/prescale/plugin"
)

// logTail is how much of the platform's log a failed test prints.
const logTail = 8000

// Start creates cfg's platform on a random loopback port (cfg.Port is
// forced to 0; an empty DataDir becomes a temp dir — set DataDir when
// starting from plugin.DefaultConfig, whose DataDir is .prescale), starts it
// (building and, with cfg.Deploy, deploying its stack) within startTimeout —
// 0 puts no deadline on the start, which then takes what the build takes
// (the test's -timeout remains the hang guard) — and closes it when the
// test ends. The returned buffer holds its log.
func Start(t testing.TB, cfg plugin.Config, startTimeout time.Duration) (*plugin.Platform, *testlog.Buffer) {
	t.Helper()
	cfg.Port = 0
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	logs := &testlog.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p, err := plugin.New(cfg, logger)
	if err != nil {
		t.Fatalf("plugin.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("platform close: %v", err)
		}
		if t.Failed() {
			t.Logf("platform log (tail):\n%s", tail(logs.String()))
		}
	})
	ctx := context.Background()
	if startTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	if err := p.Start(ctx); err != nil {
		t.Fatalf("platform start: %v\nplatform log (tail):\n%s", err, tail(logs.String()))
	}
	return p, logs
}

func tail(s string) string { return textutil.Tail(s, logTail) }
