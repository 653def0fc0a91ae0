package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/inference"
)

// modelSource holds the models a predictor process serves: the trained
// artefacts (embedded defaults, replaced by the watcher when a new one is
// published) and the built-in models, which answer when env model=builtin or
// when no artefact could be loaded.
type modelSource struct {
	log     *slog.Logger
	watcher *inference.Watcher
	loadErr error // why the embedded artefacts did not load (nil when they did)
}

// newModelSource loads the embedded default artefacts. A failure is logged
// and kept: predictions then fall back to the built-in models and say why.
func newModelSource(log *slog.Logger) *modelSource {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set, err := inference.Defaults()
	if err != nil {
		log.Error("embedded model artefacts did not load; serving the built-in holt-peak and capacity-rules", "err", err)
		set = inference.Set{}
	}
	return &modelSource{log: log, watcher: inference.NewWatcher(set, log), loadErr: err}
}

// pick returns the models for a choice (forecaster and replica model may
// differ), with a note when a trained model is unavailable and the built-in
// one answers instead.
func (m *modelSource) pick(forecaster, replica string) (decide.Forecaster, decide.ReplicaModel, []string) {
	why := ""
	if m.loadErr != nil {
		why = m.loadErr.Error()
	}
	return m.watcher.Models().Pick(forecaster, replica, why)
}

// follow keeps the watcher on the object store bucket until ctx ends:
// connect, create the bucket if missing, apply every model object there and
// every newly published one. Errors (NATS down, …) are logged and retried;
// the current models keep serving meanwhile.
func (m *modelSource) follow(ctx context.Context, natsURL, bucket string) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := m.followOnce(ctx, natsURL, bucket)
		if ctx.Err() != nil {
			return
		}
		m.log.Error("model store watch stopped; retrying", "nats", natsURL, "bucket", bucket, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (m *modelSource) followOnce(ctx context.Context, natsURL, bucket string) error {
	nc, err := nats.Connect(natsURL, nats.Name("prescale-predictor"), nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("connect %s: %w", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	store, err := js.ObjectStore(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		store, err = js.CreateObjectStore(ctx, inference.BucketConfig(bucket))
		if errors.Is(err, jetstream.ErrBucketExists) { // created meanwhile by someone else
			store, err = js.ObjectStore(ctx, bucket)
		}
	}
	if err != nil {
		return fmt.Errorf("object store %s: %w", bucket, err)
	}
	m.log.Info("following model store", "nats", natsURL, "bucket", bucket)
	if err := m.watcher.Run(ctx, store); err != nil {
		return err
	}
	if ctx.Err() == nil {
		return errors.New("model store watch ended")
	}
	return nil
}

// process is the predictor process's model source: the template's Handle
// entry point is a plain function, so the models and the store watcher that
// must outlive one request live here, created on the first request.
var process struct {
	once sync.Once
	src  *modelSource
}

func processModels(natsURL, bucket string) *modelSource {
	process.once.Do(func() {
		process.src = newModelSource(slog.Default())
		if natsURL != "" {
			go process.src.follow(context.Background(), natsURL, bucket)
		}
	})
	return process.src
}

// seedWindow is the window (seconds) the seed forest's status_200 and
// status_500 counts were measured over: its training "window" parameter
// (30 s in the default artefact).
func seedWindow(r *inference.ReplicaModel) float64 {
	if a := r.Artefact(); a != nil {
		if w, err := strconv.ParseFloat(a.Training.Params["window"], 64); err == nil && w > 0 {
			return w
		}
	}
	return 30
}

// seedPresence says which optional features a seed vector named.
type seedPresence struct {
	ratio, rps, inFlight, replicas bool
}

// presence reads which keys a vector has, spelled as decide.ParseFeatures
// accepts them.
func presence(keys []string) seedPresence {
	var p seedPresence
	for _, k := range keys {
		var b strings.Builder
		for _, r := range strings.ToLower(k) {
			if !strings.ContainsRune("_- ()/+.", r) {
				b.WriteRune(r)
			}
		}
		switch nk := b.String(); {
		case nk == "failureratio" || strings.HasPrefix(nk, "status500status200"):
			p.ratio = true
		case nk == "rps" || nk == "requestspersecond":
			p.rps = true
		case nk == "inflight":
			p.inFlight = true
		case nk == "replicas" || nk == "currentreplicas":
			p.replicas = true
		}
	}
	return p
}

// forestInput converts a seed vector into the seed forest's units. The
// vector's Status200/Status500 are counts over interval seconds (env-free:
// the vector's own "interval" key, default the model's window); the forest
// reads counts per window seconds, so they are scaled by window/interval and
// the failure ratio — (Status500/Status200)+Status500, which depends on the
// count itself — is recomputed from the scaled counts unless given. Features
// the forest needs that the original vector did not carry are derived and
// said so: rps = (Status200+Status500)/interval, in_flight by Little's law
// (rps × service time, or p50 when no service time is given), replicas = 1.
func forestInput(f decide.Features, p seedPresence, interval, window float64) (decide.Features, []string) {
	var notes []string
	if interval != window && (f.Status200 > 0 || f.Status500 > 0) {
		k := window / interval
		notes = append(notes, fmt.Sprintf("units: status counts over %gs scaled ×%.3g to the model's %gs window (%g/%g → %g/%g)",
			interval, k, window, f.Status200, f.Status500, f.Status200*k, f.Status500*k))
		orig200, orig500 := f.Status200, f.Status500
		f.Status200 *= k
		f.Status500 *= k
		if !p.rps {
			f.RPS = (orig200 + orig500) / interval
			notes = append(notes, fmt.Sprintf("rps not given: (%g+%g)/%gs = %.3g", orig200, orig500, interval, f.RPS))
		}
		if !p.ratio {
			f.FailureRatio = decide.Sample{Status200: f.Status200, Status500: f.Status500}.FailureRatio()
		}
	} else if !p.rps && (f.Status200 > 0 || f.Status500 > 0) {
		f.RPS = (f.Status200 + f.Status500) / interval
		notes = append(notes, fmt.Sprintf("rps not given: (%g+%g)/%gs = %.3g", f.Status200, f.Status500, interval, f.RPS))
	}
	if !p.inFlight {
		lat := f.ServiceTime
		what := "service time"
		if lat <= 0 {
			lat, what = f.P50, "p50"
		}
		f.InFlight = f.RPS * lat
		notes = append(notes, fmt.Sprintf("in_flight not given: Little's law %.3g rps × %.3gs (%s) = %.3g", f.RPS, lat, what, f.InFlight))
	}
	if !p.replicas || f.Replicas <= 0 {
		f.Replicas = 1
		notes = append(notes, "replicas not given: assumed 1")
	}
	if math.IsNaN(f.FailureRatio) || math.IsInf(f.FailureRatio, 0) {
		f.FailureRatio = 0
	}
	return f, notes
}
