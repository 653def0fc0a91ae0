// Package chainflow tests the chain's three functions together, in
// process, on a fake gateway (pkg/gwtest) and an embedded NATS: load-probe's
// signed payload, as the queue worker hands it to predictor (with
// X-Call-Id), and predictor's answer, as the callback posts it to scaler.
// It proves the legs' signatures interoperate through the real handlers,
// and that a hand-written predictor call scales nothing. Nothing here is
// built or deployed (internal/chaine2e runs the real chain).
package chainflow
