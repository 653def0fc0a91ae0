package decide

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Features is the original system's feature vector plus what prescale adds.
// Latencies are seconds; counts are per interval.
type Features struct {
	P50          float64 `json:"p50"`
	P90          float64 `json:"p90"`
	P99          float64 `json:"p99"`
	ErrorRate    float64 `json:"error_rate"`
	Status200    float64 `json:"status_200"`
	Status500    float64 `json:"status_500"`
	FailureRatio float64 `json:"failure_ratio"` // (Status500/Status200)+Status500

	RPS         float64 `json:"rps"`
	InFlight    float64 `json:"in_flight"`
	ServiceTime float64 `json:"service_time"` // mean latency, seconds
	Replicas    int     `json:"replicas"`
}

// FeaturesOf extracts the feature vector of one sample.
func FeaturesOf(s Sample) Features {
	return Features{
		P50: s.P50, P90: s.P90, P99: s.P99,
		ErrorRate: s.ErrorRate, Status200: s.Status200, Status500: s.Status500,
		FailureRatio: s.FailureRatio(),
		RPS:          s.RPS, InFlight: s.InFlight, ServiceTime: s.MeanLatency,
		Replicas: s.Replicas,
	}
}

// feature is one feature: its name (Features' JSON key), other spellings
// ParseFeatures accepts (the seed's), and its accessors.
type feature struct {
	name    string
	aliases []string // matched after normaliseKey, as the name is
	get     func(Features) float64
	set     func(*Features, float64)
}

// features is the one table of feature names, in FeatureNames' order.
var features = []feature{
	{"p50", []string{"latency_p50"}, func(f Features) float64 { return f.P50 }, func(f *Features, v float64) { f.P50 = v }},
	{"p90", []string{"latency_p90"}, func(f Features) float64 { return f.P90 }, func(f *Features, v float64) { f.P90 = v }},
	{"p99", []string{"latency_p99"}, func(f Features) float64 { return f.P99 }, func(f *Features, v float64) { f.P99 = v }},
	{"error_rate", nil, func(f Features) float64 { return f.ErrorRate }, func(f *Features, v float64) { f.ErrorRate = v }},
	{"status_200", nil, func(f Features) float64 { return f.Status200 }, func(f *Features, v float64) { f.Status200 = v }},
	{"status_500", nil, func(f Features) float64 { return f.Status500 }, func(f *Features, v float64) { f.Status500 = v }},
	{"failure_ratio", []string{"(Status500/Status200)+Status500", "(status500/status200) plus status500"},
		func(f Features) float64 { return f.FailureRatio }, func(f *Features, v float64) { f.FailureRatio = v }},
	{"rps", []string{"requests_per_second"}, func(f Features) float64 { return f.RPS }, func(f *Features, v float64) { f.RPS = v }},
	{"in_flight", nil, func(f Features) float64 { return f.InFlight }, func(f *Features, v float64) { f.InFlight = v }},
	{"service_time", []string{"mean_latency"}, func(f Features) float64 { return f.ServiceTime }, func(f *Features, v float64) { f.ServiceTime = v }},
	{"replicas", []string{"current_replicas"}, func(f Features) float64 { return float64(f.Replicas) },
		func(f *Features, v float64) { f.Replicas = int(math.Round(v)) }},
}

// FeatureNames are the features' names (Features' JSON keys), the names
// trained artefacts and training data use.
func FeatureNames() []string {
	out := make([]string, len(features))
	for i, ft := range features {
		out[i] = ft.name
	}
	return out
}

// Value is the named feature's value (a name as FeatureNames gives it).
func (f Features) Value(name string) (float64, bool) {
	for _, ft := range features {
		if ft.name == name {
			return ft.get(f), true
		}
	}
	return 0, false
}

// Named is every feature by name.
func (f Features) Named() map[string]float64 {
	out := make(map[string]float64, len(features))
	for _, ft := range features {
		out[ft.name] = ft.get(f)
	}
	return out
}

// lookupFeature finds a feature by any spelling, case and punctuation
// ignored ("Status200", "status_200", "(Status500/Status200)+Status500", …).
func lookupFeature(key string) (feature, bool) {
	nk := normaliseKey(key)
	for _, ft := range features {
		if normaliseKey(ft.name) == nk {
			return ft, true
		}
		for _, a := range ft.aliases {
			if normaliseKey(a) == nk {
				return ft, true
			}
		}
	}
	return feature{}, false
}

func normaliseKey(k string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		switch r {
		case '_', '-', ' ', '(', ')', '/', '+', '.':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrNoFeatures means a feature vector named none of the known features.
var ErrNoFeatures = errors.New("no known feature in the vector")

// ParseFeatures decodes a seed-style JSON feature vector, e.g.
// {"p50":0.02,"p90":0.05,"p99":0.1,"error_rate":0,"status_200":100,"status_500":0}.
// Keys are matched case- and punctuation-insensitively; unknown keys are
// returned so the caller can report them; a non-numeric or negative value
// (or replicas above MaxReplicasLimit) is an error naming the key. A missing failure ratio is computed.
func ParseFeatures(body []byte) (Features, []string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return Features{}, nil, fmt.Errorf("feature vector is not a JSON object: %w", err)
	}
	var f Features
	var unknown []string
	known, haveRatio := 0, false
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, ok := lookupFeature(k)
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		var v float64
		if err := json.Unmarshal(raw[k], &v); err != nil {
			return Features{}, unknown, fmt.Errorf("feature %q must be a number: %w", k, err)
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return Features{}, unknown, fmt.Errorf("feature %q must be a finite number >= 0, got %v", k, v)
		}
		if ft.name == "replicas" && v > MaxReplicasLimit {
			return Features{}, unknown, fmt.Errorf("feature %q must be a replica count in 0..%d, got %v", k, MaxReplicasLimit, v)
		}
		ft.set(&f, v)
		known++
		haveRatio = haveRatio || ft.name == "failure_ratio"
	}
	if known == 0 {
		return Features{}, unknown, ErrNoFeatures
	}
	if !haveRatio {
		f.FailureRatio = Sample{Status200: f.Status200, Status500: f.Status500}.FailureRatio()
	}
	return f, unknown, nil
}

// ServiceTime estimates the service time (seconds) from history: the
// lowest per-interval mean latency among the newest samples that served
// requests (up to window of them; window <= 0 means all). The gateway's
// latency includes the time a request queued for a busy or starting
// replica, so a congested interval's mean grows with the queue; the least
// congested interval of the window is the best estimate of the work itself,
// and the capacity model is not inflated by its own backlog (the backlog is
// counted by the in-flight term of the reactive need). A real increase of
// the service time is picked up once the faster intervals leave the window.
// An interval that began with no ready replica (the sample before it saw
// none: the function was at zero) measures a cold start, not the work, and
// is skipped: for a sparse function scaled to zero every serving interval
// may be one, and its latency would make one call a second look like load
// for several replicas. (Only when the history reports ready replicas at
// all: a source without them counts every interval.) fallback is returned
// when no sample counts.
func ServiceTime(history []Sample, window int, fallback float64) float64 {
	if window <= 0 {
		window = len(history)
	}
	reportsReady := false
	for _, s := range history {
		if s.AvailableReplicas > 0 {
			reportsReady = true
			break
		}
	}
	best, n := math.Inf(1), 0
	for i := len(history) - 1; i >= 0 && n < window; i-- {
		if reportsReady && i > 0 && history[i-1].AvailableReplicas == 0 {
			continue // began at zero ready replicas: a cold start's wait
		}
		if s := history[i]; s.MeanLatency > 0 && !math.IsNaN(s.MeanLatency) {
			best = math.Min(best, s.MeanLatency)
			n++
		}
	}
	if n == 0 {
		return fallback
	}
	return best
}
