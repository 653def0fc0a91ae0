package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Load is what the driver measured: every response's latency and status.
type Load struct {
	Start, End time.Time
	Responses  []Response      // in completion order
	Latencies  []time.Duration // sorted
	Codes      map[int]int
	Errors     int // transport errors (no status)
}

// Response is one measured response.
type Response struct {
	Done    time.Time
	Latency time.Duration
	Code    int
}

// Between is the part of l whose responses completed in (from, to].
func (l Load) Between(from, to time.Time) Load {
	out := Load{Start: from, End: to, Codes: map[int]int{}}
	for _, r := range l.Responses {
		if r.Done.After(from) && !r.Done.After(to) {
			out.Responses = append(out.Responses, r)
			out.Latencies = append(out.Latencies, r.Latency)
			out.Codes[r.Code]++
		}
	}
	sort.Slice(out.Latencies, func(i, j int) bool { return out.Latencies[i] < out.Latencies[j] })
	return out
}

// Total is the number of responses with a status.
func (l Load) Total() int {
	n := 0
	for _, c := range l.Codes {
		n += c
	}
	return n
}

// RPS is responses per second over [Start, End].
func (l Load) RPS() float64 {
	return float64(l.Total()) / l.End.Sub(l.Start).Seconds()
}

// Quantile is the q-quantile of the measured latencies, in seconds (nearest rank).
func (l Load) Quantile(q float64) float64 {
	if len(l.Latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(l.Latencies)))) - 1
	if i < 0 {
		i = 0
	}
	return l.Latencies[i].Seconds()
}

// Mean is the mean latency in seconds.
func (l Load) Mean() float64 {
	if len(l.Latencies) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range l.Latencies {
		sum += d
	}
	return sum.Seconds() / float64(len(l.Latencies))
}

func (l Load) String() string {
	return fmt.Sprintf("%d responses in %.2fs (%.1f rps), codes %v, transport errors %d, latency p50 %.1fms p90 %.1fms p99 %.1fms mean %.1fms",
		l.Total(), l.End.Sub(l.Start).Seconds(), l.RPS(), l.Codes, l.Errors,
		l.Quantile(0.5)*1e3, l.Quantile(0.9)*1e3, l.Quantile(0.99)*1e3, l.Mean()*1e3)
}

// Drive sends POSTs with body to url from concurrency workers, back to back,
// for duration, and measures every response.
func Drive(ctx context.Context, client *http.Client, url, body string, concurrency int, duration time.Duration) Load {
	var (
		mu   sync.Mutex
		load = Load{Codes: map[int]int{}}
		wg   sync.WaitGroup
	)
	load.Start = time.Now()
	stopAt := load.Start.Add(duration)
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) && ctx.Err() == nil {
				t0 := time.Now()
				code := do(ctx, client, url, body)
				done := time.Now()
				mu.Lock()
				if code == 0 {
					load.Errors++
				} else {
					load.Codes[code]++
					load.Latencies = append(load.Latencies, done.Sub(t0))
					load.Responses = append(load.Responses, Response{Done: done, Latency: done.Sub(t0), Code: code})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	load.End = time.Now()
	sort.Slice(load.Latencies, func(i, j int) bool { return load.Latencies[i] < load.Latencies[j] })
	return load
}

func do(ctx context.Context, client *http.Client, url, body string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func decodeJSON(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", resp.Request.URL.Path, err)
	}
	return nil
}
