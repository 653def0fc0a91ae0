// Command kube-scheduler is Kubernetes' own scheduler
// (k8s.io/kubernetes/cmd/kube-scheduler/app): it binds the pods to the
// test's kwok node.
package main
