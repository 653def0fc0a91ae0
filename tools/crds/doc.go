// Package crds pins github.com/prometheus-operator/prometheus-operator
// (go.sum), whose example/prometheus-operator-crd holds the
// ServiceMonitor and PodMonitor CRDs `make cluster-tools` copies into
// bin/crds for the cluster tests (the chart renders its monitors when the
// Prometheus Operator is present).
package crds
