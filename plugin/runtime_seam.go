package plugin

import "github.com/prescale/prescale/plugin/runtime"

// newRuntime starts the real replica runtime.
func newRuntime(cfg runtime.Config) (engine, error) {
	return runtime.New(cfg)
}
