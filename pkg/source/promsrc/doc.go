// Package promsrc is load-probe's Prometheus source: it reads the OpenFaaS
// gateway's metrics (gateway_function_invocation_total,
// gateway_functions_seconds, gateway_function_invocation_started,
// gateway_service_count) from a Prometheus server over its HTTP API with
// PromQL, and turns them into decide.Samples. Observe answers one control
// interval; History bootstraps a function's history with range queries.
//
// Queries, for a matcher M such as {function_name="hello-python.openfaas-fn"}
// and a window W (the interval a sample covers):
//
//	RPS          sum(rate(gateway_function_invocation_total{M}[W]))
//	P50/P90/P99  histogram_quantile(q, sum by (le) (rate(gateway_functions_seconds_bucket{M}[W])))
//	MeanLatency  sum(rate(gateway_functions_seconds_sum{M}[W])) / sum(rate(gateway_functions_seconds_count{M}[W]))
//	ErrorRate    non-2xx rate / total rate
//	Status200    sum(increase(gateway_function_invocation_total{M,code="200"}[W]))
//	Status500    sum(increase(gateway_function_invocation_total{M,code=~"5.."}[W]))  (every 5xx, as the gateway answers 502 on provider failure)
//	InFlight     sum(gateway_function_invocation_started{M}) - sum(gateway_function_invocation_total{M}), at least 0
//	Replicas     max(gateway_service_count{M})
//
// A query with no series (an idle or unknown function) gives 0, as does NaN
// (a quantile or ratio of zero traffic). The CE gateway exports no
// availability metric, so AvailableReplicas is set to Replicas.
package promsrc
