package chaine2e_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/pkg/decide"
)

// coldWaits reads the plugin's own count of requests that waited for a
// replica start (prescale_plugin_cold_start_waits_total) per function.
func coldWaits(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "prescale_plugin_cold_start_waits_total{") {
			continue
		}
		i := strings.Index(line, `function_name="`)
		j := strings.LastIndexByte(line, ' ')
		if i < 0 || j < 0 {
			continue
		}
		name := line[i+len(`function_name="`):]
		name = name[:strings.IndexByte(name, '"')]
		v, err := strconv.ParseFloat(line[j+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[name] = v
	}
	return out
}

// TestChainScalesToZeroAndPrewarms runs the chain on the real plugin with
// two copies of hello-python invoked together on a timer (one request every
// 18 s, time compressed: the arrival model's unit is 2 s, the control
// period, instead of 1 min):
//   - "hello-python" with scale to zero and prediction: once the period is
//     learnt, the chain releases the last replica between invocations and
//     pre-warms one before each: at most 10 % of the measured invocations
//     wait for a replica start;
//   - "hello-ka", the baseline, with a fixed keep-alive (4 s) shorter than
//     the period and no prediction: at least 80 % of them wait.
//
// The waits are the plugin's own counter. The schedule of invocations is
// the subject (wall time); every other wait is on events.
func TestChainScalesToZeroAndPrewarms(t *testing.T) {
	if testing.Short() {
		t.Skip("scale-to-zero chain test (about 6 minutes) skipped in -short mode")
	}
	p, nc := startChain(t, false)
	gw := gateway{t: t, url: p.URL(), pw: p.Password()}
	gw.waitReady("hello-python", "load-probe", "predictor", "scaler")

	const (
		period   = 18 * time.Second
		learn    = 6  // invocations before the measured ones
		measured = 10 // invocations measured
	)
	zeroLabels := map[string]string{
		decide.LabelZero:              "true",
		decide.LabelArrivalResolution: "2s",  // 1 model minute = 2 s, the control period (no finer: counts come per tick)
		decide.LabelZeroDuration:      "4s",  // keep-alive until the model is confident
		decide.LabelColdStartCost:     "30s", // a cold start is worth 30 replica-seconds
		decide.LabelPrewarmLead:       "5s",  // a 2 s period + the chain + a replica start
	}
	work := func(fd *types.FunctionDeployment) {
		fd.EnvVars["cpu_ms"], fd.EnvVars["sleep_ms"] = "0", "50"
	}
	gw.update("hello-python", func(fd *types.FunctionDeployment) {
		work(fd)
		for k, v := range zeroLabels {
			(*fd.Labels)[k] = v
		}
	})
	// The baseline: the same function and labels, prediction off.
	base := gw.status("hello-python")
	labels := map[string]string{}
	for k, v := range *base.Labels {
		labels[k] = v
	}
	labels[decide.LabelZeroPredict] = "false"
	env := map[string]string{}
	for k, v := range base.EnvVars {
		env[k] = v
	}
	fd := types.FunctionDeployment{Service: "hello-ka", Image: base.Image, EnvProcess: base.EnvProcess, EnvVars: env,
		Labels: &labels, Annotations: base.Annotations}
	if code := gw.do(http.MethodPost, "/system/functions", fd, nil); code/100 != 2 {
		t.Fatalf("deploy hello-ka: %d", code)
	}
	gw.waitReady("hello-ka")

	invoke := func(name string, done chan<- error) {
		res, err := http.Post(p.URL()+"/function/"+name, "text/plain", strings.NewReader("tick"))
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s: status %d", name, res.StatusCode)
			}
		}
		done <- err
	}
	start := time.Now()
	var before map[string]float64
	for i := range learn + measured {
		time.Sleep(time.Until(start.Add(time.Duration(i) * period)))
		if i == learn {
			before = coldWaits(t, p.URL())
		}
		done := make(chan error, 2)
		go invoke("hello-python", done)
		go invoke("hello-ka", done)
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("invocation %d: %v", i, err)
			}
		}
	}
	after := coldWaits(t, p.URL())
	predictive := after["hello-python"] - before["hello-python"]
	keepAlive := after["hello-ka"] - before["hello-ka"]

	var released, prewarmed int
	for _, d := range decisions(t, nc, "hello-python") {
		if d.Zero != nil {
			t.Logf("decision: %s", d.Summary())
		}
		if d.At.Before(start.Add(learn*period)) || !d.Applied {
			continue
		}
		switch {
		case d.Before == 1 && d.After == 0:
			released++
		case d.Before == 0 && d.After == 1 && d.Zero != nil && d.Zero.Floor == 1:
			prewarmed++
		}
	}
	t.Logf("measured %d invocations every %s: predictive zero waited %.0f times (released %d, pre-warmed %d), fixed 4 s keep-alive waited %.0f times",
		measured, period, predictive, released, prewarmed, keepAlive)
	if predictive > 0.1*measured {
		t.Errorf("predictive scale to zero: %.0f of %d invocations waited for a replica start, want at most 10 %%", predictive, measured)
	}
	if keepAlive < 0.8*measured {
		t.Errorf("fixed keep-alive shorter than the period: %.0f of %d invocations waited, want at least 80 %% (the baseline is broken)", keepAlive, measured)
	}
	if released < measured/2 || prewarmed < measured/2 {
		t.Errorf("the chain released the last replica %d times and pre-warmed %d times over %d gaps: want it scaled to zero and pre-warmed in most gaps", released, prewarmed, measured)
	}
}
