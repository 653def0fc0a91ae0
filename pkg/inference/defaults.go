package inference

import "github.com/prescale/prescale/model/artefacts"

// DefaultReplicaModel loads the embedded default seed-style model.
func DefaultReplicaModel() (*ReplicaModel, error) {
	b, err := artefacts.Read(artefacts.SeedForest)
	if err != nil {
		return nil, err
	}
	return LoadReplicaModel(b)
}

// DefaultForecaster loads the embedded default demand forecaster.
func DefaultForecaster() (*Forecaster, error) {
	b, err := artefacts.Read(artefacts.Forecaster)
	if err != nil {
		return nil, err
	}
	return LoadForecaster(b)
}

// Defaults loads both embedded defaults.
func Defaults() (Set, error) {
	r, err := DefaultReplicaModel()
	if err != nil {
		return Set{}, err
	}
	f, err := DefaultForecaster()
	if err != nil {
		return Set{}, err
	}
	return Set{Replica: r, Forecaster: f}, nil
}
