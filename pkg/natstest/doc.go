// Package natstest is a test helper: it starts an embedded NATS server with
// JetStream for tests of the packages and functions that keep state in NATS,
// bound to 127.0.0.1 on a random port and stored under t.TempDir().
package natstest
