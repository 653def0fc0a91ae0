// Command kube-controller-manager is Kubernetes' own controller manager
// (k8s.io/kubernetes/cmd/kube-controller-manager/app): Deployments,
// ReplicaSets and StatefulSets create their pods through it.
package main
