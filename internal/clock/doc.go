// Package clock is the time source of the loops that wait: a Clock gives the
// current time, timers and AfterFunc. Real is the wall clock (package time);
// Fake only moves when a test calls Advance, which fires every timer that
// falls due, in deadline order, before it returns. Code takes a Clock where
// time is the subject (timeouts, backoff, grace periods, delays) and keeps
// package time for I/O pacing that a test cannot step (network dials,
// poll loops against real processes).
package clock
