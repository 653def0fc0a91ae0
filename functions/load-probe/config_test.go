package function

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/pkg/source/promsrc"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(fnutil.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := defaultConfig()
	if c.Gateway.String() != "http://gateway.openfaas:8080" || c.NATS != "nats://nats.openfaas:4222" || c.source != "gateway" ||
		c.historyLen != d.historyLen || c.payloadHistory != d.payloadHistory || c.predictor != "predictor" ||
		c.promBootstrap != 60 || c.prom.Window != promsrc.DefaultWindow ||
		c.batchSize != 50 || c.batchMaxBytes != 250000 || c.workers != 8 {
		t.Fatalf("defaults %+v", c)
	}
	// URLs derived from the gateway's.
	if c.metricsURL != "http://gateway.openfaas:8080/metrics" || c.callback != "http://gateway.openfaas:8080/function/scaler" ||
		c.probe.GatewayURL != "http://gateway.openfaas:8080" {
		t.Fatalf("derived URLs: metrics %q callback %q probe %q", c.metricsURL, c.callback, c.probe.GatewayURL)
	}
	want := source.DefaultProbe(c.probe.GatewayURL)
	if c.probe.Requests != want.Requests || c.probe.Concurrency != want.Concurrency || c.probe.QPS != want.QPS || c.probe.Timeout != want.Timeout {
		t.Fatalf("probe %+v, want %+v", c.probe, want)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(fnutil.MapEnv(map[string]string{
		"gateway_url": "http://127.0.0.1:8080", "source": "prometheus", "prometheus_url": "http://prom:9090",
		"prometheus_window": "30", "metrics_label_suffix": ".openfaas-fn", "prometheus_bootstrap": "0",
		"history_length": "100", "payload_history": "50", "probe_requests": "8", "probe_concurrency": "4",
		"probe_qps": "0", "probe_timeout": "5s", "predictor": "p2", "callback_url": "http://cb/x",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.source != "prometheus" || c.prom.URL != "http://prom:9090" || c.prom.Window != 30*time.Second ||
		c.prom.LabelSuffix != ".openfaas-fn" || c.promBootstrap != 0 || c.historyLen != 100 || c.payloadHistory != 50 ||
		c.probe.Requests != 8 || c.probe.Concurrency != 4 || c.probe.QPS != 0 || c.probe.Timeout != 5*time.Second ||
		c.predictor != "p2" || c.callback != "http://cb/x" || c.metricsURL != "http://127.0.0.1:8080/metrics" {
		t.Fatalf("config %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	prom := map[string]string{"source": "prometheus", "prometheus_url": "http://prom:9090"}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"source":          {map[string]string{"source": "carrier-pigeon"}, `source="carrier-pigeon": must be gateway, prometheus or probe`},
		"history_length":  {map[string]string{"history_length": "0"}, "history_length=0: must be an integer in 1..2000"},
		"payload":         {map[string]string{"payload_history": "1001"}, "payload_history=1001: must be an integer in 1..500"},
		"requests":        {map[string]string{"probe_requests": "100000"}, "probe_requests=100000: must be an integer in 1..1000"},
		"qps":             {map[string]string{"probe_qps": "-1"}, "probe_qps=-1: must be a number in [0,100]"},
		"timeout":         {map[string]string{"probe_timeout": "18446744074"}, `probe_timeout="18446744074": too large`},
		"callback":        {map[string]string{"callback_url": "scaler"}, `callback_url="scaler": must be an absolute http(s) URL`},
		"bootstrap":       {map[string]string{"prometheus_bootstrap": "-1"}, "prometheus_bootstrap=-1: must be an integer in 0..11000"},
		"batch_size":      {map[string]string{"batch_size": "501"}, "batch_size=501: must be an integer in 1..500"},
		"batch_max_bytes": {map[string]string{"batch_max_bytes": "100"}, "batch_max_bytes=100: must be an integer in 4096..4194304"},
		"workers":         {map[string]string{"workers": "0"}, "workers=0: must be an integer in 1..64"},
		"prom url":        {map[string]string{"source": "prometheus"}, "prometheus_url: required with source=prometheus"},
		"prom window":     {with(prom, "prometheus_window", "2h"), "prometheus_window=2h0m0s: must be a duration (e.g. 30s) or integer seconds in 1s..1h0m0s"},
		"prom suffix":     {with(prom, "metrics_label_suffix", "openfaas-fn"), "label suffix"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig(fnutil.MapEnv(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v: %v, want %q", tc.env, err, tc.want)
			}
		})
	}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for k, v := range m {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out
}

// The chart's settings file (keys as the environment's) configures
// load-probe; the environment overrides it.
func TestLoadConfigReadsSettingsFile(t *testing.T) {
	dir := t.TempDir()
	body := `{"NATS_URL":"nats://prescale-nats.openfaas.svc:4222","gateway_url":"http://gateway.openfaas:8080",
		"metrics_url":"http://prescale-gateway-metrics.openfaas:8082/metrics","source":"prometheus",
		"prometheus_url":"http://prometheus.openfaas:9090","prometheus_window":"1m","metrics_label_suffix":".openfaas-fn"}`
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("secret_mount_path", dir)
	t.Setenv("source", "gateway")
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS != "nats://prescale-nats.openfaas.svc:4222" || c.metricsURL != "http://prescale-gateway-metrics.openfaas:8082/metrics" ||
		c.source != "gateway" || c.prom.URL != "http://prometheus.openfaas:9090" || c.prom.Window != time.Minute || c.prom.LabelSuffix != ".openfaas-fn" {
		t.Fatalf("config %+v", c)
	}
}

// The history bounds hold for the largest samples: the stored history fits
// NATS's default 1 MiB message limit and the payload the async queue's
// default 256,000-byte body limit.
func TestHistoryBoundsFitTheMessageLimits(t *testing.T) {
	s := decide.Sample{Function: strings.Repeat("f", 63), At: time.Now(), Interval: math.Pi, RPS: math.Pi * 1e6, InFlight: math.Pi * 1e3,
		P50: math.Pi, P90: math.Pi, P99: math.Pi, MeanLatency: math.Pi, ErrorRate: math.Pi, Status200: math.Pi * 1e9, Status500: math.Pi * 1e9,
		Replicas: 1000, AvailableReplicas: 1000}
	for _, c := range []struct {
		n     int
		limit int
		what  string
	}{{maxHistoryLength, 1 << 20, "stored history vs NATS max_payload"}, {maxPayloadHistory, 256000 - 4096, "payload history vs the async body limit (4 KiB for the rest)"}} {
		h := make([]decide.Sample, c.n)
		for i := range h {
			h[i] = s
		}
		b, err := json.Marshal(h)
		if err != nil || len(b) >= c.limit {
			t.Errorf("%s: %d samples are %d bytes (%v), limit %d", c.what, c.n, len(b), err, c.limit)
		}
	}
	if _, err := parseConfig(fnutil.MapEnv(map[string]string{"history_length": "2001"})); err == nil || !strings.Contains(err.Error(), "2000") {
		t.Errorf("history_length 2001: %v, want an error stating the range up to 2000", err)
	}
}
