package trace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Durations is one function's execution-time summary in milliseconds
// (the Azure 2019 durations format).
type Durations struct {
	Hash                             string
	Average, Count, Minimum, Maximum float64
	P0, P1, P25, P50, P75, P99, P100 float64
}

// Percentiles returns the (percentile, ms) knots P0..P100 in order.
func (d Durations) Percentiles() [][2]float64 {
	return [][2]float64{{0, d.P0}, {1, d.P1}, {25, d.P25}, {50, d.P50}, {75, d.P75}, {99, d.P99}, {100, d.P100}}
}

// ReadDurations reads an Azure 2019 durations file into a map keyed by HashFunction.
func ReadDurations(path string) (map[string]Durations, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open durations: %w", err)
	}
	defer f.Close()
	d, err := ParseDurations(f)
	if err != nil {
		return nil, fmt.Errorf("durations %s: %w", path, err)
	}
	return d, nil
}

// ParseDurations parses the Azure 2019 durations format.
func ParseDurations(r io.Reader) (map[string]Durations, error) {
	c := newCSV(r)
	header, err := c.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	names := []string{"HashFunction", "Average", "Count", "Minimum", "Maximum",
		"percentile_Average_0", "percentile_Average_1", "percentile_Average_25", "percentile_Average_50",
		"percentile_Average_75", "percentile_Average_99", "percentile_Average_100"}
	for _, n := range names {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("header lacks column %q", n)
		}
	}
	out := map[string]Durations{}
	err = eachRecord(c, len(header), func(line int, rec []string) error {
		v := make([]float64, len(names))
		for i, n := range names[1:] {
			hi := float64(MaxDurationMS)
			if n == "Count" {
				hi = MaxDurationsCount
			}
			x, err := parseBounded(n, rec[col[n]], hi)
			if err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			v[i+1] = x
		}
		h := rec[col["HashFunction"]]
		out[h] = Durations{Hash: h, Average: v[1], Count: v[2], Minimum: v[3], Maximum: v[4],
			P0: v[5], P1: v[6], P25: v[7], P50: v[8], P75: v[9], P99: v[10], P100: v[11]}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("durations file has no rows")
	}
	return out, nil
}
