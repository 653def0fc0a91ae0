package function

import (
	"errors"
	"fmt"
	"time"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
)

// Environment variables (or settings-file keys, see fnutil.WithSettingsFile)
// the scaler reads besides fnutil's gateway_url, NATS_URL and namespace.
const (
	envForecastOnly     = "forecast_only"
	envCEClamp          = "ce_clamp"
	envStaleAfter       = "stale_after"
	envMode             = "scaler_mode" // not "mode": of-watchdog reads mode=http
	envFunctionDefaults = "function_defaults"
)

// Scaler modes.
const (
	modePredictive = "predictive"
	modeReactive   = "reactive" // forecasts ignored: the HPA-like A/B baseline
)

// Defaults and allowed ranges.
const (
	defaultMode   = modePredictive
	minStaleAfter = time.Second
	maxStaleAfter = 24 * time.Hour
	defaultSuffix = "" // function_name = function (the plugin, faasd)
)

type config struct {
	fnutil.Platform        // gateway_url, NATS_URL, namespace
	labelSuffix     string // $metrics_label_suffix: function_name = function + suffix
	policy          decide.Policy
	// defaults are the per-function settings the target's labels override
	// ($function_defaults: decide.Settings as JSON over decide.DefaultSettings).
	defaults decide.Settings
	mode     string
}

func defaultConfig() config {
	return config{
		Platform:    fnutil.DefaultPlatform(),
		labelSuffix: defaultSuffix,
		policy:      decide.DefaultPolicy(), // stale_after 90s, not forecast-only, no CE clamp
		defaults:    decide.DefaultSettings(),
		mode:        defaultMode,
	}
}

// loadConfig reads the process environment over the settings file.
func loadConfig() (config, error) { return fnutil.LoadConfig(parseConfig) }

// parseConfig reads the settings through getenv over the defaults and
// validates them; every bad setting is reported.
func parseConfig(getenv func(string) string) (config, error) {
	c := defaultConfig()
	v := fnutil.NewVars(getenv)
	c.Platform.Parse(v)
	v.String(fnutil.EnvLabelSuffix, &c.labelSuffix)
	v.Bool(envForecastOnly, &c.policy.ForecastOnly)
	v.Bool(envCEClamp, &c.policy.CEClamp)
	v.Duration(envStaleAfter, &c.policy.StaleAfter)
	v.JSON(envFunctionDefaults, &c.defaults)
	v.String(envMode, &c.mode)
	if err := v.Err(); err != nil {
		return c, err
	}
	return c, c.validate()
}

// validate says which setting is out of its range.
func (c config) validate() error {
	errs := []error{
		fnutil.DurationIn(envStaleAfter, c.policy.StaleAfter, minStaleAfter, maxStaleAfter),
		fnutil.OneOf(envMode, c.mode, modePredictive, modeReactive),
	}
	if err := c.defaults.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", envFunctionDefaults, err))
	}
	return errors.Join(errs...)
}

// reactive: forecasts are ignored.
func (c config) reactive() bool { return c.mode == modeReactive }
