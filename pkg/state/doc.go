// Package state is prescale's durable state in NATS JetStream, so that
// load-probe, predictor and scaler stay stateless functions:
//
//   - KV bucket prescale_history: each function's recent samples (bounded,
//     in time order, compare-and-set);
//   - KV bucket prescale_counters: the gateway counters of the previous
//     observation (source.SnapshotStore, compare-and-set);
//   - KV bucket prescale_arrivals: scale-to-zero arrival models
//     (compare-and-set);
//   - KV bucket prescale_chain_seen (the scaler's store only): the ids of
//     the chain messages the scaler accepted, each kept 2 × stale_after + 1
//     min (bucket TTL) and at most 64 MiB in all, so a replay is refused
//     (Store.Unmark releases one whose work failed before any change);
//   - KV bucket prescale_policy: the scaler's stabilization state
//     (decide.State), updated with compare-and-set;
//   - stream PRESCALE_DECISIONS (subjects prescale.decisions.<function>):
//     every scaler decision, read by `prescale decisions`.
package state
