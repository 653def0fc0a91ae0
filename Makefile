# prescale — predictive autoscaling for OpenFaaS functions.
# Quick start: `make up` (run prescale on the embedded plugin), `make test`.

SHELL := /bin/bash
ROOT  := $(abspath .)
BIN   := $(ROOT)/bin
GO    ?= go
HELM_VERSION := v3.22.0

export PATH := $(BIN):$(PATH)

.PHONY: all build tools cluster-tools test-cluster deps test vet fmt-check fuzz up bench bench-live bench-control bench-plugin train clean

all: build

build: ## bin/prescale, the one CLI
	$(GO) build -o $(BIN)/prescale ./cmd/prescale

## deps: Debian packages the tests drive for real (hey, prometheus, chromium for the UI test).
deps:
	@if ! command -v hey >/dev/null || ! command -v prometheus >/dev/null || ! command -v chromium >/dev/null; then \
		echo "installing hey, prometheus and chromium (Debian packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hey prometheus chromium >/dev/null; \
	fi

## tools: the real faas-cli (pinned in tools/go.sum) and helm.
tools: $(BIN)/faas-cli $(BIN)/helm

# Built tools are kept in a cache outside the checkout (tools/cached.sh: keyed by their go.sum, the
# command and the Go version), so a fresh clone copies them instead of linking them again.
CACHED := GO=$(GO) sh tools/cached.sh

$(BIN)/faas-cli: tools/go.mod tools/go.sum
	$(CACHED) $@ tools/go.mod tools/go.sum -- 'cd tools && $(GO) build -o "$$OUT" github.com/openfaas/faas-cli'

$(BIN)/helm:
	$(CACHED) $@ -- 'd=$$(mktemp -d) && GOBIN=$$d $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION) && mv $$d/helm "$$OUT" && rmdir $$d'

## cluster-tools: the cluster tests' control plane (internal/clustertest), every piece pinned by a
## go.sum under tools/: etcd (tools/etcd), kube-apiserver, kube-controller-manager and kube-scheduler
## (tools/k8s, Kubernetes $(K8S_VERSION), version ldflags so helm sees a real version), kwok and its
## "fast" node and pod stages (tools/kwok), the Prometheus Operator's ServiceMonitor and PodMonitor
## CRDs (tools/crds). About 10 minutes to build on 2 cores the first time, cached (tools/cached.sh) after.
K8S_VERSION := v1.34.2
K8S_LDFLAGS := -s -w -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 \
	-X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.gitCommit=prescale-tools-k8s
KWOK_STAGES := node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml
CLUSTER_BINS := $(BIN)/etcd $(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kube-scheduler \
	$(BIN)/kwok $(BIN)/kwok-stages.yaml $(BIN)/crds/servicemonitors.yaml $(BIN)/crds/podmonitors.yaml
cluster-tools: $(CLUSTER_BINS)

$(BIN)/etcd: tools/etcd/go.mod tools/etcd/go.sum tools/etcd/main.go
	$(CACHED) $@ $^ -- 'cd tools/etcd && $(GO) build -ldflags "-s -w" -o "$$OUT" .'

$(BIN)/kube-%: tools/k8s/go.mod tools/k8s/go.sum tools/k8s/kube-%/main.go
	$(CACHED) $@ $^ -- 'cd tools/k8s && $(GO) build -ldflags "$(K8S_LDFLAGS)" -o "$$OUT" ./kube-$*'

$(BIN)/kwok: tools/kwok/go.mod tools/kwok/go.sum
	$(CACHED) $@ $^ -- 'cd tools/kwok && $(GO) build -ldflags "-s -w" -o "$$OUT" sigs.k8s.io/kwok/cmd/kwok'

$(BIN)/kwok-stages.yaml: tools/kwok/go.mod tools/kwok/go.sum
	d=$$(cd tools/kwok && $(GO) mod download sigs.k8s.io/kwok && $(GO) list -m -f '{{.Dir}}' sigs.k8s.io/kwok) && test -n "$$d" && \
	for f in $(KWOK_STAGES); do echo ---; cat $$d/kustomize/stage/$$f; done > $@.tmp && mv $@.tmp $@

$(BIN)/crds/%.yaml: tools/crds/go.mod tools/crds/go.sum
	mkdir -p $(BIN)/crds && d=$$(cd tools/crds && $(GO) mod download github.com/prometheus-operator/prometheus-operator && \
		$(GO) list -m -f '{{.Dir}}' github.com/prometheus-operator/prometheus-operator) && test -n "$$d" && \
	cp $$d/example/prometheus-operator-crd/monitoring.coreos.com_$*.yaml $@ && chmod 644 $@

## test-cluster: the chart on the test control plane alone (helm install, upgrade, uninstall).
test-cluster: tools cluster-tools
	PRESCALE_REQUIRE_TOOLS=1 $(GO) test -count=1 -timeout 10m -run 'TestCluster' -v ./internal/chart ./internal/clustertest

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The load tests (real hey through the plugin, the end-to-end chain, bench-live
# --quick) would slow the other packages' tests (and be slowed by them), so
# they run after everything else, two packages at a time: each mostly waits
# on its platform's real time (the chain's cron, a compressed trace), so two
# fit on this 2-core machine at once. They assert no throughput or timing:
# only what holds on any machine.
MODULE    := github.com/prescale/prescale
SOLO_PKGS := plugin/e2e internal/chaine2e internal/livee2e
test: deps tools cluster-tools build fmt-check vet
	PRESCALE_REQUIRE_TOOLS=1 $(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v -F -x $(foreach p,$(SOLO_PKGS),-e $(MODULE)/$(p)))
	PRESCALE_REQUIRE_TOOLS=1 $(GO) test -count=1 -timeout 15m -p 2 $(addprefix ./,$(SOLO_PKGS))
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

# fuzz: every FuzzXxx target of the repository (found by name in the
# *_test.go files, so a new one is never forgotten), one after the other,
# each for FUZZTIME (default 30s; e.g. `make fuzz FUZZTIME=5m`). A crash
# writes its input to the package's testdata/fuzz/FuzzXxx/: fix the bug and
# commit the file, plain `go test` then replays it with the seed corpus.
# A target fails only when it wrote such an input: a bare "context deadline
# exceeded" at the end of FUZZTIME with no input written is the Go fuzzing
# coordinator's shutdown race (golang/go#75804, fixed in Go 1.27), reported
# and ignored after the corpus replays cleanly.
# `make test` fuzzes every target for TEST_FUZZTIME (2s) after the suite
# (`go test` has already replayed each committed corpus): ~2 s of build per
# target besides, so a few seconds per target on this 2-core machine.
# An input it finds is a real bug (fix it, commit the input), not noise.
FUZZTIME ?= 30s
TEST_FUZZTIME ?= 2s
fuzz:
	@failed=""; \
	while read -r pkg fn; do \
		echo "== $$fn ($$pkg) for $(FUZZTIME)"; \
		dir=$$pkg/testdata/fuzz/$$fn; before=$$(ls $$dir 2>/dev/null | wc -l); \
		if ! $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$pkg </dev/null; then \
			if [ "$$(ls $$dir 2>/dev/null | wc -l)" != "$$before" ] || ! $(GO) test -count=1 -run "^$$fn\$$" ./$$pkg >/dev/null; then \
				failed="$$failed $$fn"; \
			else \
				echo "   $$fn: no failing input written and the corpus passes: the fuzz coordinator's deadline race (golang/go#75804), ignored"; \
			fi; \
		fi; \
	done < <(git grep -o '^func Fuzz[A-Za-z0-9_]*' -- '*_test.go' | sed 's|/[^/]*_test.go:func | |'); \
	if [ -n "$$failed" ]; then echo "fuzz: failing inputs written for:$$failed"; exit 1; fi

up: build
	$(BIN)/prescale up -f stack.yml --demo

# bench: the scale-to-zero frontiers (bench/ZERO.md, *_zero.png) first, then
# the main comparison, whose RESULTS.md includes ZERO.md.
bench: build
	$(BIN)/prescale sim --zero-frontier traces --out bench
	$(BIN)/prescale sim --all-traces traces --out bench

bench-plugin:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./plugin/...

bench-live: build deps tools
	$(BIN)/prescale bench-live -f stack.yml --out bench

# The chain's control plane at 10, 100, 200, 300 and 500 opted-in functions (~8 minutes): bench/control.md.
bench-control: build
	$(BIN)/prescale bench-control -f stack.yml --functions 10,100,200,300,500 --out bench

train: build
	$(BIN)/prescale train --traces traces --out model

clean:
	rm -rf $(BIN) build
