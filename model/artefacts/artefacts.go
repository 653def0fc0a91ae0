package artefacts

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

// File names of the default artefacts.
const (
	SeedForest = "seed-forest.json"
	Forecaster = "forecaster.json"
)

//go:embed *.json
var files embed.FS

// Read returns one embedded artefact's bytes.
func Read(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("embedded artefact %s: %w", name, err)
	}
	return b, nil
}

// Names lists the embedded artefacts, sorted.
func Names() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}
