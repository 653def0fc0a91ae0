// Package stack parses an OpenFaaS stack file (stack.yml) the way faas-cli
// does: environment substitution of ${VAR} and ${VAR:-default} first, then
// YAML; version must be "1.0" when given and provider.name must be "openfaas".
// Every error names the file, and where it applies the function and field.
// Unknown fields are accepted (faas-cli ignores them) but reported in
// Stack.Warnings so a typo does not go unnoticed.
package stack
