// Package function is prescale's predictor. It answers two kinds of body:
//
//   - load-probe's payload (chain.ProbePayload: function, history, features,
//     labels, replicas): it forecasts the function's peak request rate over
//     the horizon and recommends replicas with the capacity model of the
//     function's labels; the answer (chain.Prediction) goes through the
//     queue worker's callback to scaler;
//   - load-probe's batch (chain.ProbeBatch: "items", one payload per
//     function of a shard): every item is forecast as above and the answer
//     is one chain.PredictionBatch; an item that cannot be forecast gets an
//     entry in its "errors" and the others are answered. A batch of more
//     than chain.MaxBatch items is refused whole (413);
//   - a single seed-style feature vector, as the original Flask /predict
//     took ({"p50":…,"p90":…,"p99":…,"error_rate":…,"Status200":…,
//     "Status500":…}): it answers {"replicas": N, "model", "version", …}.
//
// Every answer names the model and version it used. Malformed input is a
// 400 with a message.
//
// Signatures. An answer to a probe payload is signed (its "auth" field,
// pkg/chainauth, with the secret prescale-chain-key and the async call id
// X-Call-Id) only when the payload carried load-probe's valid signature,
// made at most stale_after ago: the scaler acts on nothing else. Any other
// payload — `faas-cli invoke predictor` with a hand-written body — is
// answered as before but unsigned, with a reason saying why, and can scale
// nothing. A payload whose signature fails is logged. A batch is verified
// once (its one signature covers every item) and its answer signed once.
//
// Models. By default (model=trained) the predictor serves the trained
// artefacts embedded from model/artefacts (pkg/inference): the demand
// forecaster "prescale-peak" for load-probe payloads and the seed-style
// random forest "seed-forest" for feature vectors. model=builtin serves the
// built-in holt-peak forecaster and capacity-rules instead; they also answer
// — with a "fallback: …" reason in the answer and an error in the log — when
// the artefacts cannot be loaded. When NATS_URL is set, the predictor follows
// the JetStream object store bucket model_bucket (created if missing): a
// model published there by `prescale train --publish` is served from the
// next request on, without a redeploy; a corrupt or mismatched one is
// refused (logged) and the previous model keeps serving; so does a version
// that cannot be read (deleted, digest mismatch), logged once and not read
// again. NATS being down only delays updates (the watch and a failed read
// are retried with back-off).
//
// Units of the seed forest. It was trained on windows of 30 s (the
// artefact's training parameter "window"), so it reads status_200 and
// status_500 as counts per 30 s. A feature vector's counts are taken as
// counts over its "interval" key (seconds, 1..3600; default: the model's
// window) and scaled by window/interval; the failure ratio
// (Status500/Status200)+Status500 is recomputed from the scaled counts
// unless the vector gives it. Features the forest needs that the original
// vector did not carry are derived and listed in the reasons: rps =
// (Status200+Status500)/interval, in_flight = rps × service time (or p50)
// by Little's law, replicas = 1. The answer's "features" are what the model
// saw.
//
// Environment (defaults in parentheses; config.go). Each key may also come
// from the settings file, $settings_file or else
// $secret_mount_path/settings.json (/var/openfaas/secrets/settings.json:
// the chart's prescale-settings Secret when the function lists it), a JSON
// object with the same keys; a variable that is set wins over the file:
//
//	model         trained | builtin (trained); also accepted: prescale-peak,
//	              seed-forest (= trained), holt-peak, capacity-rules (= builtin)
//	forecaster    overrides model for the forecaster only: trained | builtin (and
//	              the same aliases); unset = as model. stack.yml sets holt-peak
//	              for the local stack's seconds-long control period (prescale-peak
//	              is trained per minute and does not extrapolate a trend)
//	model_bucket  object store bucket followed for new models (prescale-models)
//	NATS_URL      NATS with JetStream holding that bucket (unset: embedded models only)
//	stale_after   a payload signed longer ago (or further ahead) than this is
//	              answered unsigned, 1s..24h (90s); the scaler's key too
//	horizon       how far ahead to forecast, 1s..1h (30s); at least two
//	              sample intervals are always covered
//	max_body      largest accepted body in bytes (1048576)
//	metrics_label_suffix
//	              appended to the function's name in the function_name label of
//	              the metrics below, to match the gateway's ("" on the plugin;
//	              ".openfaas-fn" on Kubernetes)
//	function_defaults
//	              per-function settings under the labels, decide.Settings as
//	              JSON (decide.DefaultSettings)
//
// Metrics. GET on any path ending in /metrics (the pod's :8080/metrics that
// a PodMonitor scrapes; /function/predictor/metrics through a gateway)
// answers in the Prometheus text format from the predictor's own registry,
// labelled function_name: prescale_forecast_rps and
// prescale_recommended_replicas (the latest prediction), and
// prescale_forecast_abs_error_ratio = |forecast − actual| / actual of the
// latest forecast whose horizon had passed by the newest observed sample
// (no value while the actual rate is 0 and the forecast was not). The
// pending forecasts live in the process: after a restart the error appears
// one horizon later, and with several predictor replicas each scores only
// the forecasts it made itself. Series exist only for functions named by
// validly signed payloads (load-probe's: deployed, opted-in functions), at
// most 1000 function_name values; further functions share the label
// "_other".
package function
