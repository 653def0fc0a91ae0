package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
)

// Target is one scrape target: a job name and a base URL whose /metrics is scraped.
type Target struct {
	Job string
	URL string
}

// Server is a running Prometheus.
type Server struct {
	URL     string // base URL, e.g. http://127.0.0.1:43121
	targets int    // how many targets it scrapes
}

// ScrapeInterval is the scrape (and evaluation) interval of a Server.
const ScrapeInterval = time.Second

// Start runs Prometheus on a free loopback port with a temporary config
// scraping targets every ScrapeInterval, waits until it is ready (and is the
// server it started, not another process on the port), and stops it when
// the test ends.
func Start(t testing.TB, targets ...Target) *Server {
	t.Helper()
	bin := testenv.Prometheus(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := writeConfig(cfgPath, targets); err != nil {
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
			s.targets = len(targets)
			return s
		}
		if !errors.Is(err, errExitedEarly) {
			t.Fatal(err)
		}
		lastErr = err // most likely the port was taken between freePort and bind
	}
	t.Fatalf("prometheus did not start: %v", lastErr)
	return nil
}

// writeConfig writes to path the config scraping targets every ScrapeInterval.
func writeConfig(path string, targets []Target) error {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n  scrape_timeout: 900ms\nscrape_configs:\n",
		ScrapeInterval, ScrapeInterval)
	for _, tg := range targets {
		u, err := url.Parse(tg.URL)
		if err != nil {
			return fmt.Errorf("target %s: %w", tg.Job, err)
		}
		path := strings.TrimSuffix(u.Path, "/") + "/metrics"
		fmt.Fprintf(&b, "  - job_name: %q\n    metrics_path: %q\n    scheme: %s\n    static_configs:\n      - targets: [%q]\n",
			tg.Job, path, u.Scheme, u.Host)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("prometheus config: %w", err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// errExitedEarly: the process exited before it was ready (run's one error
// worth another attempt, on another port).
var errExitedEarly = errors.New("prometheus exited before it was ready")

func run(t testing.TB, bin, cfgPath, dataDir string, port int) (*Server, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var logs bytes.Buffer // read only once the process has exited
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+dataDir,
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Own process group (stop signals the group); killed if the test binary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	pgid := cmd.Process.Pid
	exited := make(chan struct{})
	var waitErr error // set before exited is closed
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited: // reaped: its pgid is no longer ours to signal
			return
		default:
		}
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second): // grace for a clean shutdown, then the group is killed
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		}
	}
	s := &Server{URL: "http://" + addr}
	// Ready or exited: the safety net only turns a hang into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), eventually.SafetyNet)
	defer cancel()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for {
		if s.readyAndOurs(ctx, dataDir) {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("prometheus log:\n%s", logs.String())
				}
			})
			return s, nil
		}
		select {
		case <-exited:
			if waitErr == nil {
				return nil, fmt.Errorf("%w on %s (status 0)\n%s", errExitedEarly, addr, logs.String())
			}
			return nil, fmt.Errorf("%w on %s: %w\n%s", errExitedEarly, addr, waitErr, logs.String())
		case <-ctx.Done():
			stop()
			return nil, fmt.Errorf("prometheus neither ready on %s nor exited: %w\n%s", addr, ctx.Err(), logs.String())
		case <-poll.C:
		}
	}
}

// readyAndOurs: s answers /-/ready with 200 and is the Prometheus storing
// in dataDir — not another process that holds the port (ours then exits).
func (s *Server) readyAndOurs(ctx context.Context, dataDir string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/status/flags", nil)
	if err != nil {
		return false
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var flags struct {
		Data map[string]string `json:"data"`
	}
	return decodeJSON(resp, &flags) == nil && flags.Data["storage.tsdb.path"] == dataDir
}

// WaitScraped waits until every target has been scraped successfully at
// least once after since and that scrape is stored, so a query at a time up
// to since sees every sample scraped until then. The targets API reports a
// scrape before its samples are committed; the scrape's own up sample is
// committed with them, so the wait is on up's timestamp.
func (s *Server) WaitScraped(ctx context.Context, since time.Time) error {
	const expr = `timestamp(up) and on(job, instance) up == 1`
	for {
		v, err := s.query(ctx, expr, time.Now())
		if err != nil {
			return fmt.Errorf("targets scraped after %s: %w", since.Format(time.RFC3339Nano), err)
		}
		n := 0
		for _, e := range v {
			if time.UnixMilli(int64(math.Round(e.Value * 1e3))).After(since) {
				n++
			}
		}
		if n == s.targets {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d targets up and stored from a scrape after %s: %w",
				n, s.targets, since.Format(time.RFC3339Nano), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sample is one element of an instant query's vector.
type sample struct {
	Metric map[string]string
	Value  float64
}

// query evaluates the PromQL expr at at; its result must be a vector.
func (s *Server) query(ctx context.Context, expr string, at time.Time) ([]sample, error) {
	form := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1e3, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	defer resp.Body.Close()
	// An invalid expression is a 4xx whose body says why: decode it whatever the status.
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"` // [unix seconds, "value"]
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %s: %s: %w", expr, resp.Status, err)
	}
	if body.Status != "success" {
		return nil, &queryError{body.Error}
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: got a %s, want a vector", expr, body.Data.ResultType)
	}
	out := make([]sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", expr, r.Value[1], err)
		}
		out = append(out, sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

type queryError struct{ msg string }

func (e *queryError) Error() string { return "prometheus: " + e.msg }
