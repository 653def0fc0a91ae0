package chaine2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/internal/platformtest"
	"github.com/prescale/prescale/internal/replay"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/eventually"
	"github.com/prescale/prescale/pkg/natstest"
	"github.com/prescale/prescale/pkg/state"
	"github.com/prescale/prescale/plugin"
)

type gateway struct {
	t   *testing.T
	url string
	pw  string
}

func (g gateway) do(method, path string, body any, out any) int {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.url+path, rd)
	req.SetBasicAuth("admin", g.pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			g.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

func (g gateway) status(name string) types.FunctionStatus {
	var st types.FunctionStatus
	if code := g.do(http.MethodGet, "/system/function/"+name, nil, &st); code != http.StatusOK {
		g.t.Fatalf("status of %s: %d", name, code)
	}
	return st
}

func (g gateway) waitReady(names ...string) {
	g.t.Helper()
	for _, n := range names {
		eventually.True(g.t, n+" ready", 200*time.Millisecond, func() bool { return g.status(n).AvailableReplicas > 0 })
	}
}

// update redeploys a function as `faas-cli deploy` would (PUT
// /system/functions) after edit changes its deployment.
func (g gateway) update(name string, edit func(*types.FunctionDeployment)) {
	g.t.Helper()
	st := g.status(name)
	env := map[string]string{}
	for k, v := range st.EnvVars {
		env[k] = v
	}
	labels := map[string]string{}
	if st.Labels != nil {
		for k, v := range *st.Labels {
			labels[k] = v
		}
	}
	fd := types.FunctionDeployment{Service: name, Image: st.Image, EnvProcess: st.EnvProcess, EnvVars: env,
		Secrets: st.Secrets, Labels: &labels, Annotations: st.Annotations}
	edit(&fd)
	if code := g.do(http.MethodPut, "/system/functions", fd, nil); code != http.StatusAccepted && code != http.StatusOK {
		g.t.Fatalf("update %s: status %d", name, code)
	}
	g.waitReady(name)
}

func decisions(t *testing.T, nc *nats.Conn, fn string) []decide.Decision {
	t.Helper()
	var out []decide.Decision
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := state.ReadDecisions(ctx, nc, state.DefaultConfig().DecisionStream, false, func(d decide.Decision) error {
		if d.Function == fn {
			out = append(out, d)
		}
		return nil
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil // the stream appears with the scaler's first decision
	}
	if err != nil {
		t.Fatalf("reading the decision log: %v", err)
	}
	return out
}

// startChain starts the repository's stack.yml on a real plugin with an
// embedded NATS and a 2 s control period (stack.yml's substitutions), the
// scaler predictive and forecast-only as asked; nc reads the decision log.
func startChain(t *testing.T, forecastOnly bool) (*plugin.Platform, *nats.Conn) {
	t.Helper()
	ns := natstest.Start(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	t.Setenv("PRESCALE_SCHEDULE", "@every 2s")
	t.Setenv("PRESCALE_FORECAST_ONLY", strconv.FormatBool(forecastOnly))
	t.Setenv("PRESCALE_SCALER_MODE", "predictive")
	p, _ := platformtest.Start(t, plugin.Config{
		StackFile: filepath.Join(testenv.Root(t), "stack.yml"), Deploy: true, SkipTests: true, NATSURL: ns.ClientURL(),
	}, 0) // no deadline on the stack's build: the test's -timeout is the hang guard
	return p, nc
}

// TestChainScalesAheadOfRamp deploys the repository's stack.yml on the real
// plugin, first with the scaler in forecast-only mode (decisions logged,
// no replica changed), then switched to act, and replays a ramp at
// hello-python: the chain must scale it up before the ramp's peak, the
// decision log must hold those decisions, and one of them during the ramp
// must be the forecast's (more replicas than the load of the moment needed).
func TestChainScalesAheadOfRamp(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end chain test (about 2 minutes) skipped in -short mode")
	}
	t.Setenv("PRESCALE_HORIZON", "12s")
	p, nc := startChain(t, true)
	ctx := context.Background() // the replays are bounded: their counts at their speed
	gw := gateway{t: t, url: p.URL(), pw: p.Password()}
	gw.waitReady("hello-python", "load-probe", "predictor", "scaler")
	// This machine's 2 shared cores serve hello-python (a Python process
	// per request) at only a few requests per second whatever its replicas,
	// so the test keeps the load light and asks for a low per-replica
	// concurrency instead (label prescale.target-concurrency, default 1).
	// Each request waits 200 ms instead of burning 20 ms of CPU: the
	// service time the chain sizes replicas by is then the wait (~0.25 s
	// with the fork), not the CPU the machine happens to have, so the
	// ramp needs 1 → 4 replicas on any machine (a run whose CPU-bound
	// requests took 57 ms needed at most 2, reached by one reactive step,
	// and left the forecast nothing to scale for).
	gw.update("hello-python", func(fd *types.FunctionDeployment) {
		(*fd.Labels)[decide.LabelTargetConcurrency] = "0.2"
		fd.EnvVars["cpu_ms"], fd.EnvVars["sleep_ms"] = "0", "200"
	})

	// The chain is live once the scaler logged a first decision (the cron
	// connector picks load-probe up on its first rebuild; load-probe's first
	// run only records the counters' baseline).
	eventually.True(t, "a first decision from the chain", 500*time.Millisecond, func() bool { return len(decisions(t, nc, "hello-python")) > 0 })

	// Phase 1: forecast-only. A burst makes the chain want more replicas;
	// it must log that and change nothing.
	burst := []float64{30} // 3 requests/s for 10 s
	bsum, err := replay.Run(ctx, replay.Config{Gateway: p.URL(), Function: "hello-python", Counts: burst, Speed: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if bsum.Status[http.StatusOK] == 0 {
		var out bytes.Buffer
		bsum.Write(&out)
		t.Fatalf("hello-python served none of the burst:%s", out.String())
	}
	var would []decide.Decision
	eventually.True(t, "a forecast-only decision to scale up", time.Second, func() bool {
		would = would[:0]
		for _, d := range decisions(t, nc, "hello-python") {
			if d.ForecastOnly && d.After > d.Before {
				would = append(would, d)
			}
		}
		return len(would) > 0
	})
	for _, d := range decisions(t, nc, "hello-python") {
		if d.Scale || d.Applied {
			t.Fatalf("forecast-only decision asked for or made a scale call: %+v", d)
		}
	}
	if r := gw.status("hello-python").Replicas; r != 1 {
		t.Fatalf("forecast-only mode changed hello-python to %d replicas", r)
	}
	t.Logf("forecast-only: %d decisions would scale up, e.g. %s", len(would), would[0].Summary())
	for _, d := range decisions(t, nc, "hello-python") {
		t.Logf("forecast-only decision: %s [svc %.3fs in-flight %.0f forecast %.1f rps predicted %d reactive %d]", d.Summary(), d.ServiceTime, d.Observed.InFlight, d.ForecastRPS, d.Predicted, d.Reactive)
	}

	// Let the burst drain from the forecast: wait for a decision that
	// needs a single replica, so the ramp starts from a quiet function.
	eventually.True(t, "the chain settling at 1 replica after the burst", time.Second, func() bool {
		ds := decisions(t, nc, "hello-python")
		return len(ds) > 0 && ds[len(ds)-1].Desired <= 1
	})
	// Phase 2: switch the scaler to act (an update through the gateway API,
	// as `faas-cli deploy` would send) and replay a ramp.
	// The update is rolling: the old (forecast-only) replica serves until
	// the new one is ready, so the switch is done once a decision acts.
	switched := len(decisions(t, nc, "hello-python"))
	gw.update("scaler", func(fd *types.FunctionDeployment) { fd.EnvVars["forecast_only"] = "false" })
	eventually.True(t, "a decision from the acting scaler", 500*time.Millisecond, func() bool {
		ds := decisions(t, nc, "hello-python")
		return len(ds) > switched && !ds[len(ds)-1].ForecastOnly
	})
	if r := gw.status("hello-python").Replicas; r != 1 {
		t.Fatalf("hello-python at %d replicas before the ramp", r)
	}
	before := len(decisions(t, nc, "hello-python"))

	// The ramp: 6 trace minutes at speed 12 (5 s each): 0.6 → 3 requests/s;
	// the peak minute starts 25 s in.
	ramp := []float64{3, 5, 8, 10, 13, 15}
	peakAt := 25 * time.Second
	type obs struct {
		at       time.Duration
		replicas uint64
	}
	var mu sync.Mutex
	var seen []obs
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			var st types.FunctionStatus
			if gw.do(http.MethodGet, "/system/function/hello-python", nil, &st) == http.StatusOK {
				mu.Lock()
				seen = append(seen, obs{time.Since(start), st.Replicas})
				mu.Unlock()
			}
		}
	}()
	sum, err := replay.Run(ctx, replay.Config{Gateway: p.URL(), Function: "hello-python", Counts: ramp, Speed: 12, Seed: 2})
	rampEnd := time.Now()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum.Write(&out)
	t.Logf("ramp replay:%s", out.String())

	firstUp := time.Duration(-1)
	for _, o := range seen {
		if o.replicas > 1 {
			firstUp = o.at
			break
		}
	}
	all := decisions(t, nc, "hello-python")
	var applied []decide.Decision
	for _, d := range all[before:] {
		t.Logf("decision: %s [%s %s forecast %.1f rps, svc %.3fs, in-flight %.0f, predicted %d, reactive %d]", d.Summary(), d.ForecastState, d.Model, d.ForecastRPS, d.ServiceTime, d.Observed.InFlight, d.Predicted, d.Reactive)
		if d.Applied && d.After > d.Before {
			applied = append(applied, d)
		}
	}
	if firstUp < 0 {
		t.Fatalf("hello-python never scaled above 1 replica during the ramp")
	}
	if firstUp >= peakAt {
		t.Fatalf("hello-python first scaled up %s into the ramp, not before its peak at %s", firstUp.Round(100*time.Millisecond), peakAt)
	}
	if len(applied) == 0 {
		t.Fatal("no applied scale-up in the decision log")
	}
	for _, d := range applied {
		if d.Model == "" || d.ModelVersion == "" || d.Min != 1 || d.Max != 10 || d.Before < 1 || d.ForecastOnly {
			t.Fatalf("decision lacks what it was based on: %+v", d)
		}
	}
	// Ahead of the load: during the ramp, a scale-up was asked for by the
	// forecast, not by what the load at that moment needed. It need not be
	// the first one: a momentary in-flight spike is a valid reactive reason
	// to scale first (seen under load: in-flight 2 at 0.5 rps).
	var ahead *decide.Decision
	for i, d := range applied {
		if d.At.Before(rampEnd) && d.ForecastState == "used" && d.PredictedRaw > d.ReactiveRaw {
			ahead = &applied[i]
			break
		}
	}
	if ahead == nil {
		t.Fatalf("none of the %d applied scale-ups during the ramp was asked for by the forecast (predicted > reactive): first %s", len(applied), applied[0].Summary())
	}
	t.Logf("first scale-up %s after the ramp began (peak at %s); first ahead of the load: %s", firstUp.Round(100*time.Millisecond), peakAt, ahead.Summary())
}
