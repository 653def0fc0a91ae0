// Package fnutil is what prescale's Go functions share at their edges:
// configuration (Vars, LoadConfig, WithSettingsFile, Platform), OpenFaaS
// secrets (the gateway credentials, the chain keys), the gateway client (github.com/openfaas/go-sdk with basic auth,
// GetFunction), asynchronous invocation and JSON responses for the
// golang-http template.
//
// Configuration follows defaults → parse → validate. Each function's
// config.go has a defaultConfig() with named defaults, a
// parseConfig(getenv func(string) string) that reads the settings through
// Vars (tests pass MapEnv, not os.Setenv), and a validate() whose messages
// state the allowed range (IntIn, FloatIn, DurationIn, OneOf). LoadConfig
// runs parseConfig on the process environment over the settings file: the
// chart's prescale-settings Secret, mounted at
// /var/openfaas/secrets/settings.json (or $settings_file), a JSON object
// keyed like the environment; a variable that is set wins over the file.
package fnutil
