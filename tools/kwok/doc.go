//go:build tools

// Package tools pins sigs.k8s.io/kwok (a fake kubelet: it keeps the
// cluster tests' node Ready and moves the pods bound to it to Running and
// Ready without running containers); the Makefile builds its cmd/kwok.
package tools
