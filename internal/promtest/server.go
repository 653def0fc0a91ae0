package promtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
)

// Target is one scrape target: a job name and a base URL whose /metrics is scraped.
type Target struct {
	Job string
	URL string
}

// Server is a running Prometheus.
type Server struct {
	URL string // base URL, e.g. http://127.0.0.1:43121
}

// ScrapeInterval is the scrape (and evaluation) interval of a Server.
const ScrapeInterval = time.Second

// Start runs Prometheus on a free loopback port with a temporary config
// scraping targets every ScrapeInterval, waits until it is ready, and stops
// it when the test ends.
func Start(t testing.TB, targets ...Target) *Server {
	t.Helper()
	bin := testenv.Prometheus(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config(targets)), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s, err := run(t, bin, cfgPath, filepath.Join(dir, fmt.Sprintf("data%d", attempt)), port)
		if err == nil {
			return s
		}
		lastErr = err // most likely the port was taken between freePort and bind
	}
	t.Fatalf("prometheus did not start: %v", lastErr)
	return nil
}

func config(targets []Target) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n  scrape_timeout: 900ms\nscrape_configs:\n",
		ScrapeInterval, ScrapeInterval)
	for _, tg := range targets {
		u, err := url.Parse(tg.URL)
		if err != nil {
			continue
		}
		path := strings.TrimSuffix(u.Path, "/") + "/metrics"
		fmt.Fprintf(&b, "  - job_name: %q\n    metrics_path: %q\n    scheme: %s\n    static_configs:\n      - targets: [%q]\n",
			tg.Job, path, u.Scheme, u.Host)
	}
	return b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func run(t testing.TB, bin, cfgPath, dataDir string, port int) (*Server, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+dataDir,
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	s := &Server{URL: "http://" + addr}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					stop()
					if t.Failed() {
						t.Logf("prometheus log:\n%s", logs.String())
					}
				})
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("prometheus not ready on %s after 20s\n%s", addr, logs.String())
}

// WaitScraped waits until every target has been scraped successfully at
// least once after since (up == 1 with a later timestamp).
func (s *Server) WaitScraped(ctx context.Context, since time.Time) error {
	for {
		ok, err := s.allUpAfter(ctx, since)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("targets not scraped after %s: %w", since.Format(time.RFC3339Nano), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) allUpAfter(ctx context.Context, since time.Time) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/targets?state=active", nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("targets: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				Health     string    `json:"health"`
				LastScrape time.Time `json:"lastScrape"`
				LastError  string    `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := decodeJSON(resp, &body); err != nil {
		return false, err
	}
	if len(body.Data.ActiveTargets) == 0 {
		return false, nil
	}
	for _, tg := range body.Data.ActiveTargets {
		if tg.Health != "up" || !tg.LastScrape.After(since) {
			return false, nil
		}
	}
	return true, nil
}
