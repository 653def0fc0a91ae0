package function

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/inference"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(fnutil.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, defaultConfig()) {
		t.Fatalf("empty environment: %+v, want the defaults %+v", c, defaultConfig())
	}
	if c.model != inference.ChoiceTrained || c.forecast != inference.DefaultForecasterChoice || c.horizon != 30*time.Second || c.maxBody != 1<<20 ||
		c.natsURL != "" || c.bucket != inference.DefaultBucket || c.defaults != decide.DefaultSettings() || c.staleAfter != 90*time.Second {
		t.Fatalf("defaults %+v", c)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(fnutil.MapEnv(map[string]string{
		"model": "trained", "forecaster": "holt-peak", "horizon": "45", "max_body": "2048",
		"NATS_URL": "nats://n:4222", "model_bucket": "b", "metrics_label_suffix": ".openfaas-fn",
		"function_defaults": `{"max":3}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.model != inference.ChoiceTrained || c.forecast != inference.ChoiceBuiltin || c.horizon != 45*time.Second || c.maxBody != 2048 ||
		c.natsURL != "nats://n:4222" || c.bucket != "b" || c.labelSuffix != ".openfaas-fn" || c.defaults.Max != 3 {
		t.Fatalf("config %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for key, tc := range map[string]struct{ value, want string }{
		"model":             {"crystal-ball", `model: model "crystal-ball": known models are trained`},
		"forecaster":        {"tea-leaves", `forecaster: model "tea-leaves"`},
		"horizon":           {"2h", "horizon=2h0m0s: must be a duration (e.g. 30s) or integer seconds in 1s..1h0m0s"},
		"max_body":          {"10", "max_body=10: must be an integer in 1024..67108864"},
		"stale_after":       {"0s", "stale_after=0s: must be a duration (e.g. 30s) or integer seconds in 1s..24h0m0s"},
		"function_defaults": {`{"tolerance":2}`, "function_defaults: tolerance 2: must be in [0,0.9]"},
	} {
		t.Run(key, func(t *testing.T) {
			_, err := parseConfig(fnutil.MapEnv(map[string]string{key: tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s=%s: %v, want %q", key, tc.value, err, tc.want)
			}
		})
	}
}

// The chart's settings file configures the predictor; the environment overrides it.
func TestReadConfigReadsSettingsFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(`{"horizon":"20s","model_bucket":"from-file","max_body":4096}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("secret_mount_path", dir)
	t.Setenv("max_body", "8192")
	src := &modelSource{watcher: inference.NewWatcher(inference.Set{}, nil), loadErr: inference.ErrInvalid}
	c, err := readConfig(func(string, string) *modelSource { return src })
	if err != nil {
		t.Fatal(err)
	}
	if c.horizon != 20*time.Second || c.bucket != "from-file" || c.maxBody != 8192 || c.forecaster == nil {
		t.Fatalf("config %+v", c)
	}
}

// function_defaults are the settings under the payload's labels: the
// settings file's min raises the recommendation, as it does the scaler's.
func TestFunctionDefaultsReachTheRecommendation(t *testing.T) {
	t.Setenv("model", "builtin")
	before := decodePrediction(t, asRes(t, rampPayload(t)))
	if before.Replicas >= 7 {
		t.Fatalf("without defaults the ramp already gets %d replicas", before.Replicas)
	}
	t.Setenv("function_defaults", `{"min":7,"max":8}`) // the labels raise max to 10
	after := decodePrediction(t, asRes(t, rampPayload(t)))
	if after.Replicas != 7 {
		t.Fatalf("with function_defaults min 7: %d replicas, want 7 (reasons %q)", after.Replicas, after.Reasons)
	}
}
