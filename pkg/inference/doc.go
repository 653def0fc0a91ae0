// Package inference is prescale's model inference: it loads, validates and
// round-trips the versioned JSON artefacts that `prescale train` writes
// (model/artefacts), and predicts with them in pure Go — tree-ensemble
// evaluation for the seed-style replica model and the demand forecasters.
//
// It never trains and never imports golearn: it needs only the standard
// library, nats.go, pkg/decide and model/artefacts (the embedded defaults,
// which stack.yml copies into each function's build context). Its models
// implement decide.ReplicaModel and decide.Forecaster, and every answer
// names the artefact version that produced it.
// An artefact is refused with a clear error when its schema version, kind,
// feature list, numbers or checksum do not check out. Watcher follows a NATS
// JetStream object store so a running predictor picks up a newly published
// model without a redeploy, and keeps the previous one when the new one is bad.
package inference
