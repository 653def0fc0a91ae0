package promtest

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/platformtest"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/plugin"
)

// TestFunctionMetricsThroughGateway deploys the repository's stack.yml on
// the plugin with a 2 s control period, lets the chain (cron → load-probe →
// predictor → callback → scaler) run under a light load on hello-python,
// and has the real Prometheus scrape predictor's and scaler's metrics
// through the gateway (/function/<name>/metrics), as a PodMonitor scrapes
// :8080/metrics on their pods. Every prescale_* panel of the dashboard
// must then return data for hello-python, under the same function_name as
// the gateway's metrics.
func TestFunctionMetricsThroughGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys and builds the Go functions: skipped in -short mode")
	}
	root := testenv.Root(t)
	t.Setenv("PRESCALE_SCHEDULE", "@every 2s")
	t.Setenv("PRESCALE_HORIZON", "2s") // predictor: max(horizon, 2 periods) = 4 s
	t.Setenv("PRESCALE_FORECAST_ONLY", "true")
	cfg := plugin.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.StackFile = filepath.Join(root, "stack.yml")
	cfg.Deploy = true
	cfg.SkipTests = true
	started := time.Now()
	p, _ := platformtest.Start(t, cfg, 0) // no deadline: the native build of the stack takes what it takes
	t.Logf("stack.yml built and deployed in %s", time.Since(started).Round(time.Millisecond))
	base := p.URL()
	prom := Start(t,
		Target{Job: "gateway", URL: base},
		Target{Job: "predictor", URL: base + "/function/predictor"},
		Target{Job: "scaler", URL: base + "/function/scaler"},
	)

	// A light steady load so hello-python has a rate to forecast and to
	// score the forecast against, until the test is done (the waits below
	// end first: each has the safety net).
	loadCtx, stopLoad := context.WithCancel(t.Context())
	loadDone := make(chan Load, 1)
	go func() {
		loadDone <- Drive(loadCtx, &http.Client{Timeout: 10 * time.Second}, base+"/function/hello-python", "metrics", 1, 3*eventually.SafetyNet)
	}()
	defer func() { stopLoad(); <-loadDone }()

	// Wait for every prescale metric of hello-python, the forecast error last
	// (a prediction one horizon after an earlier one).
	const label = "hello-python"
	var metrics []string
	for _, m := range []string{"prescale_forecast_rps", "prescale_recommended_replicas", "prescale_forecast_abs_error_ratio",
		"prescale_scaler_desired_replicas", "prescale_scaler_decisions_total"} {
		metrics = append(metrics, fmt.Sprintf("%s{function_name=%q}", m, label))
	}
	waitForData(t, prom, metrics)
	t.Logf("all prescale metrics scraped through the gateway %s after start", time.Since(started).Round(time.Millisecond))

	// The dashboard's prescale_* expressions need more than one scrape
	// (increase() two samples in its range, offset $horizon a sample that
	// old): wait until they all return data, and check at that time.
	check := dashboardCheck{labels: []string{label}, horizon: "4s", want: []string{"prescale_"}}
	at := waitForData(t, prom, check.wanted(t))
	ctx := safetyNet(t)
	v, err := prom.query(ctx, `prescale_scaler_decisions_total{function_name="hello-python",action="forecast_only"}`, at)
	if err != nil || len(v) != 1 {
		t.Errorf("forecast-only decisions of hello-python: %d series, err %v; want 1", len(v), err)
	}
	checkDashboard(t, ctx, prom, check, at)
}
