package function

import (
	"errors"
	"fmt"
	"time"

	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/inference"
)

// Environment variables (or settings-file keys, see fnutil.WithSettingsFile)
// the predictor reads besides fnutil's NATS_URL and metrics_label_suffix.
const (
	envModel            = "model"
	envForecaster       = "forecaster" // overrides model for the forecaster only
	envHorizon          = "horizon"
	envMaxBody          = "max_body"
	envBucket           = "model_bucket"
	envFunctionDefaults = "function_defaults"
	envStaleAfter       = "stale_after" // the scaler's key too (one settings file)
)

// Defaults and allowed ranges.
const (
	defaultHorizon = 30 * time.Second
	minHorizon     = time.Second
	maxHorizon     = time.Hour
	defaultMaxBody = 1 << 20
	minMaxBody     = 1 << 10
	maxMaxBody     = 64 << 20
	defaultNATS    = "" // no NATS: the embedded models only
	defaultSuffix  = "" // function_name = function (the plugin, faasd)
	// A payload signed longer ago than stale_after is answered unsigned.
	defaultStaleAfter = 90 * time.Second
	minStaleAfter     = time.Second
	maxStaleAfter     = 24 * time.Hour
)

type config struct {
	model      string // the replica model's choice: inference.ChoiceTrained or ChoiceBuiltin
	forecast   string // the forecaster's choice: $forecaster, else $model, else inference.DefaultForecasterChoice
	forecaster decide.Forecaster
	seed       decide.ReplicaModel
	notes      []string // fallbacks taken, added to every answer's reasons
	horizon    time.Duration
	maxBody    int
	natsURL    string
	bucket     string
	// defaults are the per-function settings a payload's labels override
	// (the same as the scaler's, from the same settings file)
	// ($function_defaults: decide.Settings as JSON over decide.DefaultSettings).
	defaults decide.Settings
	// metrics receives every prediction (nil: not recorded).
	metrics     *metrics
	labelSuffix string // $metrics_label_suffix: function_name = function + suffix
	// staleAfter: a probe payload signed longer ago (or further ahead)
	// than this is answered unsigned.
	staleAfter time.Duration
	// keys are the chain keys (secret prescale-chain-key) the answer to a
	// validly signed payload is signed with; keyErr says why there are none.
	keys   chainauth.Keys
	keyErr error
}

func defaultConfig() config {
	return config{
		model:       inference.DefaultReplicaChoice,
		forecast:    inference.DefaultForecasterChoice,
		horizon:     defaultHorizon,
		maxBody:     defaultMaxBody,
		natsURL:     defaultNATS,
		bucket:      inference.DefaultBucket,
		defaults:    decide.DefaultSettings(),
		labelSuffix: defaultSuffix,
		staleAfter:  defaultStaleAfter,
	}
}

// readConfig reads the process environment over the settings file and picks
// the models from src.
func readConfig(src func(natsURL, bucket string) *modelSource) (config, error) {
	c, err := fnutil.LoadConfig(parseConfig)
	if err != nil {
		return c, err
	}
	c.forecaster, c.seed, c.notes = src(c.natsURL, c.bucket).pick(c.forecast, c.model)
	return c, nil
}

// parseConfig reads the settings through getenv over the defaults and
// validates them; every bad setting is reported.
func parseConfig(getenv func(string) string) (config, error) {
	c := defaultConfig()
	v := fnutil.NewVars(getenv)
	// model picks both models; forecaster overrides it for the forecaster.
	// Neither set: each model's default choice.
	var model, forecast string
	v.String(envModel, &model)
	v.String(envForecaster, &forecast)
	v.Duration(envHorizon, &c.horizon)
	v.Int(envMaxBody, &c.maxBody)
	v.String(fnutil.EnvNATS, &c.natsURL)
	v.String(envBucket, &c.bucket)
	v.String(fnutil.EnvLabelSuffix, &c.labelSuffix)
	v.JSON(envFunctionDefaults, &c.defaults)
	v.Duration(envStaleAfter, &c.staleAfter)
	if err := v.Err(); err != nil {
		return c, err
	}
	var errs []error
	var err error
	if c.model, err = inference.ParseChoice(model, inference.DefaultReplicaChoice); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", envModel, err))
	}
	if model != "" {
		c.forecast = c.model
	}
	if c.forecast, err = inference.ParseChoice(forecast, c.forecast); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", envForecaster, err))
	}
	return c, errors.Join(append(errs, c.validate())...)
}

// validate says which setting is out of its range.
func (c config) validate() error {
	errs := []error{
		fnutil.DurationIn(envHorizon, c.horizon, minHorizon, maxHorizon),
		fnutil.IntIn(envMaxBody, c.maxBody, minMaxBody, maxMaxBody),
		fnutil.DurationIn(envStaleAfter, c.staleAfter, minStaleAfter, maxStaleAfter),
	}
	if err := c.defaults.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", envFunctionDefaults, err))
	}
	return errors.Join(errs...)
}
