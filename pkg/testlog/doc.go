// Package testlog is the tests' one log collector: an io.Writer safe for
// concurrent use that keeps everything written to it. It lives in pkg/ so
// the functions' tests can use it too (a function's build copies only pkg/).
package testlog
