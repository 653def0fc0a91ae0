// Package gwmetrics holds the gateway's Prometheus metrics with the real
// OpenFaaS gateway's names and labels, so PromQL written for OpenFaaS works
// unchanged against the plugin:
//
//	gateway_function_invocation_total{function_name,code}   counter
//	gateway_functions_seconds{function_name,code}           histogram (default buckets)
//	gateway_function_invocation_started{function_name}      counter
//	gateway_service_count{function_name}                    gauge = desired replicas
//
// plus the provider's own provider_http_requests_total and
// provider_http_request_duration_seconds{code,method,path}. Nothing is
// registered globally: Register adds the collectors to a caller's registry.
package gwmetrics
