// Package secrets keeps OpenFaaS-style secrets as files: one file per secret
// (mode 0600) in the plugin's secrets directory, and per function a directory
// of symbolic links to the secrets it names, given to the function as
// secret_mount_path (as /var/openfaas/secrets on OpenFaaS). It also creates
// the gateway's basic-auth credentials and the chain key prescale-chain-key
// (random, EnsureChainKey) on first start.
package secrets
