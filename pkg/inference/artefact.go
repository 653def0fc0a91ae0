package inference

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// SchemaVersion is the artefact format this package reads and writes.
const SchemaVersion = 1

// Artefact kinds.
const (
	// KindReplicaForest is the seed-style model: feature vector → replicas.
	KindReplicaForest = "replica-forest"
	// KindForecaster is a demand forecaster: rate history → peak rate over a horizon.
	KindForecaster = "demand-forecaster"
)

// ErrInvalid is wrapped by every validation error, so callers can tell a bad
// artefact from an I/O problem.
var ErrInvalid = errors.New("invalid model artefact")

// Artefact is one versioned model file. Version is content-addressed
// (name plus a hash of the content) and Checksum covers everything else, so
// a byte changed anywhere is detected. There is deliberately no wall-clock
// timestamp: retraining on the same inputs gives a byte-identical file.
type Artefact struct {
	Schema   int      `json:"schema"`
	Kind     string   `json:"kind"`
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Features []string `json:"features"`
	// Scaler standardises the feature vector before the forest sees it.
	Scaler *Scaler `json:"scaler,omitempty"`
	// Training says how the artefact was made: inputs and their hashes,
	// the generator and the parameters.
	Training Training `json:"training"`
	// Metrics are the held-out figures computed at training time.
	Metrics map[string]float64 `json:"metrics"`
	// Forest is the tree ensemble of a replica-forest (or a forest-lags forecaster).
	Forest *Forest `json:"forest,omitempty"`
	// Forecaster is the demand forecaster's method and parameters.
	Forecaster *ForecasterSpec `json:"forecaster,omitempty"`
	Checksum   string          `json:"checksum"`
}

// Scaler is a standardisation x' = (x - Mean) / Std per feature.
type Scaler struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// Training is the provenance of an artefact.
type Training struct {
	// DataSHA256 is the sha256 over the inputs' hashes in order.
	DataSHA256 string            `json:"data_sha256"`
	Inputs     []Input           `json:"inputs"`
	Generator  string            `json:"generator,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
}

// Input is one training input file.
type Input struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Seal fills in Schema, Version and Checksum. Call it after every change
// and before Marshal.
func (a *Artefact) Seal() error {
	a.Schema = SchemaVersion
	a.Version, a.Checksum = "", ""
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("seal %s: %w", a.Name, err)
	}
	h := sha256.Sum256(body)
	a.Version = a.Name + "-" + hex.EncodeToString(h[:])[:12]
	sum, err := a.checksum()
	if err != nil {
		return err
	}
	a.Checksum = sum
	return nil
}

func (a *Artefact) checksum() (string, error) {
	c := *a
	c.Checksum = ""
	body, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", a.Name, err)
	}
	h := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(h[:]), nil
}

// Marshal writes the artefact as JSON with one top-level field per line
// (large values stay compact), deterministic for the same content.
func (a *Artefact) Marshal() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	compact, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", a.Name, err)
	}
	// Re-emit the compact object with a newline before each top-level key.
	dec := json.NewDecoder(bytes.NewReader(compact))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, fmt.Errorf("marshal %s: %w", a.Name, err)
	}
	var out bytes.Buffer
	out.WriteString("{")
	first := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", a.Name, err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("marshal %s: %w", a.Name, err)
		}
		key, _ := json.Marshal(tok)
		if !first {
			out.WriteString(",")
		}
		first = false
		out.WriteString("\n ")
		out.Write(key)
		out.WriteString(": ")
		out.Write(raw)
	}
	out.WriteString("\n}\n")
	return out.Bytes(), nil
}

// Parse decodes and validates an artefact. Unknown fields, a schema version
// other than SchemaVersion, non-finite numbers, a malformed forest and a
// checksum or version that does not match the content are all refused.
func Parse(data []byte) (*Artefact, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var a Artefact
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%w: decode: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &a, nil
}

// Validate checks schema, kind, features, numbers, structure, version and checksum.
func (a *Artefact) Validate() error {
	bad := func(format string, args ...any) error {
		name := a.Name
		if name == "" {
			name = "(unnamed)"
		}
		return fmt.Errorf("%w %s: %s", ErrInvalid, name, fmt.Sprintf(format, args...))
	}
	if a.Schema != SchemaVersion {
		return bad("schema version %d, this build reads only version %d", a.Schema, SchemaVersion)
	}
	if a.Name == "" {
		return bad("name is empty")
	}
	if len(a.Features) == 0 {
		return bad("feature list is empty")
	}
	seen := map[string]bool{}
	for _, f := range a.Features {
		if f == "" || seen[f] {
			return bad("feature list has an empty or repeated name %q", f)
		}
		seen[f] = true
	}
	for k, v := range a.Metrics {
		if !finite(v) {
			return bad("metric %q is not a finite number", k)
		}
	}
	if a.Scaler != nil {
		if len(a.Scaler.Mean) != len(a.Features) || len(a.Scaler.Std) != len(a.Features) {
			return bad("scaler has %d means and %d stds for %d features", len(a.Scaler.Mean), len(a.Scaler.Std), len(a.Features))
		}
		for i := range a.Features {
			if !finite(a.Scaler.Mean[i]) || !finite(a.Scaler.Std[i]) || a.Scaler.Std[i] <= 0 {
				return bad("scaler of feature %q: mean %v, std %v (need finite numbers, std > 0)", a.Features[i], a.Scaler.Mean[i], a.Scaler.Std[i])
			}
		}
	}
	switch a.Kind {
	case KindReplicaForest:
		if a.Forest == nil {
			return bad("kind %s has no forest", a.Kind)
		}
		if a.Forecaster != nil {
			return bad("kind %s must not carry a forecaster", a.Kind)
		}
		if err := a.Forest.validate(len(a.Features)); err != nil {
			return bad("forest: %v", err)
		}
	case KindForecaster:
		if a.Forecaster == nil {
			return bad("kind %s has no forecaster section", a.Kind)
		}
		if err := a.Forecaster.validate(); err != nil {
			return bad("forecaster: %v", err)
		}
		if a.Forecaster.Method == MethodForestLags {
			if a.Forest == nil {
				return bad("method %s needs a forest", MethodForestLags)
			}
			if err := a.Forest.validate(len(a.Features)); err != nil {
				return bad("forest: %v", err)
			}
			if strings.Join(a.Features, ",") != strings.Join(LagFeatureNames(), ",") {
				return bad("method %s needs features %v, the artefact lists %v", MethodForestLags, LagFeatureNames(), a.Features)
			}
		}
	default:
		return bad("unknown kind %q (want %s or %s)", a.Kind, KindReplicaForest, KindForecaster)
	}
	sum, err := a.checksum()
	if err != nil {
		return err
	}
	if a.Checksum != sum {
		return bad("checksum mismatch: the file says %q, the content hashes to %q (corrupt or edited)", a.Checksum, sum)
	}
	c := *a
	c.Version, c.Checksum = "", ""
	body, err := json.Marshal(&c)
	if err != nil {
		return bad("re-encode: %v", err)
	}
	h := sha256.Sum256(body)
	if want := a.Name + "-" + hex.EncodeToString(h[:])[:12]; a.Version != want {
		return bad("version %q does not match the content (want %q)", a.Version, want)
	}
	return nil
}

// Expect checks that an artefact is of the wanted kind and lists exactly the
// wanted features in order: a model trained on other features is refused.
func (a *Artefact) Expect(kind string, features []string) error {
	if a.Kind != kind {
		return fmt.Errorf("%w %s: kind %q, want %q", ErrInvalid, a.Name, a.Kind, kind)
	}
	if features != nil && strings.Join(a.Features, ",") != strings.Join(features, ",") {
		return fmt.Errorf("%w %s: features %v do not match the expected %v", ErrInvalid, a.Name, a.Features, features)
	}
	return nil
}

// Standardise applies the scaler (a copy; x is not modified).
func (s *Scaler) Standardise(x []float64) []float64 {
	out := append([]float64(nil), x...)
	if s == nil {
		return out
	}
	for i := range out {
		out[i] = (out[i] - s.Mean[i]) / s.Std[i]
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
