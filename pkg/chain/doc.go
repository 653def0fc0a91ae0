// Package chain holds the messages prescale's functions pass along the
// chain cron → load-probe → (async) predictor → (callback) scaler.
package chain
