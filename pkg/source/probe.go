package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rakyll/hey/requester"

	"github.com/prescale/prescale/pkg/decide"
)

// Probe limits: whatever the configuration says, one observation never
// sends more than this, so a probe cannot flood a production function.
const (
	ProbeMaxRequests    = 1000
	ProbeMaxConcurrency = 16
	ProbeMaxQPS         = 100
	ProbeMaxTimeout     = 30 * time.Second
)

// Probe is an active source like the original system's hey runs: it sends a
// bounded burst of requests to the function through the gateway with hey's
// own requester and measures latency percentiles, error rate and status
// counts. Its RPS is the rate the probe achieved (not the function's
// demand: use the gateway or Prometheus source to forecast demand).
type Probe struct {
	GatewayURL  string
	Requests    int     // per observation (rounded down to a multiple of Concurrency, as hey does); capped at ProbeMaxRequests
	Concurrency int     // capped at ProbeMaxConcurrency
	QPS         float64 // per worker as in hey; capped at ProbeMaxQPS
	Timeout     time.Duration
	Method      string
	Body        []byte
}

// DefaultProbe: 20 requests, concurrency 2, 10 qps per worker, 10 s timeout, POST "".
func DefaultProbe(gatewayURL string) Probe {
	return Probe{GatewayURL: gatewayURL, Requests: 20, Concurrency: 2, QPS: 10, Timeout: 10 * time.Second, Method: http.MethodPost}
}

// Validate checks the probe's bounds, naming the allowed ranges.
func (p Probe) Validate() error {
	var errs []error
	if p.Requests < 1 || p.Requests > ProbeMaxRequests {
		errs = append(errs, fmt.Errorf("probe requests %d: must be in 1..%d", p.Requests, ProbeMaxRequests))
	}
	if p.Concurrency < 1 || p.Concurrency > ProbeMaxConcurrency || p.Concurrency > max(p.Requests, 1) {
		errs = append(errs, fmt.Errorf("probe concurrency %d: must be in 1..%d and at most the request count", p.Concurrency, ProbeMaxConcurrency))
	}
	if p.QPS < 0 || p.QPS > ProbeMaxQPS {
		errs = append(errs, fmt.Errorf("probe qps %v: must be in 0..%d (0 = %d)", p.QPS, ProbeMaxQPS, ProbeMaxQPS))
	}
	if p.Timeout <= 0 || p.Timeout > ProbeMaxTimeout {
		errs = append(errs, fmt.Errorf("probe timeout %s: must be in (0,%s]", p.Timeout, ProbeMaxTimeout))
	}
	if p.GatewayURL == "" {
		errs = append(errs, errors.New("probe: no gateway URL"))
	}
	return errors.Join(errs...)
}

// Observe implements Source.
func (p Probe) Observe(ctx context.Context, function string, now time.Time) (decide.Sample, error) {
	if err := p.Validate(); err != nil {
		return decide.Sample{}, err
	}
	qps := p.QPS
	if qps == 0 {
		qps = ProbeMaxQPS
	}
	method := p.Method
	if method == "" {
		method = http.MethodPost
	}
	u := strings.TrimRight(p.GatewayURL, "/") + "/function/" + function
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return decide.Sample{}, fmt.Errorf("probe request for %s: %w", function, err)
	}
	req.Header.Set("User-Agent", "prescale-load-probe")
	var out bytes.Buffer
	w := &requester.Work{
		Request: req, RequestBody: p.Body, N: p.Requests, C: p.Concurrency, QPS: qps,
		Timeout: int(max(1, p.Timeout.Round(time.Second)/time.Second)), Output: "csv", Writer: &out,
		// DisableRedirects is left off: hey sets it on a client its workers
		// share (a data race); the gateway's proxy never redirects anyway.
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			w.Stop()
		case <-done:
		}
		close(stopped)
	}()
	start := time.Now()
	w.Run()
	elapsed := time.Since(start)
	close(done)
	<-stopped
	if err := ctx.Err(); err != nil {
		return decide.Sample{}, fmt.Errorf("probe of %s cancelled: %w", function, err)
	}
	// hey's workers each send N/C requests (it ignores the remainder).
	sent := p.Requests / p.Concurrency * p.Concurrency
	return ParseHeyCSV(function, now, elapsed, sent, &out)
}

// ParseHeyCSV turns hey's CSV output (response-time,…,status-code,offset)
// into a sample. hey leaves failed requests (no response) out of its CSV, so
// sent minus the rows read are failures: they count as errors and as
// Status500, as the original parsing of hey's error lines did.
func ParseHeyCSV(function string, now time.Time, elapsed time.Duration, sent int, r io.Reader) (decide.Sample, error) {
	rows, err := ReadHeyCSV(r)
	if err != nil {
		return decide.Sample{}, fmt.Errorf("parse hey output: %w", err)
	}
	lats := make([]float64, 0, len(rows))
	s := decide.Sample{Function: function, At: now, Interval: elapsed.Seconds()}
	var total, non2xx float64
	for _, row := range rows {
		total++
		lats = append(lats, row.Latency)
		switch code := row.Status; {
		case code == 200:
			s.Status200++
		case code >= 500:
			s.Status500++
		}
		if row.Status < 200 || row.Status >= 300 {
			non2xx++
		}
	}
	if failed := float64(sent) - total; failed > 0 {
		total += failed
		non2xx += failed
		s.Status500 += failed
	}
	if len(lats) == 0 {
		return s, fmt.Errorf("probe of %s: none of %d requests got a response", function, sent)
	}
	if s.Interval > 0 {
		s.RPS = total / s.Interval
	}
	s.ErrorRate = non2xx / total
	sort.Float64s(lats)
	var sum float64
	for _, l := range lats {
		sum += l
	}
	s.MeanLatency = sum / float64(len(lats))
	s.P50, s.P90, s.P99 = pct(lats, 0.5), pct(lats, 0.9), pct(lats, 0.99)
	return s, nil
}

// pct is the nearest-rank percentile of sorted values.
func pct(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
