package async

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkAsyncEndToEnd offers async requests at a fixed rate to a function
// (an httptest server behind the fake gateway URL) and measures, per run:
// callbacks/s, end-to-end latency (POST accepted → callback received) and
// queueing latency (X-Start-Time → the function receives the call).
// Run: go test -run '^$' -bench AsyncEndToEnd -benchtime 2000x ./plugin/async/
func BenchmarkAsyncEndToEnd(b *testing.B) {
	for _, rate := range []int{200, 1000, 3000} {
		b.Run(fmt.Sprintf("offered=%d/s", rate), func(b *testing.B) { benchAsync(b, rate) })
	}
}

func benchAsync(b *testing.B, rate int) {
	var mu sync.Mutex
	queueLat := make([]time.Duration, 0, b.N)
	fn := newRecorder(b, func(r received, w http.ResponseWriter) {
		if ns, err := strconv.ParseInt(r.Header.Get("X-Start-Time"), 10, 64); err == nil {
			mu.Lock()
			queueLat = append(queueLat, r.At.Sub(time.Unix(0, ns)))
			mu.Unlock()
		}
		w.Write(r.Body)
	})
	cb := newRecorder(b, nil)
	cfg := testConfig(b, fn.srv.URL, newFnSet("bench"))
	cfg.Concurrency = 8
	cfg.Logger = log.New(io.Discard, "", 0)
	_, srv := startQueue(b, cfg)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	interval := time.Second / time.Duration(rate)
	sent := make([]time.Time, b.N)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/async-function/bench", nil)
			req.Header.Set("X-Callback-Url", cb.srv.URL)
			req.Header.Set("X-Call-Id", strconv.Itoa(i))
			sent[i] = time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Errorf("post: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	e2e := make([]time.Duration, 0, b.N)
	seen := map[int]bool{}
	var last time.Time
	timeout := time.After(60 * time.Second)
	for len(seen) < b.N {
		select {
		case r := <-cb.notify:
			i, _ := strconv.Atoi(r.Header.Get("X-Call-Id"))
			if !seen[i] {
				seen[i] = true
				wg.Wait() // sent[] complete (all posts returned long before most callbacks)
				e2e = append(e2e, r.At.Sub(sent[i]))
				last = r.At
			}
		case <-timeout:
			b.Fatalf("%d of %d callbacks after 60s", len(seen), b.N)
		}
	}
	elapsed := last.Sub(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "callbacks/s")
	b.ReportMetric(pct(e2e, 0.50), "e2e-p50-ms")
	b.ReportMetric(pct(e2e, 0.99), "e2e-p99-ms")
	mu.Lock()
	b.ReportMetric(pct(queueLat, 0.50), "queue-p50-ms")
	b.ReportMetric(pct(queueLat, 0.99), "queue-p99-ms")
	mu.Unlock()
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(p*float64(len(s))))]) / float64(time.Millisecond)
}
