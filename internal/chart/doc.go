// Package chart holds the tests of the Helm chart in charts/prescale: the real
// helm lints and renders it, every rendered manifest is decoded strictly into
// its Kubernetes API type (unknown fields fail), the output is compared with
// golden files, every value is documented, and the chart's defaults are
// checked against prescale's Go defaults. It has no non-test code.
package chart
