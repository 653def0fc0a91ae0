package decide_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/prescale/prescale/pkg/decide"
)

// The feature table is the one copy of the names: they are Features' JSON
// keys, in order, and Named, Value and ParseFeatures agree with JSON.
func TestFeatureNamesAreTheJSONKeys(t *testing.T) {
	typ := reflect.TypeOf(decide.Features{})
	var keys []string
	for i := 0; i < typ.NumField(); i++ {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	if got := decide.FeatureNames(); !reflect.DeepEqual(got, keys) {
		t.Fatalf("FeatureNames %v, Features' JSON keys %v", got, keys)
	}
	f := decide.Features{P50: 1, P90: 2, P99: 3, ErrorRate: 0.25, Status200: 5, Status500: 6, FailureRatio: 7,
		RPS: 8, InFlight: 9, ServiceTime: 10, Replicas: 11}
	var viaJSON map[string]float64
	b, _ := json.Marshal(f)
	if err := json.Unmarshal(b, &viaJSON); err != nil {
		t.Fatal(err)
	}
	if got := f.Named(); !reflect.DeepEqual(got, viaJSON) {
		t.Fatalf("Named %v, JSON %v", got, viaJSON)
	}
	for k, want := range viaJSON {
		if v, ok := f.Value(k); !ok || v != want {
			t.Errorf("Value(%q) = %v, %v; want %v", k, v, ok, want)
		}
	}
	if _, ok := f.Value("P50"); ok {
		t.Error("Value takes the canonical name only")
	}
	back, unknown, err := decide.ParseFeatures(b)
	if err != nil || len(unknown) != 0 || back != f {
		t.Fatalf("ParseFeatures(JSON of %+v) = %+v, %v, %v", f, back, unknown, err)
	}
	// The seed's spellings.
	seed, _, err := decide.ParseFeatures([]byte(`{"Latency P50":1,"Status200":5,"(Status500/Status200)+Status500":7,"requests_per_second":8,"mean_latency":10,"current_replicas":2.6}`))
	if err != nil || seed.P50 != 1 || seed.Status200 != 5 || seed.FailureRatio != 7 || seed.RPS != 8 || seed.ServiceTime != 10 || seed.Replicas != 3 {
		t.Fatalf("seed spellings: %+v %v", seed, err)
	}
}
