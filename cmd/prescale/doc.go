// Command prescale is the one CLI of prescale: the embedded OpenFaaS platform
// (`up`), the trace replay driver, the simulator, training and the decision log.
// Each subcommand lives in its own file as run<Name>(ctx, args, stdout, stderr).
package main
