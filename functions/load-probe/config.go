package function

import (
	"errors"
	"fmt"
	"time"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/source"
	"github.com/prescale/prescale/pkg/source/promsrc"
)

// Environment variables (or settings-file keys, see fnutil.WithSettingsFile)
// load-probe reads besides fnutil's gateway_url, NATS_URL, namespace and
// metrics_label_suffix.
const (
	envSource           = "source"
	envMetricsURL       = "metrics_url"
	envHistoryLength    = "history_length"
	envPayloadHistory   = "payload_history"
	envPredictor        = "predictor"
	envCallback         = "callback_url"
	envProbeRequests    = "probe_requests"
	envProbeConcurrency = "probe_concurrency"
	envProbeQPS         = "probe_qps"
	envProbeTimeout     = "probe_timeout"
	envPromURL          = "prometheus_url"
	envPromWindow       = "prometheus_window"
	envPromBootstrap    = "prometheus_bootstrap"
	envBatchSize        = "batch_size"
	envBatchMaxBytes    = "batch_max_bytes"
	envWorkers          = "workers"
)

// Sources of observations.
const (
	sourceGateway    = "gateway"    // the gateway's /metrics
	sourcePrometheus = "prometheus" // Prometheus's HTTP API (prometheus_url)
	sourceProbe      = "probe"      // an active hey-style probe
)

// Defaults and allowed ranges.
const (
	defaultSource        = sourceGateway
	defaultHistoryLength = 360
	minHistoryLength     = 1
	// maxHistoryLength keeps one function's stored history (a JSON array
	// of samples of at most ~430 bytes each) under NATS's default 1 MiB
	// message limit, which a KV value must fit.
	maxHistoryLength      = 2000
	defaultPayloadHistory = 120
	minPayloadHistory     = 1
	// maxPayloadHistory keeps the predictor's payload under the async
	// queue's default body limit (OpenFaaS's 256,000 bytes).
	maxPayloadHistory    = 500
	defaultPredictor     = "predictor"
	defaultPromBootstrap = 60 // steps of history fetched by range queries when a function has none
	minProbeTimeout      = time.Second
	// One predictor call per run per shard of at most batch_size functions
	// (chain.MaxBatch at most) and batch_max_bytes of body: the async
	// queue's default body limit is 256,000 bytes (plugin and OpenFaaS).
	defaultBatchSize     = chain.DefaultBatchSize
	minBatchSize         = 1
	defaultBatchMaxBytes = chain.DefaultBatchMaxBytes
	minBatchMaxBytes     = 4096
	maxBatchMaxBytes     = 4 << 20
	// workers observe and record functions at once (KV round trips).
	defaultWorkers = 8
	minWorkers     = 1
	maxWorkers     = 64
	maxPromWindow  = time.Hour
)

type config struct {
	fnutil.Platform // gateway_url, NATS_URL, namespace
	source          string
	metricsURL      string // "": <gateway>/metrics
	historyLen      int
	payloadHistory  int
	predictor       string
	callback        string // "": <gateway>/function/scaler
	probe           source.Probe
	prom            promsrc.Config // source=prometheus
	promBootstrap   int            // steps of history fetched by range queries when a function has none
	batchSize       int            // functions per predictor call
	batchMaxBytes   int            // body bytes per predictor call
	workers         int            // functions observed at once
}

func defaultConfig() config {
	return config{
		Platform:       fnutil.DefaultPlatform(),
		source:         defaultSource,
		historyLen:     defaultHistoryLength,
		payloadHistory: defaultPayloadHistory,
		predictor:      defaultPredictor,
		probe:          source.DefaultProbe(""),
		prom:           promsrc.DefaultConfig(),
		promBootstrap:  defaultPromBootstrap,
		batchSize:      defaultBatchSize,
		batchMaxBytes:  defaultBatchMaxBytes,
		workers:        defaultWorkers,
	}
}

// loadConfig reads the process environment over the settings file.
func loadConfig() (config, error) { return fnutil.LoadConfig(parseConfig) }

// parseConfig reads the settings through getenv over the defaults, fills in
// the URLs derived from the gateway's, and validates; every bad setting is
// reported.
func parseConfig(getenv func(string) string) (config, error) {
	c := defaultConfig()
	v := fnutil.NewVars(getenv)
	c.Platform.Parse(v)
	v.String(envSource, &c.source)
	v.String(envMetricsURL, &c.metricsURL)
	v.Int(envHistoryLength, &c.historyLen)
	v.Int(envPayloadHistory, &c.payloadHistory)
	v.String(envPredictor, &c.predictor)
	v.String(envCallback, &c.callback)
	v.Int(envProbeRequests, &c.probe.Requests)
	v.Int(envProbeConcurrency, &c.probe.Concurrency)
	v.Float(envProbeQPS, &c.probe.QPS)
	v.Duration(envProbeTimeout, &c.probe.Timeout)
	v.String(envPromURL, &c.prom.URL)
	v.Duration(envPromWindow, &c.prom.Window)
	v.String(fnutil.EnvLabelSuffix, &c.prom.LabelSuffix)
	v.Int(envPromBootstrap, &c.promBootstrap)
	v.Int(envBatchSize, &c.batchSize)
	v.Int(envBatchMaxBytes, &c.batchMaxBytes)
	v.Int(envWorkers, &c.workers)
	if err := v.Err(); err != nil {
		return c, err
	}
	if c.metricsURL == "" {
		c.metricsURL = c.Gateway.JoinPath("metrics").String()
	}
	if c.callback == "" {
		c.callback = c.Gateway.JoinPath("function", "scaler").String()
	}
	c.probe.GatewayURL = c.Gateway.String()
	return c, c.validate()
}

// validate says which setting is out of its range.
func (c config) validate() error {
	errs := []error{
		fnutil.OneOf(envSource, c.source, sourceGateway, sourcePrometheus, sourceProbe),
		fnutil.IntIn(envHistoryLength, c.historyLen, minHistoryLength, maxHistoryLength),
		fnutil.IntIn(envPayloadHistory, c.payloadHistory, minPayloadHistory, maxPayloadHistory),
		fnutil.IntIn(envProbeRequests, c.probe.Requests, 1, source.ProbeMaxRequests),
		fnutil.IntIn(envProbeConcurrency, c.probe.Concurrency, 1, source.ProbeMaxConcurrency),
		fnutil.FloatIn(envProbeQPS, c.probe.QPS, 0, source.ProbeMaxQPS),
		fnutil.DurationIn(envProbeTimeout, c.probe.Timeout, minProbeTimeout, source.ProbeMaxTimeout),
		fnutil.IntIn(envPromBootstrap, c.promBootstrap, 0, promsrc.MaxHistoryPoints),
		fnutil.IntIn(envBatchSize, c.batchSize, minBatchSize, chain.MaxBatch),
		fnutil.IntIn(envBatchMaxBytes, c.batchMaxBytes, minBatchMaxBytes, maxBatchMaxBytes),
		fnutil.IntIn(envWorkers, c.workers, minWorkers, maxWorkers),
	}
	if _, err := fnutil.ParseURL(envCallback, c.callback); err != nil {
		errs = append(errs, err)
	}
	if c.source == sourcePrometheus {
		errs = append(errs, c.validateProm())
	}
	return errors.Join(errs...)
}

// validateProm checks the Prometheus source's settings (the keys of the
// chart's prescale-settings): prometheus_url (required), prometheus_window,
// metrics_label_suffix.
func (c config) validateProm() error {
	if c.prom.URL == "" {
		return fmt.Errorf("%s: required with source=prometheus, an absolute http(s) URL such as http://prometheus.openfaas:9090", envPromURL)
	}
	if err := fnutil.DurationIn(envPromWindow, c.prom.Window, promsrc.MinWindow, maxPromWindow); err != nil {
		return err
	}
	if err := c.prom.Validate(); err != nil {
		return fmt.Errorf("%s=%q, %s=%s, %s=%q: %w",
			envPromURL, c.prom.URL, envPromWindow, c.prom.Window, fnutil.EnvLabelSuffix, c.prom.LabelSuffix, err)
	}
	return nil
}
