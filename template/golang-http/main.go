// Command handler serves a golang-http function: it turns each HTTP request
// into a handler.Request, calls function.Handle and writes the
// handler.Response. of-watchdog (mode=http) forks it and proxies to
// upstream_url; prescale's plugin runs it directly, one process per replica,
// each with its own upstream_url port.
//
// Environment:
//
//	upstream_url          address to listen on (default http://127.0.0.1:8082); http_upstream_url is an alias
//	read_timeout          request read timeout (default 10s; "10" means seconds)
//	write_timeout         response write timeout (default 10s)
//	healthcheck_interval  wait after SIGTERM before shutting down (default: write_timeout)
//
// GET /_/health answers 200 "OK" while serving and 503 once shutdown began.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	function "handler/function"

	handler "github.com/openfaas/templates-sdk/go-http"
)

const defaultUpstream = "http://127.0.0.1:8082"

func main() {
	if err := run(); err != nil {
		log.Printf("handler: %v", err)
		os.Exit(1)
	}
}

func run() error {
	addr, err := listenAddr(firstEnv("upstream_url", "http_upstream_url"))
	if err != nil {
		return err
	}
	readTimeout, err := durationEnv("read_timeout", 10*time.Second)
	if err != nil {
		return err
	}
	writeTimeout, err := durationEnv("write_timeout", 10*time.Second)
	if err != nil {
		return err
	}
	drainWait, err := durationEnv("healthcheck_interval", writeTimeout)
	if err != nil {
		return err
	}

	var stopping atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/_/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if stopping.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "OK")
	})
	mux.HandleFunc("/", invoke)

	srv := &http.Server{
		Addr:           addr,
		Handler:        mux,
		ReadTimeout:    readTimeout,
		WriteTimeout:   writeTimeout,
		MaxHeaderBytes: 1 << 20,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() {
		sig := <-sigs
		stopping.Store(true)
		log.Printf("handler: %s received, waiting %s before shutdown", sig, drainWait)
		time.Sleep(drainWait)
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()

	log.Printf("handler: listening on %s (read_timeout=%s write_timeout=%s)", addr, readTimeout, writeTimeout)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-done
}

// invoke adapts one HTTP request to function.Handle.
func invoke(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, fmt.Sprintf("reading request body: %v", err), http.StatusBadRequest)
			return
		}
		body = b
	}
	// handler.Request has no path: pass it on for GET /metrics (pkg/fnutil.HeaderPath).
	r.Header.Set("X-Prescale-Path", r.URL.Path)
	req := handler.Request{
		Body:        body,
		Header:      r.Header,
		QueryString: r.URL.RawQuery,
		Method:      r.Method,
		Host:        r.Host,
	}
	req.WithContext(r.Context())

	res, err := function.Handle(req)

	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := res.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	if err != nil {
		log.Printf("handler: %s %s: %v", r.Method, r.URL.Path, err)
		status = http.StatusInternalServerError
		if len(res.Body) == 0 {
			res.Body = []byte(err.Error())
		}
	}
	w.WriteHeader(status)
	if len(res.Body) > 0 {
		_, _ = w.Write(res.Body)
	}
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return v
		}
	}
	return defaultUpstream
}

// listenAddr turns upstream_url into a host:port to listen on.
func listenAddr(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("upstream_url %q: %w", raw, err)
	}
	port := u.Port()
	if port == "" {
		return "", fmt.Errorf("upstream_url %q: no port (want e.g. http://127.0.0.1:8082)", raw)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("upstream_url %q: port must be 1..65535", raw)
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// durationEnv parses a Go duration or a whole number of seconds. It is the
// one duration parser of this module (a function's build, which cannot
// import prescale's pkg/faas.ParseDuration; it refuses the same values):
// negative, NaN, Inf and more seconds than a time.Duration holds
// ("18446744074" would otherwise wrap around to 290ms) are errors naming
// the variable.
func durationEnv(name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	if strings.Trim(strings.TrimLeft(v, "+-"), "0123456789") == "" && strings.TrimLeft(v, "+-") != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case strings.HasPrefix(v, "-"):
			return 0, fmt.Errorf("%s=%q: must not be negative", name, v)
		case err != nil || n > maxSeconds:
			return 0, fmt.Errorf("%s=%q: too large: at most %d seconds", name, v, maxSeconds)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 10s or a number of seconds", name, v)
	}
	return d, nil
}
