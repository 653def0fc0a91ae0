// Package dockerbuild holds the test that stack.yml builds the way
// `faas-cli up` builds it in Docker on a cluster: the real faas-cli's
// `build --shrinkwrap` lays out build/<fn>, then the golang-http
// Dockerfile's steps (gofmt check, modules-cleanup.sh, go test, go build,
// run by plugin/build's GoSteps) must succeed for every Go function. It has
// no non-test code.
package dockerbuild
