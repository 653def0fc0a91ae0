package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/prescale/prescale/internal/trace"
	"github.com/prescale/prescale/pkg/inference"
)

// Series is one function's per-minute request counts from a trace, with
// the time split: steps [0, Split) are training, the rest test.
type Series struct {
	Trace       string // trace file name
	Hash        string // function hash (or row name)
	Trigger     string
	FirstMinute int // minute of day of Counts[0] (1-based as in Azure 2019)
	Counts      []float64
	Split       int
}

// SeriesOptions selects which functions are forecast.
type SeriesOptions struct {
	// TrainShare is the share of each function's minutes used for training (time split).
	TrainShare float64
	// MinMeanPerMinute keeps functions whose training part averages at
	// least this many invocations per minute: functions an autoscaler acts on.
	MinMeanPerMinute float64
	// MinSteps drops traces shorter than this many minutes.
	MinSteps int
}

// DefaultSeriesOptions: 70/30 time split, functions averaging ≥ 1 invocation/minute.
func DefaultSeriesOptions() SeriesOptions {
	return SeriesOptions{TrainShare: 0.7, MinMeanPerMinute: 1, MinSteps: 60}
}

// InvocationFiles lists the per-minute invocation traces in dir, sorted.
func InvocationFiles(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "*_invocations.csv"))
	if err != nil {
		return nil, fmt.Errorf("list traces: %w", err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("no *_invocations.csv traces in %s", dir)
	}
	sort.Strings(m)
	return m, nil
}

// LoadSeries reads every trace file and keeps the eligible functions. It
// also returns each input file's hash for the artefacts' provenance.
func LoadSeries(files []string, opt SeriesOptions) ([]Series, []inference.Input, error) {
	if opt.TrainShare <= 0 || opt.TrainShare >= 1 {
		return nil, nil, fmt.Errorf("train share %v must be in (0, 1)", opt.TrainShare)
	}
	var out []Series
	var inputs []inference.Input
	for _, f := range files {
		in, err := HashFile(f)
		if err != nil {
			return nil, nil, err
		}
		inputs = append(inputs, in)
		fns, err := trace.Open(f)
		if err != nil {
			return nil, nil, err
		}
		base := filepath.Base(f)
		for i, fn := range fns {
			n := len(fn.Counts)
			if n < opt.MinSteps {
				continue
			}
			split := int(float64(n) * opt.TrainShare)
			var s float64
			for _, c := range fn.Counts[:split] {
				s += c
			}
			if s/float64(split) < opt.MinMeanPerMinute {
				continue
			}
			hash := fn.Hash
			if hash == "" {
				hash = fmt.Sprintf("row%d", i)
			}
			out = append(out, Series{Trace: base, Hash: hash, Trigger: fn.Trigger, FirstMinute: fn.FirstMinute,
				Counts: fn.Counts, Split: split})
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("no function in %d trace files is eligible (≥ %v/min over ≥ %d minutes)", len(files), opt.MinMeanPerMinute, opt.MinSteps)
	}
	return out, inputs, nil
}

// HashFile is an input's sha256 and size.
func HashFile(path string) (inference.Input, error) {
	f, err := os.Open(path)
	if err != nil {
		return inference.Input{}, fmt.Errorf("hash input: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return inference.Input{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return inference.Input{Name: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

// DataHash is the sha256 over the inputs' names and hashes, in order.
func DataHash(inputs []inference.Input) string {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "%s %s\n", in.Name, in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func shortTrace(name string) string {
	return strings.TrimSuffix(name, "_invocations.csv")
}
