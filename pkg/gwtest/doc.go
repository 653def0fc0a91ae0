// Package gwtest is a test helper: a fake OpenFaaS gateway (the seam the
// functions' handler tests stand in for) with basic auth on /system/*,
// function status and listing, /system/scale-function, /async-function
// (recorded, 202), /function (recorded) and a settable /metrics body.
// It also writes the basic-auth secrets the functions read.
package gwtest
