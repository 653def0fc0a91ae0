package artefacts

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEmbeddedDefaults(t *testing.T) {
	names := Names()
	for _, want := range []string{SeedForest, Forecaster} {
		b, err := Read(want)
		if err != nil {
			t.Fatalf("%s: %v (embedded: %v)", want, err, names)
		}
		var head struct {
			Schema  int    `json:"schema"`
			Kind    string `json:"kind"`
			Version string `json:"version"`
		}
		if err := json.Unmarshal(b, &head); err != nil || head.Schema != 1 || head.Kind == "" || head.Version == "" {
			t.Fatalf("%s: %+v, %v", want, head, err)
		}
	}
	if _, err := Read("nope.json"); err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Fatalf("missing artefact: %v", err)
	}
}
