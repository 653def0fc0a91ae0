// Package function is prescale's scaler. The queue worker posts predictor's
// answer (chain.Prediction) here as the callback of load-probe's async
// invocation. The scaler reads the target's replicas and labels through the
// gateway API, applies decide.Policy with its stabilization state in NATS
// JetStream KV, calls /system/scale-function through go-sdk when the policy
// says so, and appends every decision to the JetStream decision stream.
//
// Authentication. The scaler acts only on a prediction signed by the
// predictor (pkg/chainauth: HMAC-SHA256 keyed by the OpenFaaS secret
// prescale-chain-key, in the body's "auth" field, since the callback
// carries the function's body). An unsigned, forged or stale one (signed
// more than stale_after before or after now), or one whose id the scaler
// has accepted before (a replay; the ids are kept in the NATS KV bucket
// prescale_chain_seen for 2 × stale_after + 1 min, so every scaler replica
// and restart sees them), is answered 401 with the reason, logged, and
// touches neither the gateway nor the policy state. A message whose work
// failed before anything was changed (its function not found or not read
// through the gateway, bad labels; a batch's gateway list) has its id
// released (state.Store.Unmark): the same message may be sent again.
// Without the secret every prediction is refused (500). What a message
// not (yet) authenticated carries is logged quoted, if at all. The
// function name is canonicalised first ("hello.openfaas-fn" is "hello" in
// the default namespace, one policy state), and a prediction not newer
// than the one the function's last decision was made on (a late or
// overlapping chain run) is ignored: 200 {"result":"ignored"}, nothing
// scaled or logged as a decision.
//
// Batches. The chain's callback normally carries a chain.PredictionBatch
// (one per load-probe shard): its one signature, its age and its id's
// replay are checked once, a batch of only the predictor's errors too, and
// a batch that fails is refused whole (401, nothing touched, its errors
// not logged); the gateway is read once per function, or, for a
// namespace the batch names at least 33 functions of, listed once; then
// every prediction is applied as a single one would be —
// its own policy state and "not newer" rule, its own decision in the
// stream and its own log line — at most 8 at once. The answer
// (BatchResult) lists the decisions, the predictions ignored and those
// that failed with the status the single form would answer (a decision
// whose scale call or append failed, or that is invalid, is listed among
// both, with 502, 503 or 422); it is 200 whenever the batch itself was
// accepted, 502 when the gateway list failed (nothing applied; the batch
// may be sent again). Items the predictor could not forecast (the batch's
// "errors") are logged once the batch is authenticated: quoted, each
// clipped to 300 bytes, the first 20 and then how many more. A batch of
// more than chain.MaxBatch items (predictions and errors) is refused whole
// (413).
//
// Timeouts. Each step of a message's work has 30 s of its own: opening the
// state store, the replay check, a batch's gateway lists, and each
// prediction (its gateway read, policy compare-and-set, scale call and
// decision append). A batch as a whole has no deadline of its own; at 8
// predictions at once it ends within about (⌈n/8⌉ + 4) × 30 s. Once a
// message is authenticated its work runs to the end even if the caller
// goes away, so nothing accepted is half applied.
//
// A callback whose X-Function-Status is not 2xx (predictor failed) is
// logged and changes nothing. Bad input, an unknown function, bad labels, a
// gateway or NATS that is down: a clear error and no scale call.
//
// Environment (defaults in parentheses; config.go). Each key may also come
// from the settings file, $settings_file or else
// $secret_mount_path/settings.json (/var/openfaas/secrets/settings.json:
// the chart's prescale-settings Secret when the function lists it), a JSON
// object with the same keys; a variable that is set wins over the file:
//
//	gateway_url        (http://gateway.openfaas:8080)
//	NATS_URL           (nats://nats.openfaas:4222)
//	secret_mount_path  basic-auth-user / basic-auth-password and prescale-chain-key
//	                   (/var/openfaas/secrets)
//	namespace          ("")
//	forecast_only      true: log decisions, never scale (false)
//	ce_clamp           true: the gateway is OpenFaaS CE, bounds narrowed to 1..5 (false)
//	stale_after        1s..24h (90s): a forecast older than this is ignored → reactive
//	                   only; a prediction signed longer ago (or further ahead) is refused (401)
//	scaler_mode        predictive | reactive: reactive ignores forecasts (an HPA-like
//	                   baseline for A/B runs) (predictive). Not "mode": of-watchdog
//	                   reads mode (http) from the same environment.
//	metrics_label_suffix
//	                   appended to the function's name in the function_name
//	                   label of the metrics ("" on the plugin; ".openfaas-fn" on
//	                   Kubernetes, as the gateway labels it)
//	function_defaults
//	                   per-function settings under the target's labels,
//	                   decide.Settings as JSON (decide.DefaultSettings)
//
// Metrics. GET on any path ending in /metrics (:8080/metrics on the pod,
// /function/scaler/metrics through a gateway) answers in the Prometheus
// text format from the scaler's own registry: prescale_scaler_desired_replicas
// (the latest decision's target) and prescale_scaler_decisions_total{action}
// with action scale_up | scale_down (a scale the policy asked for, whether
// the call succeeded or not) | hold | forecast_only (forecast-only mode).
// Rejected input is not a decision and is not counted.
package function
