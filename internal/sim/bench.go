package sim

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteOutputs writes <name>.csv, <name>.md and <name>.png into dir.
func WriteOutputs(dir, name string, rows []Row) error {
	var md, csvb bytes.Buffer
	if err := Table(&md, rows); err != nil {
		return err
	}
	if err := WriteCSV(&csvb, rows); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".md"), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".csv"), csvb.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return Plot(filepath.Join(dir, name+".png"), name, rows)
}

// BenchOptions configures Bench.
type BenchOptions struct {
	TraceDir, OutDir string
	Config           Config
	Policies         []Policy
	Variants         []Policy // extra prescale configurations for the sensitivity table
	Scale            bool
	PrescaleNote     string
	Log              io.Writer
}
