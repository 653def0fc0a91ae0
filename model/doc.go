// Package model trains and evaluates prescale's models and writes their
// artefacts and REPORT.md (`prescale train`, `make train`), and generates the
// seed-parity dataset (`prescale gen`).
//
//   - Seed parity: the original system's RandomForest (features → replicas)
//     rebuilt with golearn's CART trees, bagged deterministically, exported
//     to pkg/inference' portable forest and checked tree by tree against golearn.
//   - Demand forecasting: prescale-peak and the baselines (last value, moving
//     average, seasonal naive, Holt-Winters additive, a golearn forest on lag
//     features), trained and scored on the Azure traces with a time split per
//     function; MAE, MASE and the under-forecast rate.
//   - Datasets: load sweeps (offered rate × replicas) measured live with hey's
//     requester through an OpenFaaS gateway, or produced by a documented
//     M/G/c queueing model with service times from the traces' durations.
//
// Inference lives in pkg/inference (no golearn); this package is only for training.
package model
