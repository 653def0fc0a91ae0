package model

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/source"
)

// SeedFeatures are the seed-parity model's inputs, named as decide.Features'
// JSON keys: the original system's set (latency percentiles, error rate,
// status-200/500 counts and (Status500/Status200)+Status500) plus rps,
// in-flight requests and current replicas.
func SeedFeatures() []string {
	return []string{"p50", "p90", "p99", "error_rate", "status_200", "status_500", "failure_ratio", "rps", "in_flight", "replicas"}
}

// OriginalFeatures is the original system's feature set alone.
func OriginalFeatures() []string { return SeedFeatures()[:7] }

// Response is one request's outcome in a load window: latency in seconds
// and HTTP status, as hey reports it.
type Response = source.HeyResponse

// Window is one load window of a sweep: offered rate × replicas, its
// measured features and its label.
type Window struct {
	Rate     float64 // offered requests per second
	Replicas int
	Repeat   int

	P50, P90, P99 float64 // seconds
	MeanLatency   float64
	ErrorRate     float64
	Status200     float64
	Status500     float64
	FailureRatio  float64
	RPS           float64
	InFlight      float64

	// Label is the fewest replicas that met the SLO at this offered rate.
	Label int
}

// Features is the window's feature vector (decide.Features).
func (w Window) Features() decide.Features {
	return decide.Features{
		P50: w.P50, P90: w.P90, P99: w.P99,
		ErrorRate: w.ErrorRate, Status200: w.Status200, Status500: w.Status500, FailureRatio: w.FailureRatio,
		RPS: w.RPS, InFlight: w.InFlight, ServiceTime: w.MeanLatency, Replicas: w.Replicas,
	}
}

// Vector returns the window's values of the named features
// (decide.FeatureNames).
func (w Window) Vector(names []string) ([]float64, error) {
	f := w.Features()
	out := make([]float64, len(names))
	for i, n := range names {
		v, ok := f.Value(n)
		if !ok {
			return nil, fmt.Errorf("unknown feature %q (known: %v)", n, decide.FeatureNames())
		}
		out[i] = v
	}
	return out, nil
}

// Measure fills a window's features from its responses over seconds of
// load; inFlight is the number of requests in the system at the end.
func Measure(w *Window, rs []Response, seconds, inFlight float64) {
	lat := make([]float64, len(rs))
	var sum float64
	w.Status200, w.Status500 = 0, 0
	for i, r := range rs {
		lat[i] = r.Latency
		sum += r.Latency
		if r.Status >= 200 && r.Status < 300 {
			w.Status200++
		} else {
			w.Status500++
		}
	}
	sort.Float64s(lat)
	w.P50, w.P90, w.P99 = quantile(lat, 0.5), quantile(lat, 0.9), quantile(lat, 0.99)
	if len(rs) > 0 {
		w.MeanLatency = sum / float64(len(rs))
		w.ErrorRate = w.Status500 / float64(len(rs))
	}
	ok := w.Status200
	if ok == 0 {
		ok = 1
	}
	w.FailureRatio = w.Status500/ok + w.Status500
	w.RPS = float64(len(rs)) / seconds
	w.InFlight = inFlight
}

// quantile of sorted values, linear interpolation (numpy's default).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// SLO is the latency objective that labels windows.
type SLO struct {
	P99      float64 `json:"p99_seconds"`    // 99th-percentile latency at most this
	MaxError float64 `json:"max_error_rate"` // error rate at most this
}

// DefaultSLO: p99 ≤ 500 ms and at most 1% errors.
func DefaultSLO() SLO { return SLO{P99: 0.5, MaxError: 0.01} }

// Meets says whether a window met the SLO.
func (s SLO) Meets(w Window) bool { return w.P99 <= s.P99 && w.ErrorRate <= s.MaxError }

// Label sets every window's label: for its offered rate, the fewest
// replicas whose windows met the SLO in the majority of repeats; the
// largest replica count swept when none did (the sweep's ceiling).
func Label(ws []Window, slo SLO) {
	type key struct {
		rate float64
		reps int
	}
	met, total := map[key]int{}, map[key]int{}
	maxReps := 0
	for _, w := range ws {
		k := key{w.Rate, w.Replicas}
		total[k]++
		if slo.Meets(w) {
			met[k]++
		}
		maxReps = max(maxReps, w.Replicas)
	}
	best := map[float64]int{}
	for k, n := range total {
		if 2*met[k] > n {
			if b, ok := best[k.rate]; !ok || k.reps < b {
				best[k.rate] = k.reps
			}
		}
	}
	for i := range ws {
		if b, ok := best[ws[i].Rate]; ok {
			ws[i].Label = b
		} else {
			ws[i].Label = maxReps
		}
	}
}

func csvHeader() []string {
	return []string{"rate", "replicas", "repeat", "p50", "p90", "p99", "mean_latency", "error_rate",
		"status_200", "status_500", "failure_ratio", "rps", "in_flight", "label"}
}

// WriteCSV writes the windows (deterministic formatting).
func WriteCSV(w io.Writer, ws []Window) error {
	c := csv.NewWriter(w)
	if err := c.Write(csvHeader()); err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	for _, x := range ws {
		rec := []string{f(x.Rate), strconv.Itoa(x.Replicas), strconv.Itoa(x.Repeat), f(x.P50), f(x.P90), f(x.P99),
			f(x.MeanLatency), f(x.ErrorRate), f(x.Status200), f(x.Status500), f(x.FailureRatio), f(x.RPS), f(x.InFlight),
			strconv.Itoa(x.Label)}
		if err := c.Write(rec); err != nil {
			return fmt.Errorf("write dataset: %w", err)
		}
	}
	c.Flush()
	if err := c.Error(); err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	return nil
}

// maxDatasetCount bounds a dataset's whole-number columns (replicas,
// repeat, label): a float beyond the int range has no defined int value.
const maxDatasetCount = 1_000_000

// ReadCSV reads a dataset written by WriteCSV.
func ReadCSV(r io.Reader) ([]Window, error) {
	c := csv.NewReader(r)
	recs, err := c.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read dataset: %w", err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("dataset has no rows")
	}
	header := csvHeader()
	for i, h := range header {
		if i >= len(recs[0]) || recs[0][i] != h {
			return nil, fmt.Errorf("dataset header %v, want %v", recs[0], header)
		}
	}
	var out []Window
	for li, rec := range recs[1:] {
		if len(rec) != len(header) {
			return nil, fmt.Errorf("dataset line %d has %d columns, want %d", li+2, len(rec), len(header))
		}
		v := make([]float64, len(header))
		for i := range header {
			x, err := strconv.ParseFloat(rec[i], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				return nil, fmt.Errorf("dataset line %d column %s: %q is not a finite number >= 0", li+2, header[i], rec[i])
			}
			v[i] = x
		}
		for _, i := range []int{1, 2, 13} { // replicas, repeat, label: whole numbers
			if v[i] != math.Trunc(v[i]) || v[i] > maxDatasetCount {
				return nil, fmt.Errorf("dataset line %d column %s: %q is not a whole number in 0..%d", li+2, header[i], rec[i], maxDatasetCount)
			}
		}
		out = append(out, Window{Rate: v[0], Replicas: int(v[1]), Repeat: int(v[2]), P50: v[3], P90: v[4], P99: v[5],
			MeanLatency: v[6], ErrorRate: v[7], Status200: v[8], Status500: v[9], FailureRatio: v[10], RPS: v[11],
			InFlight: v[12], Label: int(v[13])})
	}
	return out, nil
}

// Manifest says how a dataset was generated.
type Manifest struct {
	Generator   string            `json:"generator"` // "queue-model" or "plugin-live"
	Description string            `json:"description"`
	Params      map[string]string `json:"params"`
	SLO         SLO               `json:"slo"`
	Windows     int               `json:"windows"`
	Machine     string            `json:"machine"`
	Date        string            `json:"date"`
	CSV         string            `json:"csv"`
	CSVSHA256   string            `json:"csv_sha256"`
}

// WriteDataset writes dataset.csv and manifest.json into dir.
func WriteDataset(dir string, ws []Window, m Manifest) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dataset dir: %w", err)
	}
	p := filepath.Join(dir, "dataset.csv")
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if err := WriteCSV(f, ws); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	in, err := HashFile(p)
	if err != nil {
		return err
	}
	m.Windows, m.CSV, m.CSVSHA256 = len(ws), "dataset.csv", in.SHA256
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// ReadDataset reads dir/dataset.csv and dir/manifest.json.
func ReadDataset(dir string) ([]Window, Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, m, fmt.Errorf("dataset manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, m, fmt.Errorf("dataset manifest %s: %w", dir, err)
	}
	f, err := os.Open(filepath.Join(dir, "dataset.csv"))
	if err != nil {
		return nil, m, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	ws, err := ReadCSV(f)
	return ws, m, err
}
