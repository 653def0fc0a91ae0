// Package clustertest starts a real Kubernetes control plane for the
// cluster tests: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler (Kubernetes v1.34.2, built from the Go module proxy by
// `make cluster-tools`, pinned in tools/k8s and tools/etcd), and kwok
// (sigs.k8s.io/kwok, tools/kwok) as the one node's fake kubelet, which
// marks the pods the scheduler binds to it Running and Ready without
// running containers. Everything listens on loopback with generated
// certificates and a static admin token, in the test's temporary
// directory, and stops at the test's cleanup.
package clustertest
