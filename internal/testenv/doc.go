// Package testenv finds the real tools the tests drive (faas-cli, hey,
// prometheus, helm), the repository root and its shipped traces/. Under `make test`
// (PRESCALE_REQUIRE_TOOLS=1) a missing tool fails the test; a bare `go test`
// skips it with a message saying how to get it.
package testenv
