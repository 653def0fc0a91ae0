package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	sdk "github.com/openfaas/go-sdk"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/state"
)

// Handle is the queue worker's callback with predictor's answer; GET
// …/metrics answers with the scaler's Prometheus metrics.
func Handle(req handler.Request) (handler.Response, error) {
	m := processMetrics()
	if fnutil.IsMetricsRequest(req) {
		return fnutil.Metrics(m.reg)
	}
	if st := req.Header.Get("X-Function-Status"); st != "" {
		code, err := strconv.Atoi(st)
		if err != nil || code < 200 || code > 299 {
			msg := strings.TrimSpace(string(req.Body))
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			fmt.Fprintf(os.Stderr, "scaler: %s call %s returned X-Function-Status %s: no change (%s)\n",
				req.Header.Get("X-Function-Name"), req.Header.Get("X-Call-Id"), st, msg)
			return fnutil.JSON(http.StatusOK, map[string]string{"result": "ignored", "reason": "predictor status " + st})
		}
	}
	cfg, err := loadConfig()
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "scaler configuration: %v", err)
	}
	var p chain.Prediction
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	if err := dec.Decode(&p); err != nil {
		return fnutil.Error(http.StatusBadRequest, "malformed prediction: %v", err)
	}
	if p.Function == "" {
		return fnutil.Error(http.StatusBadRequest, "prediction names no function")
	}
	client, err := fnutil.Gateway(cfg.Gateway)
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "scaler: %v", err)
	}
	ctx, cancel := context.WithTimeout(fnutil.Context(req), 30*time.Second)
	defer cancel()
	store, nc, err := state.Connect(ctx, cfg.NATS, state.DefaultConfig())
	if err != nil {
		return fnutil.Error(http.StatusServiceUnavailable, "scaler: state store unavailable, no change: %v", err)
	}
	defer nc.Close()
	s := scaler{cfg: cfg, gw: client, store: store}
	d, status, err := s.apply(ctx, p, time.Now().UTC())
	if err != nil {
		return fnutil.Error(status, "scaler: %v", err)
	}
	m.record(p.Function+cfg.labelSuffix, d)
	fmt.Fprintln(os.Stderr, "scaler: "+d.Summary())
	return fnutil.JSON(status, d)
}

type scaler struct {
	cfg   config
	gw    *sdk.Client
	store *state.Store
}

func (s scaler) apply(ctx context.Context, p chain.Prediction, now time.Time) (decide.Decision, int, error) {
	ns := p.Namespace
	if ns == "" {
		ns = s.cfg.Namespace
	}
	fn, err := fnutil.GetFunction(ctx, s.gw, p.Function, ns)
	if err != nil {
		if errors.Is(err, fnutil.ErrFunctionNotFound) {
			return decide.Decision{}, http.StatusNotFound, fmt.Errorf("function %q: %w", p.Function, err)
		}
		return decide.Decision{}, http.StatusBadGateway, fmt.Errorf("read %s through the gateway, no change: %w", p.Function, err)
	}
	labels := map[string]string{}
	if fn.Labels != nil {
		labels = *fn.Labels
	}
	set, err := decide.ParseSettings(labels, s.cfg.defaults)
	if err != nil {
		return decide.Decision{}, http.StatusUnprocessableEntity, fmt.Errorf("labels of %s, no change: %w", p.Function, err)
	}
	if !set.Enabled {
		return decide.Decision{}, http.StatusConflict, fmt.Errorf("%s is not opted in (label %s=true), no change", p.Function, decide.LabelEnabled)
	}
	in := p.Step().PolicyInput(p.Function, int(fn.Replicas), set, s.cfg.reactive())
	var d decide.Decision
	err = s.store.UpdatePolicy(ctx, p.Function, func(st decide.State) (decide.State, error) {
		var next decide.State
		d, next = s.cfg.policy.Decide(in, st, now)
		if d.Invalid {
			return st, nil
		}
		return next, nil
	})
	if err != nil {
		return decide.Decision{}, http.StatusServiceUnavailable, fmt.Errorf("policy state of %s, no change: %w", p.Function, err)
	}
	if s.cfg.reactive() {
		d.Reasons = append(d.Reasons, "scaler mode reactive: forecasts ignored")
	}
	status := http.StatusOK
	if d.Scale && !d.Invalid {
		if err := s.gw.ScaleFunction(ctx, p.Function, ns, uint64(d.After)); err != nil {
			d.Error = err.Error()
			status = http.StatusBadGateway
		} else {
			d.Applied = true
		}
	}
	if err := s.store.AppendDecision(ctx, d); err != nil {
		fmt.Fprintf(os.Stderr, "scaler: %v\n", err)
		if status == http.StatusOK {
			status = http.StatusServiceUnavailable
		}
		d.Error = strings.TrimPrefix(d.Error+"; "+err.Error(), "; ")
	}
	if d.Invalid {
		status = http.StatusUnprocessableEntity
	}
	return d, status, nil
}
