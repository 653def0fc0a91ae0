package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/faas"
)

// The real gateway's metric names (OpenFaaS CE gateway/metrics).
const (
	MetricInvocations = "gateway_function_invocation_total"
	MetricSeconds     = "gateway_functions_seconds"
	MetricStarted     = "gateway_function_invocation_started"
	MetricReplicas    = "gateway_service_count"
)

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	UpperBound float64 `json:"le"`
	Count      float64 `json:"count"`
}

// Snapshot is one function's gateway counters at one instant.
type Snapshot struct {
	At      time.Time          `json:"at"`
	Codes   map[string]float64 `json:"codes"` // invocations by status code
	Started float64            `json:"started"`
	Count   float64            `json:"count"` // histogram sample count, all codes
	Sum     float64            `json:"sum"`   // histogram sum (seconds), all codes
	Buckets []Bucket           `json:"buckets,omitempty"`
	// Replicas is gateway_service_count; -1 when the gateway did not report it.
	Replicas float64 `json:"replicas"`
}

// Completed is the total of invocations over all codes.
func (s Snapshot) Completed() float64 {
	var n float64
	for _, v := range s.Codes {
		n += v
	}
	return n
}

// MaxMetricValue bounds every gateway counter, gauge, histogram sum and
// bucket count ParseMetrics accepts: 1e15 (a million requests a second
// for 30 years), so sums over codes and deltas stay finite.
const MaxMetricValue = 1e15

// ErrMetrics is wrapped by ParseMetrics' errors.
var ErrMetrics = errors.New("invalid metrics exposition")

// ParseMetrics reads a Prometheus text exposition and returns each
// function's snapshot, keyed by the function_name label as exposed
// (e.g. "hello-python" or "hello-python.openfaas-fn"). A gateway metric
// whose value is NaN, infinite, negative or above MaxMetricValue (or a
// latency bucket bound that is negative or NaN) is an error naming the
// metric and the function.
func ParseMetrics(r io.Reader, at time.Time) (map[string]Snapshot, error) {
	fams, err := ParseText(r)
	if err != nil {
		return nil, err
	}
	if err := checkMetrics(fams); err != nil {
		return nil, err
	}
	out := map[string]Snapshot{}
	get := func(fn string) Snapshot {
		s, ok := out[fn]
		if !ok {
			s = Snapshot{At: at, Codes: map[string]float64{}, Replicas: -1}
		}
		return s
	}
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	if f := fams[MetricInvocations]; f != nil {
		for _, m := range f.GetMetric() {
			fn := label(m, "function_name")
			if fn == "" {
				continue
			}
			s := get(fn)
			s.Codes[label(m, "code")] += value(m)
			out[fn] = s
		}
	}
	if f := fams[MetricStarted]; f != nil {
		for _, m := range f.GetMetric() {
			if fn := label(m, "function_name"); fn != "" {
				s := get(fn)
				s.Started += value(m)
				out[fn] = s
			}
		}
	}
	if f := fams[MetricReplicas]; f != nil {
		for _, m := range f.GetMetric() {
			if fn := label(m, "function_name"); fn != "" {
				s := get(fn)
				s.Replicas = value(m)
				out[fn] = s
			}
		}
	}
	if f := fams[MetricSeconds]; f != nil {
		for _, m := range f.GetMetric() {
			fn := label(m, "function_name")
			h := m.GetHistogram()
			if fn == "" || h == nil {
				continue
			}
			s := get(fn)
			s.Count += float64(h.GetSampleCount())
			s.Sum += h.GetSampleSum()
			s.Buckets = mergeBuckets(s.Buckets, h.GetBucket())
			out[fn] = s
		}
	}
	return out, nil
}

// ParseText parses a Prometheus text exposition into metric families; its
// errors wrap ErrMetrics. It is the one place prescale calls expfmt's text
// parser, which panics (nil dereference in startLabelName, prometheus/common
// v0.65.0) on a label block with no metric name after a comment line
// ("#…\n{}0", found by FuzzParseMetrics): the panic is turned into an error.
func ParseText(r io.Reader) (fams map[string]*dto.MetricFamily, err error) {
	defer func() {
		if v := recover(); v != nil {
			fams, err = nil, fmt.Errorf("%w: the text parser failed on malformed input: %v", ErrMetrics, v)
		}
	}()
	var p expfmt.TextParser
	fams, err = p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetrics, err)
	}
	return fams, nil
}

// checkMetrics bounds the values of the gateway's metric families.
func checkMetrics(fams map[string]*dto.MetricFamily) error {
	for _, name := range []string{MetricInvocations, MetricStarted, MetricReplicas, MetricSeconds} {
		f := fams[name]
		if f == nil {
			continue
		}
		for _, m := range f.GetMetric() {
			fn := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "function_name" {
					fn = l.GetValue()
				}
			}
			bad := func(what string, v float64) error {
				return fmt.Errorf("%w: %s{function_name=%q} %s %v: want a finite number in 0..%g", ErrMetrics, name, fn, what, v, MaxMetricValue)
			}
			ok := func(v float64) bool { return v >= 0 && v <= MaxMetricValue } // false for NaN
			if v := value(m); !ok(v) {
				return bad("value", v)
			}
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			if !ok(h.GetSampleSum()) {
				return bad("sum", h.GetSampleSum())
			}
			if !ok(float64(h.GetSampleCount())) {
				return bad("count", float64(h.GetSampleCount()))
			}
			for _, b := range h.GetBucket() {
				if !ok(float64(b.GetCumulativeCount())) {
					return bad("bucket count", float64(b.GetCumulativeCount()))
				}
				if le := b.GetUpperBound(); math.IsNaN(le) || le < 0 {
					return bad("bucket bound le", le)
				}
			}
		}
	}
	return nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

func mergeBuckets(acc []Bucket, bs []*dto.Bucket) []Bucket {
	byLE := map[float64]float64{}
	for _, b := range acc {
		byLE[b.UpperBound] += b.Count
	}
	for _, b := range bs {
		byLE[b.GetUpperBound()] += float64(b.GetCumulativeCount())
	}
	out := make([]Bucket, 0, len(byLE))
	for le, c := range byLE {
		if math.IsInf(le, 1) {
			continue // the sample count is the +Inf bucket
		}
		out = append(out, Bucket{UpperBound: le, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpperBound < out[j].UpperBound })
	return out
}

// Lookup finds a function's snapshot by name, accepting the namespaced
// label form "name.namespace" too (faas.SplitName); when several namespaces
// hold the name, the first label in sort order.
func Lookup(snaps map[string]Snapshot, function string) (Snapshot, bool) {
	if s, ok := snaps[function]; ok {
		return s, true
	}
	found := ""
	for k := range snaps {
		if base, ns := faas.SplitName(k); ns != "" && base == function && (found == "" || k < found) {
			found = k
		}
	}
	if found == "" {
		return Snapshot{}, false
	}
	return snaps[found], true
}

// Delta turns two snapshots of one function into a sample of the interval
// between them. A counter that went down (gateway restart) counts from zero.
// prev.At zero means no baseline: the sample has Interval 0 and no rates.
func Delta(function string, prev, cur Snapshot) decide.Sample {
	s := decide.Sample{Function: function, At: cur.At}
	if cur.Replicas >= 0 {
		s.Replicas = int(math.Round(cur.Replicas))
	}
	s.InFlight = math.Max(0, cur.Started-cur.Completed())
	if prev.At.IsZero() || !cur.At.After(prev.At) {
		return s
	}
	s.Interval = cur.At.Sub(prev.At).Seconds()
	reset := cur.Completed() < prev.Completed() || cur.Count < prev.Count
	d := func(c, p float64) float64 {
		if reset || c < p {
			return c
		}
		return c - p
	}
	var total, ok, e5xx, non2xx float64
	for code, v := range cur.Codes {
		n := d(v, prev.Codes[code])
		total += n
		c, _ := strconv.Atoi(code)
		switch {
		case c >= 200 && c < 300:
			if c == 200 {
				ok += n
			}
		default:
			non2xx += n
		}
		if c >= 500 && c < 600 {
			e5xx += n
		}
	}
	s.RPS = total / s.Interval
	// Arrivals from the started counter; a gateway without one (started
	// never counted while requests completed) leaves the completions.
	s.Arrivals = d(cur.Started, prev.Started)
	if cur.Started == 0 && total > 0 {
		s.Arrivals = total
	}
	s.Status200, s.Status500 = ok, e5xx
	if total > 0 {
		s.ErrorRate = non2xx / total
	}
	count := d(cur.Count, prev.Count)
	if count > 0 {
		s.MeanLatency = d(cur.Sum, prev.Sum) / count
		buckets := make([]Bucket, len(cur.Buckets))
		pb := map[float64]float64{}
		for _, b := range prev.Buckets {
			pb[b.UpperBound] = b.Count
		}
		for i, b := range cur.Buckets {
			buckets[i] = Bucket{UpperBound: b.UpperBound, Count: d(b.Count, pb[b.UpperBound])}
		}
		s.P50 = Quantile(0.5, buckets, count)
		s.P90 = Quantile(0.9, buckets, count)
		s.P99 = Quantile(0.99, buckets, count)
	}
	return s
}

// Quantile estimates the q-quantile from cumulative buckets (sorted by upper
// bound, without +Inf) and the total count, interpolating linearly inside a
// bucket as PromQL's histogram_quantile does. A rank beyond the highest
// finite bucket returns that bucket's upper bound.
func Quantile(q float64, buckets []Bucket, total float64) float64 {
	if total <= 0 || len(buckets) == 0 {
		return 0
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range buckets {
		if b.Count >= rank {
			in := b.Count - below
			if in <= 0 {
				return b.UpperBound
			}
			return lower + (b.UpperBound-lower)*(rank-below)/in
		}
		lower, below = b.UpperBound, b.Count
	}
	return buckets[len(buckets)-1].UpperBound
}

// SnapshotStore keeps each function's previous snapshot between stateless
// invocations. UpdateSnapshot is a compare-and-set of the stored snapshot
// (ok false when there is none): f's result is stored only if nobody
// stored another meanwhile (else f runs again), and an error from f stores
// nothing.
type SnapshotStore interface {
	LoadSnapshot(ctx context.Context, function string) (Snapshot, bool, error)
	SaveSnapshot(ctx context.Context, function string, s Snapshot) error
	UpdateSnapshot(ctx context.Context, function string, f func(prev Snapshot, ok bool) (Snapshot, error)) error
}

// ErrOverlap: a snapshot as new as this observation's is stored already
// (an overlapping, later load-probe run took this interval); no sample.
var ErrOverlap = errors.New("a newer observation is stored already (overlapping run)")

// Gateway observes functions through the gateway's /metrics.
type Gateway struct {
	MetricsURL string
	Client     *http.Client
	Store      SnapshotStore
}

// Scrape fetches and parses /metrics once.
func (g Gateway) Scrape(ctx context.Context, now time.Time) (map[string]Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.MetricsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics url %q: %w", g.MetricsURL, err)
	}
	c := g.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", g.MetricsURL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return nil, fmt.Errorf("scrape %s: status %d: %s", g.MetricsURL, res.StatusCode, strings.TrimSpace(string(b)))
	}
	return ParseMetrics(io.LimitReader(res.Body, 64<<20), now)
}

// Observe implements Source: one scrape, the delta since the stored
// snapshot, and the new snapshot stored. The first observation of a
// function has Interval 0 (a baseline, no rates).
func (g Gateway) Observe(ctx context.Context, function string, now time.Time) (decide.Sample, error) {
	snaps, err := g.Scrape(ctx, now)
	if err != nil {
		return decide.Sample{}, err
	}
	return g.ObserveFrom(ctx, snaps, function, now)
}

// ObserveFrom is Observe on an existing scrape (load-probe scrapes once per
// run for all its functions). A function the metrics do not name yet (not
// invoked since the gateway started) has zero counters.
func (g Gateway) ObserveFrom(ctx context.Context, snaps map[string]Snapshot, function string, now time.Time) (decide.Sample, error) {
	cur, ok := Lookup(snaps, function)
	if !ok {
		cur = Snapshot{At: now, Codes: map[string]float64{}, Replicas: -1}
	}
	cur.At = now
	if g.Store == nil {
		return decide.Sample{}, errors.New("gateway source: no snapshot store")
	}
	// The delta and the new baseline in one compare-and-set: each interval
	// is observed by exactly one run.
	var s decide.Sample
	err := g.Store.UpdateSnapshot(ctx, function, func(prev Snapshot, ok bool) (Snapshot, error) {
		if ok && !cur.At.After(prev.At) {
			return Snapshot{}, fmt.Errorf("counters of %s at %s: %w (stored at %s)", function,
				cur.At.Format(time.RFC3339Nano), ErrOverlap, prev.At.Format(time.RFC3339Nano))
		}
		s = Delta(function, prev, cur)
		return cur, nil
	})
	if err != nil {
		if errors.Is(err, ErrOverlap) {
			return decide.Sample{}, err
		}
		return decide.Sample{}, fmt.Errorf("update counters of %s: %w", function, err)
	}
	return s, nil
}
