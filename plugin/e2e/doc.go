// Package e2e holds prescale's end-to-end tests of the gateway plugin: a real
// Platform started in-process, driven by the real faas-cli (login, deploy,
// list, describe, invoke, remove, build --shrinkwrap) and the real hey
// (requests/s with one and two replicas of hello-python under CPU-bound load).
// The tests use testdata/stack.yml (hello-python from functions/ and a small
// golang-http echo function) so they do not depend on prescale's own functions.
package e2e
