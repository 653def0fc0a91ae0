// Package state is prescale's durable state in NATS JetStream, so that
// load-probe, predictor and scaler stay stateless functions:
//
//   - KV bucket prescale_history: each function's recent samples (bounded);
//   - KV bucket prescale_counters: the gateway counters of the previous
//     observation (source.SnapshotStore);
//   - KV bucket prescale_policy: the scaler's stabilization state
//     (decide.State), updated with compare-and-set;
//   - stream PRESCALE_DECISIONS (subjects prescale.decisions.<function>):
//     every scaler decision, read by `prescale decisions`.
package state
