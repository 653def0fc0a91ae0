package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Config is one replay.
type Config struct {
	Gateway  string    // e.g. http://127.0.0.1:8080
	Function string    // requests go to <Gateway>/function/<Function>
	Counts   []float64 // requests per minute
	// Times, when set, are real arrival instants (seconds since the start
	// of the window, sorted; Azure 2021): they are replayed as they are,
	// divided by Speed, instead of spreading Counts within each minute.
	Times   []float64
	Speed   float64 // time compression, > 0 (1 = real time)
	Seed    uint64  // arrival randomness
	Method  string  // default POST
	Body    []byte
	Timeout time.Duration // per request (default 30s)
	// MaxInFlight bounds concurrent requests; arrivals beyond it are
	// counted as Dropped, never queued in the client (default 1000).
	MaxInFlight int
	Progress    io.Writer // progress bar destination; nil = none
	Client      *http.Client
}

// Validate checks the configuration, naming allowed ranges.
func (c Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.Gateway, "http://") && !strings.HasPrefix(c.Gateway, "https://") {
		errs = append(errs, fmt.Errorf("gateway %q: must be an http(s) URL", c.Gateway))
	}
	if c.Function == "" || strings.ContainsAny(c.Function, "/?# ") {
		errs = append(errs, fmt.Errorf("function %q: must be a function name", c.Function))
	}
	if !(c.Speed > 0) || c.Speed > 1e6 {
		errs = append(errs, fmt.Errorf("speed %v: must be in (0,1e6]", c.Speed))
	}
	if len(c.Counts) == 0 {
		errs = append(errs, errors.New("trace window is empty (no minutes)"))
	}
	for i, n := range c.Counts {
		if n < 0 || math.IsNaN(n) || n > 1e7 {
			errs = append(errs, fmt.Errorf("minute %d: count %v must be in 0..1e7", i, n))
			break
		}
	}
	if c.MaxInFlight < 0 || c.MaxInFlight > 100000 {
		errs = append(errs, fmt.Errorf("max in-flight %d: must be in 0..100000 (0 = 1000)", c.MaxInFlight))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s: must be >= 0 (0 = 30s)", c.Timeout))
	}
	return errors.Join(errs...)
}

// Schedule returns the arrival offsets of all requests (sorted), with
// minute i's round(Counts[i]) arrivals uniform in [i, i+1) minutes, all
// divided by speed.
func Schedule(counts []float64, speed float64, seed uint64) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out []time.Duration
	minute := float64(time.Minute) / speed
	for i, c := range counts {
		n := int(math.Round(c))
		start := len(out)
		for j := 0; j < n; j++ {
			out = append(out, time.Duration((float64(i)+rng.Float64())*minute))
		}
		s := out[start:]
		sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	}
	return out
}

// ScheduleTimes returns real arrival instants (seconds) as offsets
// divided by speed, sorted.
func ScheduleTimes(times []float64, speed float64) []time.Duration {
	out := make([]time.Duration, 0, len(times))
	for _, t := range times {
		if t >= 0 && !math.IsInf(t, 0) {
			out = append(out, time.Duration(t*float64(time.Second)/speed))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

// Record is one request's outcome.
type Record struct {
	Offset  time.Duration `json:"offset"`  // scheduled arrival since the start
	Latency time.Duration `json:"latency"` // until the response body was read
	Status  int           `json:"status"`  // 0 = failed or dropped
	Err     string        `json:"err,omitempty"`
}

// Summary is a replay's outcome.
type Summary struct {
	Function  string
	Scheduled int
	Completed int // got a response (any status)
	Failed    int // no response
	Dropped   int // over MaxInFlight, not sent
	Duration  time.Duration
	Latencies []float64 // seconds, sorted, responses only
	Status    map[int]int
	Errors    map[string]int
	Records   []Record
}

// RPS is responses per second over the run.
func (s Summary) RPS() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Completed) / s.Duration.Seconds()
}

// Percentile is the nearest-rank q-quantile of response latencies (seconds).
func (s Summary) Percentile(q float64) float64 {
	n := len(s.Latencies)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(n))) - 1
	return s.Latencies[min(max(i, 0), n-1)]
}

// Run replays the schedule against the function and waits for every
// request; cancelling ctx stops new arrivals and aborts those in flight.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 1000
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{
			MaxIdleConnsPerHost: cfg.MaxInFlight, MaxIdleConns: cfg.MaxInFlight, IdleConnTimeout: 30 * time.Second,
		}}
	}
	url := strings.TrimRight(cfg.Gateway, "/") + "/function/" + cfg.Function
	arrivals := Schedule(cfg.Counts, cfg.Speed, cfg.Seed)
	if cfg.Times != nil {
		arrivals = ScheduleTimes(cfg.Times, cfg.Speed)
	}
	sum := Summary{Function: cfg.Function, Scheduled: len(arrivals), Status: map[int]int{}, Errors: map[string]int{},
		Records: make([]Record, len(arrivals))}

	var bar *progressbar.ProgressBar
	if cfg.Progress != nil {
		bar = progressbar.NewOptions(len(arrivals), progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetDescription("replay "+cfg.Function), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("req"),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	sem := make(chan struct{}, cfg.MaxInFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
loop:
	for i, off := range arrivals {
		if wait := time.Until(start.Add(off)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				break loop
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			break loop
		}
		sum.Records[i].Offset = off
		select {
		case sem <- struct{}{}:
		default:
			mu.Lock()
			sum.Dropped++
			sum.Records[i].Err = "dropped: max in-flight reached"
			mu.Unlock()
			if bar != nil {
				_ = bar.Add(1)
			}
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			rec := send(ctx, client, cfg.Method, url, cfg.Body)
			rec.Offset = sum.Records[i].Offset
			mu.Lock()
			sum.Records[i] = rec
			if rec.Err != "" {
				sum.Failed++
				sum.Errors[rec.Err]++
			} else {
				sum.Completed++
				sum.Status[rec.Status]++
				sum.Latencies = append(sum.Latencies, rec.Latency.Seconds())
			}
			mu.Unlock()
			if bar != nil {
				_ = bar.Add(1)
			}
		}(i)
	}
	wg.Wait()
	sum.Duration = time.Since(start)
	if bar != nil {
		_ = bar.Finish()
	}
	sort.Float64s(sum.Latencies)
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("replay interrupted: %w", err)
	}
	return sum, nil
}

func send(ctx context.Context, c *http.Client, method, url string, body []byte) Record {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return Record{Err: err.Error()}
	}
	req.Header.Set("Content-Type", "text/plain")
	t0 := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return Record{Err: shortErr(err), Latency: time.Since(t0)}
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return Record{Status: res.StatusCode, Latency: time.Since(t0)}
}

// shortErr drops the per-request URL from an error so errors group.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s, "\"") {
		return s[i+2:]
	}
	return s
}

// Write prints a hey-like report.
func (s Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "\nSummary:\n")
	fmt.Fprintf(w, "  Total:\t%.4f secs\n", s.Duration.Seconds())
	if n := len(s.Latencies); n > 0 {
		var tot float64
		for _, l := range s.Latencies {
			tot += l
		}
		fmt.Fprintf(w, "  Slowest:\t%.4f secs\n  Fastest:\t%.4f secs\n  Average:\t%.4f secs\n", s.Latencies[n-1], s.Latencies[0], tot/float64(n))
	}
	fmt.Fprintf(w, "  Requests/sec:\t%.4f\n", s.RPS())
	fmt.Fprintf(w, "  Scheduled:\t%d\n  Responses:\t%d\n  Failed:\t%d\n  Dropped:\t%d\n", s.Scheduled, s.Completed, s.Failed, s.Dropped)
	if len(s.Latencies) > 0 {
		fmt.Fprintf(w, "\nLatency distribution:\n")
		for _, q := range []float64{0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99} {
			fmt.Fprintf(w, "  %d%% in %.4f secs\n", int(q*100), s.Percentile(q))
		}
	}
	fmt.Fprintf(w, "\nStatus code distribution:\n")
	codes := make([]int, 0, len(s.Status))
	for c := range s.Status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Fprintf(w, "  [%d]\t%d responses\n", c, s.Status[c])
	}
	if len(s.Errors) > 0 {
		fmt.Fprintf(w, "\nError distribution:\n")
		errs := make([]string, 0, len(s.Errors))
		for e := range s.Errors {
			errs = append(errs, e)
		}
		sort.Strings(errs)
		for _, e := range errs {
			fmt.Fprintf(w, "  [%d]\t%s\n", s.Errors[e], e)
		}
	}
}
