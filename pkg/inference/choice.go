package inference

import (
	"fmt"
	"strings"

	"github.com/prescale/prescale/pkg/decide"
)

// The model choices, the one registry of names the predictor (env "model"
// and "forecaster") and the simulator (`prescale sim --prescale-forecaster`)
// read.
const (
	// ChoiceTrained is the trained artefacts of model/artefacts: the
	// prescale-peak demand forecaster and the seed-forest replica model.
	ChoiceTrained = "trained"
	// ChoiceBuiltin is pkg/decide's built-in models, which need no
	// training: the holt-peak forecaster and the capacity-rules replica model.
	ChoiceBuiltin = "builtin"
)

// DefaultForecasterChoice is the forecaster the predictor serves and the
// benchmark's prescale row measures, unless told otherwise. HoltPeak: on
// the benchmark it gives the trained prescale-peak's cold starts (bench/NOTES.md)
// at a seconds-scale control period, where the per-minute trained model
// cannot see a ramp coming; see README, "Predictor models".
const DefaultForecasterChoice = ChoiceBuiltin

// DefaultReplicaChoice is the model that answers a seed-style feature vector.
const DefaultReplicaChoice = ChoiceTrained

// ParseChoice resolves a model or forecaster name, or one of its aliases
// (the model names themselves), to ChoiceTrained or ChoiceBuiltin; empty
// means def.
func ParseChoice(name, def string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "":
		return def, nil
	case ChoiceTrained, "prescale-peak", "seed-forest":
		return ChoiceTrained, nil
	case ChoiceBuiltin, "holt-peak", "capacity-rules":
		return ChoiceBuiltin, nil
	}
	return "", fmt.Errorf("model %q: known models are %s (prescale-peak + seed-forest, from model/artefacts) and %s (holt-peak + capacity-rules)", name, ChoiceTrained, ChoiceBuiltin)
}

// Pick returns the models of a choice from the set (forecaster and replica
// model may be chosen apart). A trained model the set lacks is replaced by
// the built-in one, with a note saying so and why (unavailable: the reason
// no artefact loaded, or empty).
func (s Set) Pick(forecaster, replica, unavailable string) (decide.Forecaster, decide.ReplicaModel, []string) {
	var f decide.Forecaster = decide.DefaultHoltPeak()
	var r decide.ReplicaModel = decide.DefaultCapacityRules()
	var notes []string
	if unavailable == "" {
		unavailable = "no artefact loaded"
	}
	if forecaster == ChoiceTrained {
		if s.Forecaster != nil {
			f = s.Forecaster
		} else {
			notes = append(notes, "fallback: trained forecaster unavailable ("+unavailable+"); holt-peak answers")
		}
	}
	if replica == ChoiceTrained {
		if s.Replica != nil {
			r = s.Replica
		} else {
			notes = append(notes, "fallback: trained replica model unavailable ("+unavailable+"); capacity-rules answers")
		}
	}
	return f, r, notes
}
