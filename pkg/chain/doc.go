// Package chain holds the messages prescale's functions pass along the
// chain cron → load-probe → (async) predictor → (callback) scaler.
//
// ProbePayload and Prediction carry a signature (field "auth",
// pkg/chainauth) over their canonical bytes (Canonical: the JSON encoding
// without the auth field, recomputed by the receiver from what it decoded,
// so what is verified is exactly what is acted on). Sign and Verify take
// the time as a parameter.
//
// Batches. load-probe sends one ProbeBatch per run per shard of at most
// its batch_size functions (and the async body limit), signed once
// (chainauth.LegProbeBatch) with one id; predictor answers one
// PredictionBatch (a prediction per good item, an ItemError per bad one),
// signed once (chainauth.LegPredictionBatch) with the async call id; the
// scaler checks that signature, staleness and the id's replay once per
// batch and applies every prediction with its own policy state and
// "not newer" rule. A batch over MaxBatch items is refused whole. The
// single-function messages stay accepted (a hand-written predictor call,
// an older load-probe).
package chain
