package model

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rakyll/hey/requester"

	"github.com/prescale/prescale/pkg/source"
)

// LiveConfig is the live generator: load sweeps with hey's own requester
// against a function behind a running OpenFaaS gateway (the plugin from
// `prescale up`, or any OpenFaaS), scaling it through the gateway API.
type LiveConfig struct {
	Gateway  string // e.g. http://127.0.0.1:8080
	Function string
	User     string
	Password string
	Rates    []float64
	Replicas []int
	Repeats  int
	Window   time.Duration // load per window
	Timeout  time.Duration // per request, as hey's -t
	// Settle is how long to wait for the replicas to become available.
	Settle time.Duration
	Client *http.Client
}

// GenerateLive runs the sweep (replicas outer, so each count is scaled to
// once) and labels it.
func GenerateLive(ctx context.Context, cfg LiveConfig, slo SLO, progress func()) ([]Window, error) {
	if cfg.Gateway == "" || cfg.Function == "" {
		return nil, errors.New("live sweep needs --gateway and --function")
	}
	if len(cfg.Rates) == 0 || len(cfg.Replicas) == 0 || cfg.Repeats < 1 || cfg.Window <= 0 {
		return nil, errors.New("live sweep needs rates, replicas, repeats ≥ 1 and a window > 0")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 60 * time.Second
	}
	base := strings.TrimRight(cfg.Gateway, "/")
	var out []Window
	for _, c := range cfg.Replicas {
		if err := scaleAndWait(ctx, cfg, base, c); err != nil {
			return nil, err
		}
		for _, rate := range cfg.Rates {
			for r := 0; r < cfg.Repeats; r++ {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				w := Window{Rate: rate, Replicas: c, Repeat: r}
				rs, secs, err := heyWindow(base+"/function/"+url.PathEscape(cfg.Function), rate, cfg)
				if err != nil {
					return nil, err
				}
				var mean float64
				for _, x := range rs {
					mean += x.Latency
				}
				if len(rs) > 0 {
					mean /= float64(len(rs))
				}
				// In-flight by Little's law: throughput × mean latency.
				Measure(&w, rs, secs, float64(len(rs))/secs*mean)
				out = append(out, w)
				if progress != nil {
					progress()
				}
			}
		}
	}
	Label(out, slo)
	return out, nil
}

func scaleAndWait(ctx context.Context, cfg LiveConfig, base string, replicas int) error {
	body, _ := json.Marshal(map[string]any{"serviceName": cfg.Function, "replicas": replicas})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/system/scale-function/"+url.PathEscape(cfg.Function), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("scale request: %w", err)
	}
	req.SetBasicAuth(cfg.User, cfg.Password)
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("scale %s to %d: %w", cfg.Function, replicas, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("scale %s to %d: gateway answered %d: %s", cfg.Function, replicas, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	deadline := time.Now().Add(cfg.Settle)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/system/function/"+url.PathEscape(cfg.Function), nil)
		if err != nil {
			return fmt.Errorf("status request: %w", err)
		}
		req.SetBasicAuth(cfg.User, cfg.Password)
		resp, err := cfg.Client.Do(req)
		if err != nil {
			return fmt.Errorf("read %s status: %w", cfg.Function, err)
		}
		var st struct {
			AvailableReplicas uint64 `json:"availableReplicas"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("decode %s status: %w", cfg.Function, err)
		}
		if int(st.AvailableReplicas) == replicas {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s has %d available replicas after %s, want %d", cfg.Function, st.AvailableReplicas, cfg.Settle, replicas)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// heyWindow offers rate requests per second for the window with hey's
// requester and returns every response; requests hey reports as errors
// (timeouts, refused connections) count as 5xx at the timeout.
func heyWindow(target string, rate float64, cfg LiveConfig) ([]Response, float64, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader("prescale gen"))
	if err != nil {
		return nil, 0, fmt.Errorf("load request: %w", err)
	}
	n := max(1, int(rate*cfg.Window.Seconds()))
	c := max(1, min(n, int(rate)))
	var buf bytes.Buffer
	w := &requester.Work{Request: req, RequestBody: []byte("prescale gen"), N: n, C: c, QPS: rate / float64(c),
		Timeout: int(cfg.Timeout.Seconds()), Output: "csv", Writer: &buf}
	start := time.Now()
	w.Run()
	secs := time.Since(start).Seconds()
	rs, err := ParseHeyCSV(&buf)
	if err != nil {
		return nil, 0, err
	}
	for len(rs) < n {
		rs = append(rs, Response{Latency: cfg.Timeout.Seconds(), Status: 599})
	}
	return rs, secs, nil
}

// ParseHeyCSV reads hey's `-o csv` output (source.ReadHeyCSV).
func ParseHeyCSV(r io.Reader) ([]Response, error) { return source.ReadHeyCSV(r) }
