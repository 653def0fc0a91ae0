// Package fnutil is what prescale's Go functions share at their edges:
// configuration from the environment, OpenFaaS secrets, the gateway client
// (github.com/openfaas/go-sdk with basic auth), asynchronous invocation and
// JSON responses for the golang-http template.
package fnutil
