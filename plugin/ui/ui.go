package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/state"
	"github.com/prescale/prescale/plugin/runtime"
)

//go:embed assets
var assets embed.FS

// LabelEnabled opts a function into prescale (and into a chart).
const LabelEnabled = "prescale.enabled"

// Function is a row of the function list.
type Function struct {
	Name        string            `json:"name"`
	Image       string            `json:"image"`
	Replicas    int               `json:"replicas"`
	Available   int               `json:"available"`
	Invocations float64           `json:"invocations"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// Config wires a Server. Functions is required.
type Config struct {
	// Functions lists the deployed functions (the /system/functions view).
	Functions func() []Function
	// Gatherer is the gateway's metrics registry (cold-start waits); nil = none.
	Gatherer prometheus.Gatherer
	// NATSURL returns the NATS URL holding the decision stream ("" = none).
	NATSURL func() string
	// Stream is the decision stream; "" = state.DefaultConfig().DecisionStream.
	Stream string
	// SampleEvery is the sampling period of replicas and waits (default 1s, 100ms..1m).
	SampleEvery time.Duration
	// Keep bounds the samples and decisions kept per function (default 1800).
	Keep int
	Log  *slog.Logger
}

// Point is one sample of a function's replicas and cold-start waits.
type Point struct {
	T         int64   `json:"t"` // unix milliseconds
	Replicas  int     `json:"replicas"`
	Available int     `json:"available"`
	ColdWaits float64 `json:"cold_waits"` // cumulative
}

// Decision is what the chart and the log show of a scaler decision.
type Decision struct {
	T            int64    `json:"t"`
	RPS          float64  `json:"rps"`
	ForecastRPS  *float64 `json:"forecast_rps"`
	ForecastFor  int64    `json:"forecast_for,omitempty"` // unix ms the forecast's horizon ends (the moment it predicted)
	ForecastMade int64    `json:"forecast_made,omitempty"`
	State        string   `json:"forecast_state"`
	Before       int      `json:"before"`
	After        int      `json:"after"`
	Desired      int      `json:"desired"`
	Applied      bool     `json:"applied"`
	Reason       string   `json:"reason"`
	Reasons      []string `json:"reasons,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// State is the body of GET /ui/api/state.
type State struct {
	Now       int64                 `json:"now"`
	Functions []Function            `json:"functions"`
	Series    map[string][]Point    `json:"series"`
	Decisions map[string][]Decision `json:"decisions"`
	Stream    string                `json:"stream"` // "following", "unavailable: …", "off"
}

// Server serves the dashboard and keeps its time series.
type Server struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	series    map[string][]Point
	decisions map[string][]Decision
	stream    string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks cfg and applies defaults.
func New(cfg Config) (*Server, error) {
	if cfg.Functions == nil {
		return nil, errors.New("ui: Functions is required")
	}
	if cfg.SampleEvery == 0 {
		cfg.SampleEvery = time.Second
	}
	if cfg.SampleEvery < 100*time.Millisecond || cfg.SampleEvery > time.Minute {
		return nil, errors.New("ui: SampleEvery must be in 100ms..1m")
	}
	if cfg.Keep == 0 {
		cfg.Keep = 1800
	}
	if cfg.Keep < 10 || cfg.Keep > 100000 {
		return nil, errors.New("ui: Keep must be in 10..100000")
	}
	if cfg.Stream == "" {
		cfg.Stream = state.DefaultConfig().DecisionStream
	}
	if cfg.NATSURL == nil {
		cfg.NATSURL = func() string { return "" }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: cfg.Log, series: map[string][]Point{}, decisions: map[string][]Decision{}, stream: "off"}, nil
}

// Handler serves /ui/ (the page and its assets) and /ui/api/state.
// Mount it under /ui/ behind the gateway's basic auth.
func (s *Server) Handler() http.Handler {
	sub, _ := fs.Sub(assets, "assets")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/api/state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s.State(time.Now()))
	})
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", http.FileServer(http.FS(sub))))
	return mux
}

// Start samples every SampleEvery and follows the decision stream until Close.
func (s *Server) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.Sample(time.Now())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.SampleEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				s.Sample(now)
			}
		}
	}()
	if url := s.cfg.NATSURL(); url != "" {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.follow(ctx, url)
		}()
	}
	return nil
}

// Close stops sampling and following.
func (s *Server) Close(context.Context) error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return nil
}

func (s *Server) setStream(v string) {
	s.mu.Lock()
	s.stream = v
	s.mu.Unlock()
}

// follow reads the decision stream from its start, then new decisions,
// reconnecting after a failure until ctx ends.
func (s *Server) follow(ctx context.Context, url string) {
	for ctx.Err() == nil {
		err := s.followOnce(ctx, url)
		if ctx.Err() != nil {
			return
		}
		s.setStream("unavailable: " + err.Error())
		s.log.Debug("ui: decision stream", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (s *Server) followOnce(ctx context.Context, url string) error {
	// Connect creates the stream if the scaler has not yet, so the
	// follower starts before the first decision.
	_, nc, err := state.Connect(ctx, url, state.DefaultConfig())
	if err != nil {
		return err
	}
	defer nc.Close()
	s.mu.Lock()
	s.decisions = map[string][]Decision{} // re-read from the start
	s.stream = "following"
	s.mu.Unlock()
	err = state.ReadDecisions(ctx, nc, s.cfg.Stream, true, func(d decide.Decision) error {
		s.AddDecision(d)
		return nil
	})
	if err == nil && ctx.Err() == nil {
		err = nats.ErrConnectionClosed
	}
	return err
}

// AddDecision records a decision for the chart and the log.
func (s *Server) AddDecision(d decide.Decision) {
	rec := Decision{
		T: d.At.UnixMilli(), RPS: d.Observed.RPS, State: d.ForecastState,
		Before: d.Before, After: d.After, Desired: d.Desired, Applied: d.Applied,
		Reason: d.Reason, Reasons: d.Reasons, Error: d.Error,
	}
	if f := d.Forecast; f != nil && !f.At.IsZero() {
		v := f.RPS
		rec.ForecastRPS = &v
		rec.ForecastMade = f.At.UnixMilli()
		rec.ForecastFor = f.At.Add(time.Duration(f.Horizon * float64(time.Second))).UnixMilli()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decisions[d.Function] = appendBounded(s.decisions[d.Function], rec, s.cfg.Keep)
}

// Sample records every function's replicas and cold-start waits at now.
func (s *Server) Sample(now time.Time) {
	waits := s.coldWaits()
	fns := s.cfg.Functions()
	s.mu.Lock()
	defer s.mu.Unlock()
	live := map[string]bool{}
	for _, f := range fns {
		live[f.Name] = true
		s.series[f.Name] = appendBounded(s.series[f.Name], Point{
			T: now.UnixMilli(), Replicas: f.Replicas, Available: f.Available, ColdWaits: waits[f.Name],
		}, s.cfg.Keep)
	}
	for name := range s.series {
		if !live[name] {
			delete(s.series, name)
		}
	}
}

// coldWaits is each function's cold-start waits so far (none without a
// Gatherer, or when it fails: the sample then shows 0, sampling goes on).
func (s *Server) coldWaits() map[string]float64 {
	if s.cfg.Gatherer == nil {
		return nil
	}
	waits, err := runtime.ColdStartWaits(s.cfg.Gatherer)
	if err != nil {
		return nil
	}
	return waits
}

// State is what the page polls.
func (s *Server) State(now time.Time) State {
	fns := s.cfg.Functions()
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Now: now.UnixMilli(), Functions: fns, Series: map[string][]Point{}, Decisions: map[string][]Decision{}, Stream: s.stream}
	for _, f := range fns {
		if f.Labels[LabelEnabled] != "true" {
			continue
		}
		st.Series[f.Name] = append([]Point{}, s.series[f.Name]...)
		st.Decisions[f.Name] = append([]Decision{}, s.decisions[f.Name]...)
	}
	return st
}

func appendBounded[T any](s []T, v T, n int) []T {
	s = append(s, v)
	if len(s) > n {
		s = append(s[:0:0], s[len(s)-n:]...)
	}
	return s
}
