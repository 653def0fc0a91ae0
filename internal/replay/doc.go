// Package replay drives traffic at an OpenFaaS function from a per-minute
// invocation trace: within each minute the trace's count of requests
// arrives as a Poisson process (given the count, arrival times are uniform
// order statistics, so the trace's counts are kept exactly); Speed
// compresses time (a minute lasts 60/Speed seconds). Requests are sent
// open-loop (arrivals do not wait for responses), bounded by MaxInFlight;
// the Summary reports what hey reports: latency percentiles, status codes,
// requests per second, and each request's record for later analysis.
package replay
