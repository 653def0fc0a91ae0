package inference

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/prescale/prescale/pkg/decide"
)

// ReplicaModel is the seed-style model: a standardised feature vector in, a
// replica count out (the original system's RandomForest behind /predict).
type ReplicaModel struct {
	art *Artefact
}

// ReplicaPrediction is one answer of a ReplicaModel.
type ReplicaPrediction struct {
	Replicas int     `json:"replicas"`
	Raw      float64 `json:"raw"` // the forest's output before rounding
	Model    string  `json:"model"`
	Version  string  `json:"version"`
}

// NewReplicaModel wraps a parsed artefact of kind replica-forest.
func NewReplicaModel(a *Artefact) (*ReplicaModel, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: nil artefact", ErrInvalid)
	}
	if err := a.Expect(KindReplicaForest, nil); err != nil {
		return nil, err
	}
	if a.Forest == nil {
		return nil, fmt.Errorf("%w %s: no forest", ErrInvalid, a.Name)
	}
	return &ReplicaModel{art: a}, nil
}

// LoadReplicaModel parses, validates and wraps artefact bytes.
func LoadReplicaModel(data []byte) (*ReplicaModel, error) {
	a, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return NewReplicaModel(a)
}

// Name is the model's name.
func (m *ReplicaModel) Name() string { return m.art.Name }

// Version is the model's content-addressed version.
func (m *ReplicaModel) Version() string { return m.art.Version }

// Features lists the input features in order.
func (m *ReplicaModel) Features() []string { return append([]string(nil), m.art.Features...) }

// Artefact returns the model's artefact (do not modify it).
func (m *ReplicaModel) Artefact() *Artefact { return m.art }

// PredictVector predicts from raw (unstandardised) features in Features() order.
func (m *ReplicaModel) PredictVector(x []float64) (ReplicaPrediction, error) {
	if err := checkInput(x, len(m.art.Features)); err != nil {
		return ReplicaPrediction{}, fmt.Errorf("model %s: %w", m.art.Version, err)
	}
	raw := m.art.Forest.Predict(m.art.Scaler.Standardise(x))
	if math.IsNaN(raw) || math.IsInf(raw, 0) {
		// Finite leaves can still sum past the float range.
		return ReplicaPrediction{}, fmt.Errorf("model %s: the forest's answer %v is not a finite number", m.art.Version, raw)
	}
	// Clamped before the conversion: a float beyond the int range has no
	// defined int value.
	n := int(math.Round(math.Min(math.Max(raw, 1), decide.MaxReplicasLimit)))
	return ReplicaPrediction{Replicas: n, Raw: raw, Model: m.art.Name, Version: m.art.Version}, nil
}

// PredictNamed predicts from a map of named features. Every feature the
// model needs must be present; the error lists the missing ones.
func (m *ReplicaModel) PredictNamed(features map[string]float64) (ReplicaPrediction, error) {
	x := make([]float64, len(m.art.Features))
	var missing []string
	for i, f := range m.art.Features {
		v, ok := features[f]
		if !ok {
			missing = append(missing, f)
			continue
		}
		x[i] = v
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return ReplicaPrediction{}, fmt.Errorf("model %s needs features %s; missing: %s", m.art.Version,
			strings.Join(m.art.Features, ", "), strings.Join(missing, ", "))
	}
	return m.PredictVector(x)
}
