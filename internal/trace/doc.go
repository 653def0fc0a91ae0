// Package trace reads serverless invocation traces into per-minute counts:
// the Azure Functions 2019 per-minute format (and Freyr's variant of it),
// the Azure 2021 per-invocation format, and plain one-column CSVs of
// per-minute counts; plus the Azure 2019 durations files.
package trace
