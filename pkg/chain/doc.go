// Package chain holds the messages prescale's functions pass along the
// chain cron → load-probe → (async) predictor → (callback) scaler.
//
// ProbePayload and Prediction carry a signature (field "auth",
// pkg/chainauth) over their canonical bytes (Canonical: the JSON encoding
// without the auth field, recomputed by the receiver from what it decoded,
// so what is verified is exactly what is acted on). Sign and Verify take
// the time as a parameter.
package chain
