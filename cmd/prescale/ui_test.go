package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/prescale/prescale/internal/testenv"
)

// uiCounts is what checkUI reads off the page.
type uiCounts struct {
	Functions []string `json:"functions"`
	Observed  int      `json:"observed"`
	Forecast  int      `json:"forecast"`
	Replicas  int      `json:"replicas"`
	Decisions int      `json:"decisions"`
}

// checkUI opens the gateway's / in headless Chromium with the gateway's
// basic auth and checks that it lands on /ui/, lists wantFns and that
// chartFn's chart has forecast and replica points and its decision log rows.
// It writes a full-page screenshot to $PRESCALE_UI_SCREENSHOT (a relative
// path is the repository root's, e.g. docs/ui.png) or into the test's temp dir. Every wait is on the page's
// state; the test's own timeout bounds them.
func checkUI(t *testing.T, gateway, user, password, chartFn string, wantFns []string) {
	t.Helper()
	chrome := testenv.Chrome(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Authorization": "Basic " + auth}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(gateway+"/")); err != nil {
		t.Fatalf("open %s/: %v", gateway, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.pathname"))
	if err != nil || loc != "/ui/" {
		t.Fatalf("/ landed on %q (%v), want /ui/", loc, err)
	}
	sel := `.chart[data-fn="` + chartFn + `"]`
	ready := `(() => { const el = document.querySelector('` + sel + `');
		return !!el && +el.dataset.forecastPoints > 0 && +el.dataset.replicaPoints > 0 && document.querySelectorAll('#functions tbody tr[data-fn]').length >= ` +
		strconv.Itoa(len(wantFns)) + ` })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(0))); err != nil {
		t.Fatalf("waiting for the page: %v", err)
	}
	// The chart has drawn; let it lay out before the screenshot.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(sel+" canvas")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[uiCounts](`(() => { const el = document.querySelector('`+sel+`');
		return { functions: [...document.querySelectorAll('#functions tbody tr[data-fn]')].map(r => r.dataset.fn),
			observed: +el.dataset.observedPoints, forecast: +el.dataset.forecastPoints, replicas: +el.dataset.replicaPoints,
			decisions: el.parentElement.querySelectorAll('.decisions tbody tr').length } })()`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page: %+v", got)
	for _, fn := range wantFns {
		if !slices.Contains(got.Functions, fn) {
			t.Errorf("function list %v lacks %s", got.Functions, fn)
		}
	}
	if got.Forecast == 0 || got.Replicas == 0 || got.Observed == 0 || got.Decisions == 0 {
		t.Errorf("%s's chart: %+v, want observed, forecast and replica points and decision rows", chartFn, got)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("PRESCALE_UI_SCREENSHOT")
	switch {
	case out == "":
		out = filepath.Join(t.TempDir(), "ui.png")
	case !filepath.IsAbs(out): // go test runs in cmd/prescale: the path is the root's
		out = filepath.Join(testenv.Root(t), out)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 8 || !strings.HasPrefix(string(png[:8]), "\x89PNG") {
		t.Errorf("screenshot is not a PNG (%d bytes)", len(png))
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
}
