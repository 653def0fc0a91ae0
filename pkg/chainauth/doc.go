// Package chainauth authenticates the messages of prescale's chain
// (load-probe → predictor → queue-worker callback → scaler) with
// HMAC-SHA256, keyed by the OpenFaaS secret prescale-chain-key.
//
// A signature covers a domain (which leg of the chain), a timestamp, an id
// (a random nonce, or the async call id) and the message's canonical bytes.
// It travels inside the message body (an "auth" object), because the
// queue worker's callback forwards the function's response body but not
// reliably its headers.
//
// Keys. The secret holds one key per line: the first signs and verifies,
// an optional second (the previous key) only verifies, so a key can be
// rotated without losing a control period (README, "Security"). Each key is
// at least MinKeyLen bytes after trimming surrounding whitespace.
//
// Everything here is pure: Sign and Verify take the time as a parameter;
// replay detection (an id seen before) needs storage and is the caller's
// (the scaler keeps the ids it has accepted in NATS KV, pkg/state).
package chainauth
