// Package platformtest starts a real embedded OpenFaaS platform (package
// plugin) for end-to-end tests: random port, cleanup that leaves no
// processes behind, and the platform's log printed when the test fails.
package platformtest
