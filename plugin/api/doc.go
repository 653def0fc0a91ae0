// Package api serves the OpenFaaS provider HTTP API of the plugin (the routes
// of faas-provider's bootstrap.Serve, on a router the caller owns): function
// list/deploy/update/delete, status, scale, info, namespaces, logs, secrets,
// healthz and the /function/ proxy, with OpenFaaS's basic auth on /system/*.
// There is one handler per endpoint. The runtime that runs replicas and the
// registry of built images are interfaces defined here, so the handlers are
// tested against fakes at that seam.
package api
