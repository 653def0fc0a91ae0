package sim

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/prescale/prescale/internal/trace"
)

// LoadOptions chooses what part of a trace to simulate.
type LoadOptions struct {
	// Durations is an Azure 2019 durations file; "" looks for the file
	// named like the trace with _durations.csv instead of _invocations.csv
	// (or _run.csv instead of _inv.csv, invitro's naming).
	Durations string
	// Functions keeps the N busiest functions (by total invocations); 0 = all.
	Functions int
	// From and Minutes select minutes [From, From+Minutes) of the trace
	// (0-based offsets); Minutes 0 = to the end.
	From, Minutes int
}

// Loaded is a trace ready to simulate.
type Loaded struct {
	Functions     []FunctionSpec
	Minutes       int
	WithDurations int    // functions whose service time comes from a durations row
	DurationsFile string // "" when none was used
}

// LoadTrace reads a trace (any format internal/trace reads) and the
// matching durations, keeps the requested functions and minutes, and gives
// functions without a durations row a fixed service time of defaultService.
func LoadTrace(path string, o LoadOptions, defaultService float64) (Loaded, error) {
	if o.Functions < 0 || o.From < 0 || o.Minutes < 0 {
		return Loaded{}, errors.New("functions, from and minutes must be >= 0")
	}
	fns, err := trace.Open(path)
	if err != nil {
		return Loaded{}, err
	}
	if len(fns) == 0 {
		return Loaded{}, fmt.Errorf("trace %s has no functions", path)
	}
	var durs map[string]trace.Durations
	var out Loaded
	dpath := o.Durations
	for _, sfx := range [][2]string{{"_invocations.csv", "_durations.csv"}, {"_inv.csv", "_run.csv"}} {
		if dpath == "" && strings.HasSuffix(path, sfx[0]) {
			cand := strings.TrimSuffix(path, sfx[0]) + sfx[1]
			if _, err := os.Stat(cand); err == nil {
				dpath = cand
			}
		}
	}
	if dpath != "" {
		if durs, err = trace.ReadDurations(dpath); err != nil {
			return Loaded{}, err
		}
		out.DurationsFile = dpath
	}
	for i := range fns {
		to := 0
		if o.Minutes > 0 {
			to = o.From + o.Minutes
		}
		if o.From >= len(fns[i].Counts) {
			return Loaded{}, fmt.Errorf("--from %d is past the trace's %d minutes", o.From, len(fns[i].Counts))
		}
		fns[i] = fns[i].Window(o.From, to)
	}
	if o.Functions > 0 && o.Functions < len(fns) {
		idx := make([]int, len(fns))
		tot := make([]float64, len(fns))
		for i := range fns {
			idx[i], tot[i] = i, fns[i].Total()
		}
		sort.SliceStable(idx, func(a, b int) bool { return tot[idx[a]] > tot[idx[b]] })
		keep := make([]trace.Function, o.Functions)
		for k := range keep {
			keep[k] = fns[idx[k]]
		}
		fns = keep
	}
	for i, f := range fns {
		name := f.Hash
		if name == "" {
			name = fmt.Sprintf("fn%d", i)
		}
		spec := FunctionSpec{Name: name, Counts: f.Counts, Service: FixedService(defaultService), Times: f.Times, Durations: f.Durations}
		if d, ok := durs[f.Hash]; ok && d.P100 > 0 {
			spec.Service = ServiceFromDurations(d)
			out.WithDurations++
		}
		out.Functions = append(out.Functions, spec)
		out.Minutes = max(out.Minutes, len(f.Counts))
	}
	return out, nil
}
