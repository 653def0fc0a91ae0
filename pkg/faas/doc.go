// Package faas holds the OpenFaaS conventions that prescale's gateway
// (plugin/api, plugin/async), watchdog (plugin/watchdog), label parsing
// (pkg/decide) and functions (pkg/fnutil) share, one copy each:
//
//   - ParseDuration: a timeout or window as OpenFaaS writes it, integer
//     seconds ("30") or a Go duration ("30s", "1m30s");
//   - SplitName / BaseName: a function addressed as "fn" or "fn.namespace"
//     (faasd and faas-netes split at the last dot), DefaultNamespace;
//   - HopHeaders / CopyHeaders: the hop-by-hop header fields a proxy drops.
//
// It has no dependencies beyond the standard library.
package faas
