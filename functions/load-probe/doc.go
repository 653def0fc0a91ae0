// Package function is prescale's load-probe: fired by the cron connector,
// it observes every opted-in function (label prescale.enabled=true), appends
// the sample to the function's history in NATS JetStream KV and invokes
// predictor asynchronously with X-Callback-Url pointing at scaler. The
// functions are observed and recorded by a small pool (workers at once);
// their payloads then go to predictor in batches (chain.ProbeBatch): one
// async call per shard of at most batch_size functions and batch_max_bytes
// of body, so a run costs about ⌈N / batch_size⌉ predictor calls and
// callbacks, not N (with long histories batch_max_bytes binds first: an
// idle function's payload of 120 samples is ~9 kB). Every batch is signed
// once (pkg/chainauth, secret prescale-chain-key; without the secret a run
// fails with 500). Overlapping runs cannot corrupt history:
// the gateway counters and the history are updated with compare-and-set,
// and a run whose observation is not newer than the stored one appends and
// sends nothing (a note "skipped" in its answer).
//
// Sources (env source): gateway scrapes the gateway's /metrics and keeps
// the previous counters in KV (the first run records a baseline); prometheus
// asks Prometheus (pkg/source/promsrc) for each function's rates and
// histogram_quantile latencies over prometheus_window, and bootstraps an
// empty history with range queries, so predictor is invoked from the first
// run; probe drives a bounded hey-style probe. The names of the prometheus
// settings are the keys of charts/prescale's prescale-settings Secret.
//
// GET on a path ending in /metrics (the chart's PodMonitor scrapes
// :8080/metrics) answers prescale_load_probe_runs_total{code} and
// prescale_load_probe_last_run_timestamp_seconds instead of running.
//
// Environment (defaults in parentheses; config.go). Each key may also come
// from the settings file, $settings_file or else
// $secret_mount_path/settings.json (/var/openfaas/secrets/settings.json:
// the chart's prescale-settings Secret when the function lists it), a JSON
// object with the same keys; a variable that is set wins over the file:
//
//	gateway_url        the gateway (http://gateway.openfaas:8080)
//	NATS_URL           NATS with JetStream for history and counters (nats://nats.openfaas:4222)
//	secret_mount_path  where basic-auth-user/basic-auth-password and prescale-chain-key
//	                   are (/var/openfaas/secrets)
//	namespace          functions' namespace ("" = the provider's default)
//	source             gateway | prometheus | probe (gateway)
//	metrics_url        the gateway's Prometheus exposition for source=gateway
//	                   (<gateway_url>/metrics; on Kubernetes with charts/prescale:
//	                   http://prescale-gateway-metrics.openfaas:8082/metrics, the
//	                   chart's Service on the gateway's metrics port 8082)
//	prometheus_url     source=prometheus: Prometheus's HTTP API base URL, required
//	                   (e.g. http://prometheus.openfaas:9090)
//	prometheus_window  source=prometheus: rate window of one sample, 1s..1h (1m)
//	metrics_label_suffix
//	                   source=prometheus: appended to the function's name in the
//	                   function_name matcher ("" on the plugin and faasd;
//	                   ".openfaas-fn" on Kubernetes)
//	prometheus_bootstrap
//	                   source=prometheus: windows of history fetched with range
//	                   queries when a function has none in KV, 0..11000 (60;
//	                   capped at history_length-1)
//	history_length     samples kept per function in KV, 1..2000 (360; 2000 fits NATS's 1 MiB message limit)
//	payload_history    newest samples sent to predictor, 1..500 (120; 500 fits the async 256 kB body limit)
//	predictor          the predictor function's name (predictor)
//	batch_size         functions per predictor call (one shard of a run), 1..500 (50)
//	batch_max_bytes    body bytes per predictor call, 4096..4194304 (250000: under the
//	                   async queue's default 256,000-byte limit; with payload_history
//	                   120 a busy function's payload is ~25–50 kB, so this bound, not
//	                   batch_size, then sets the shard)
//	workers            functions observed and recorded in KV at once, 1..64 (8)
//	callback_url       where the queue worker posts predictor's answer (<gateway_url>/function/scaler)
//	probe_requests, probe_concurrency, probe_qps, probe_timeout
//	                   the active probe's bounds (20, 2, 10, 10s; capped at 1000, 16, 100, 30s);
//	                   active probes run one function at a time whatever workers is
package function
