// Package function is prescale's load-probe: fired by the cron connector,
// it observes every opted-in function (label prescale.enabled=true), appends
// the sample to the function's history in NATS JetStream KV and invokes
// predictor asynchronously with X-Callback-Url pointing at scaler.
//
// Environment (defaults in parentheses):
//
//	gateway_url        the gateway (http://gateway.openfaas:8080)
//	NATS_URL           NATS with JetStream for history and counters (nats://nats.openfaas:4222)
//	secret_mount_path  where basic-auth-user/basic-auth-password are (/var/openfaas/secrets)
//	namespace          functions' namespace ("" = the provider's default)
//	source             gateway | probe (gateway)
//	metrics_url        the gateway's Prometheus exposition (<gateway_url>/metrics;
//	                   on OpenFaaS on Kubernetes: http://gateway.openfaas:8082/metrics)
//	history_length     samples kept per function in KV, 1..100000 (360)
//	payload_history    newest samples sent to predictor, 1..1000 (120)
//	predictor          the predictor function's name (predictor)
//	callback_url       where the queue worker posts predictor's answer (<gateway_url>/function/scaler)
//	probe_requests, probe_concurrency, probe_qps, probe_timeout
//	                   the active probe's bounds (20, 2, 10, 10s; capped at 1000, 16, 100, 30s)
package function
