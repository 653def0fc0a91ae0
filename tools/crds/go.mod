module github.com/prescale/prescale/tools/crds

go 1.25

require github.com/prometheus-operator/prometheus-operator v0.85.0
