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
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(fnutil.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, defaultConfig()) {
		t.Fatalf("empty environment: %+v, want the defaults %+v", c, defaultConfig())
	}
	if c.Gateway.String() != "http://gateway.openfaas:8080" || c.NATS != "nats://nats.openfaas:4222" ||
		c.policy.StaleAfter != 90*time.Second || c.reactive() || c.defaults != decide.DefaultSettings() {
		t.Fatalf("defaults %+v", c)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(fnutil.MapEnv(map[string]string{
		"gateway_url": "http://127.0.0.1:8080/", "NATS_URL": "nats://n:4222", "namespace": "fn",
		"metrics_label_suffix": ".openfaas-fn", "forecast_only": "true", "ce_clamp": "true",
		"stale_after": "120", "scaler_mode": "reactive", "function_defaults": `{"max":8,"tolerance":0.2}`,
		"mode": "http", // of-watchdog's, not the scaler's
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := decide.DefaultSettings()
	want.Max, want.Tolerance = 8, 0.2
	if c.Gateway.String() != "http://127.0.0.1:8080" || c.NATS != "nats://n:4222" || c.Namespace != "fn" ||
		c.labelSuffix != ".openfaas-fn" || !c.policy.ForecastOnly || !c.policy.CEClamp ||
		c.policy.StaleAfter != 2*time.Minute || !c.reactive() || c.defaults != want {
		t.Fatalf("config %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for key, tc := range map[string]struct{ value, want string }{
		"gateway_url":       {"gateway:8080", `gateway_url="gateway:8080": must be an absolute http(s) URL`},
		"forecast_only":     {"maybe", `forecast_only="maybe": must be true or false`},
		"stale_after":       {"0s", "stale_after=0s: must be a duration (e.g. 30s) or integer seconds in 1s..24h0m0s"},
		"scaler_mode":       {"psychic", `scaler_mode="psychic": must be predictive or reactive`},
		"function_defaults": {`{"min":9,"max":2}`, "function_defaults: replica bounds min 9, max 2"},
	} {
		t.Run(key, func(t *testing.T) {
			_, err := parseConfig(fnutil.MapEnv(map[string]string{key: tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s=%s: %v, want %q", key, tc.value, err, tc.want)
			}
		})
	}
	// Every bad setting is reported at once.
	_, err := parseConfig(fnutil.MapEnv(map[string]string{"stale_after": "never", "ce_clamp": "often"}))
	if err == nil || !strings.Contains(err.Error(), "stale_after") || !strings.Contains(err.Error(), "ce_clamp") {
		t.Fatalf("two bad settings: %v", err)
	}
}

// The chart's prescale-settings Secret, mounted at
// $secret_mount_path/settings.json, configures the scaler; the environment
// overrides it.
func TestLoadConfigReadsSettingsFile(t *testing.T) {
	dir := t.TempDir()
	body := `{"NATS_URL":"nats://prescale-nats.openfaas.svc:4222","metrics_label_suffix":".openfaas-fn",
		"function_defaults":{"enabled":false,"min":1,"max":4,"capacity":{"target_concurrency":1,"target_rps":0,"default_service_time":0.1},
		"tolerance":0.1,"stabilization":120000000000,"forecast_only":false}}`
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("secret_mount_path", dir)
	t.Setenv("metrics_label_suffix", ".other")
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS != "nats://prescale-nats.openfaas.svc:4222" || c.labelSuffix != ".other" ||
		c.defaults.Max != 4 || c.defaults.Stabilization != 2*time.Minute {
		t.Fatalf("config %+v", c)
	}
}
