// Package chaine2e tests prescale's whole control loop on the real plugin:
// the repository's stack.yml deployed on a running platform, the cron
// connector firing load-probe, the async predictor, the queue worker's
// callback into scaler, and scaler's calls of the gateway's scale API —
// driven by a replayed ramp. It lives outside functions/ and pkg/ because
// those are copied into the functions' Docker build contexts.
package chaine2e
