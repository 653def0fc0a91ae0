// Command kube-apiserver is Kubernetes' own API server
// (k8s.io/kubernetes/cmd/kube-apiserver/app), pinned by this module's
// go.sum, for the cluster tests (internal/clustertest).
package main
