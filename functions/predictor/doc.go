// Package function is prescale's predictor. It answers two kinds of body:
//
//   - load-probe's payload (chain.ProbePayload: function, history, features,
//     labels, replicas): it forecasts the function's peak request rate over
//     the horizon and recommends replicas with the capacity model of the
//     function's labels; the answer (chain.Prediction) goes through the
//     queue worker's callback to scaler;
//   - a single seed-style feature vector, as the original Flask /predict
//     took ({"p50":…,"p90":…,"p99":…,"error_rate":…,"Status200":…,
//     "Status500":…}): it answers {"replicas": N, "model", "version", …}.
//
// Every answer names the model and version it used. Malformed input is a
// 400 with a message.
//
// Environment (defaults in parentheses):
//
//	model       the forecaster: holt-peak (holt-peak)
//	horizon     how far ahead to forecast, 1s..1h (30s); at least two
//	            sample intervals are always covered
//	max_body    largest accepted body in bytes (1048576)
package function
