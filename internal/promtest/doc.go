// Package promtest runs a real Prometheus server (Debian's prometheus, found
// through internal/testenv) for tests, scraping given targets every second,
// and drives measured HTTP load at a target. Its tests check
// pkg/source/promsrc against what the load driver measured, and run every
// PromQL expression of the Grafana dashboard in charts/prescale.
package promtest
