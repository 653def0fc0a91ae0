//go:build tools

// Package tools pins the real faas-cli that the tests drive. Build it with
// `make bin/faas-cli`; this module's go.sum is committed so the build is
// reproducible without the checksum database.
package tools
