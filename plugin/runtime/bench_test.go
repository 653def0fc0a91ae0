package runtime

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// load sends n GET requests to url from conc goroutines and returns the
// requests per second and the 99th-percentile latency.
func load(b *testing.B, c *http.Client, url string, n, conc int) (rps float64, p99 time.Duration) {
	b.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := c.Get(url)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests to %s failed", f, n, url)
	}
	slices.Sort(lat)
	return float64(n) / el.Seconds(), lat[(len(lat)*99)/100]
}

// BenchmarkProxy compares, in one run, requests through Manager.Invoke (an
// httptest server wrapping it, as the gateway does) with requests sent
// straight to the one replica: requests/s, p99, and their ratios.
func BenchmarkProxy(b *testing.B) {
	m := newManager(b, nil)
	deploy(b, m, httpSpec("bench", 1))
	waitAvailable(b, m, "bench", 1)
	gw := gateway(b, m)
	rs, err := m.Replicas("bench")
	if err != nil || len(rs) != 1 {
		b.Fatalf("replicas %v %v", rs, err)
	}
	const conc = 8
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * conc}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	for _, bc := range []struct{ name, path string }{
		{"trivial", "/pid"},         // the proxy's whole overhead shows
		{"sleep5ms", "/sleep?ms=5"}, // a function that does some work
	} {
		b.Run(bc.name, func(b *testing.B) {
			proxyURL := gw.URL + "/function/bench" + bc.path
			directURL := "http://127.0.0.1:" + strconv.Itoa(rs[0].Port) + bc.path
			n := max(b.N, 200)
			load(b, c, proxyURL, 100, conc) // warm connections
			load(b, c, directURL, 100, conc)
			b.ResetTimer()
			directRPS, directP99 := load(b, c, directURL, n, conc)
			proxyRPS, proxyP99 := load(b, c, proxyURL, n, conc)
			b.StopTimer()
			b.ReportMetric(proxyRPS, "proxy-req/s")
			b.ReportMetric(directRPS, "direct-req/s")
			b.ReportMetric(proxyRPS/directRPS, "proxy/direct-rps")
			b.ReportMetric(float64(proxyP99.Microseconds())/1000, "proxy-p99-ms")
			b.ReportMetric(float64(directP99.Microseconds())/1000, "direct-p99-ms")
			b.ReportMetric(float64(proxyP99)/float64(directP99), "proxy/direct-p99")
		})
	}
}
