// Package textutil holds the small text helpers that production code and
// tests share: Tail, the end of a long output for an error or a failure
// message.
package textutil
