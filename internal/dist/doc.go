// Package dist holds the duration distributions shared by the simulator's
// cold start (internal/sim) and the plugin's replica start delay
// (plugin/runtime, annotation prescale.startup-delay): one parser and one
// sampler, so a live replica start and a simulated one are drawn alike.
//
// A distribution is "fixed:D", "uniform:LO,HI" or
// "lognormal:MEDIAN,SIGMA[,MAX]" with Go durations ("2.5s", "800ms") or
// plain seconds. Samples come from a caller's *rand.Rand: the package has
// no state and no source of its own.
package dist
