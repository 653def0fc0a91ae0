package function

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/inference"
)

// Handle answers a probe payload or a seed feature vector, and GET
// …/metrics with the predictor's Prometheus metrics.
func Handle(req handler.Request) (handler.Response, error) {
	m := processMetrics()
	if fnutil.IsMetricsRequest(req) {
		return fnutil.Metrics(m.reg)
	}
	cfg, err := readConfig(processModels)
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "predictor configuration: %v", err)
	}
	cfg.metrics = m
	cfg.keys, cfg.keyErr = fnutil.ChainKeys()
	return cfg.handle(req.Body, req.Header.Get("X-Call-Id"), time.Now().UTC())
}

// handle answers body at now; callID is the X-Call-Id the predictor was
// invoked with (the async call's id), the id its signature carries.
func (c config) handle(body []byte, callID string, now time.Time) (handler.Response, error) {
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
		return fnutil.Error(http.StatusBadRequest, "empty body: send load-probe's payload or a feature vector such as {\"p50\":0.02,\"p90\":0.05,\"p99\":0.1,\"error_rate\":0,\"Status200\":100,\"Status500\":0}")
	case len(body) > c.maxBody:
		return fnutil.Error(http.StatusRequestEntityTooLarge, "body of %d bytes is over the %d-byte limit", len(body), c.maxBody)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return fnutil.Error(http.StatusBadRequest, "malformed JSON: %v", err)
	}
	if chain.IsBatch(keys) {
		return c.handleBatch(body, callID, now)
	}
	_, hasHistory := keys["history"]
	_, hasFunction := keys["function"]
	if hasHistory || hasFunction {
		var p chain.ProbePayload
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&p); err != nil {
			return fnutil.Error(http.StatusBadRequest, "malformed probe payload: %v", err)
		}
		pred, step, err := c.predict(p, now)
		if err != nil {
			return fnutil.Error(http.StatusBadRequest, "%v", err)
		}
		if why := c.authenticate(p, now); why != nil {
			// Answered, but unsigned: the scaler acts on nothing else.
			pred.Reasons = append(pred.Reasons, fmt.Sprintf("unsigned answer, the scaler will not act on it: %v", why))
			return fnutil.JSON(http.StatusOK, pred)
		}
		if err := pred.Sign(c.keys, now, messageID(callID)); err != nil {
			return fnutil.Error(http.StatusInternalServerError, "%v", err)
		}
		if c.metrics != nil {
			// Only signed payloads (load-probe's, for deployed opted-in
			// functions) get metric series: the label set stays bounded.
			c.metrics.observe(p.Function+c.labelSuffix, step.Observed, step.At, step.Horizon, step.Forecast.RPS, step.Recommended)
		}
		return fnutil.JSON(http.StatusOK, pred)
	}
	f, unknown, err := decide.ParseFeatures(body)
	if err != nil {
		return fnutil.Error(http.StatusBadRequest, "feature vector: %v (known: p50, p90, p99, error_rate, Status200, Status500, failure_ratio, rps, in_flight, service_time, replicas)", err)
	}
	interval := 0.0
	if raw, ok := keys["interval"]; ok {
		if err := json.Unmarshal(raw, &interval); err != nil || interval < 1 || interval > 3600 {
			return fnutil.Error(http.StatusBadRequest, "feature vector: \"interval\" (seconds the status counts cover) must be a number in 1..3600, got %s", raw)
		}
		unknown = slices.DeleteFunc(unknown, func(k string) bool { return k == "interval" })
	}
	reasons := append([]string(nil), c.notes...)
	if forest, ok := c.seed.(*inference.ReplicaModel); ok {
		window := seedWindow(forest)
		if interval == 0 {
			interval = window
		}
		var notes []string
		f, notes = forestInput(f, presence(slices.Collect(maps.Keys(keys))), interval, window)
		reasons = append(reasons, notes...)
	}
	n, why, err := c.seed.PredictReplicas(f)
	if err != nil {
		return fnutil.Error(http.StatusBadRequest, "predict: %v", err)
	}
	return fnutil.JSON(http.StatusOK, chain.SeedAnswer{
		Replicas: n, Model: c.seed.Name(), Version: c.seed.Version(), Features: f,
		Reasons: append(reasons, why...), Ignored: unknown,
	})
}

// handleBatch answers a chain.ProbeBatch: every item forecast on its own
// (a bad one gets an ItemError and the rest are answered), the answer
// signed once when the batch carried load-probe's valid signature.
func (c config) handleBatch(body []byte, callID string, now time.Time) (handler.Response, error) {
	var b chain.ProbeBatch
	if err := json.Unmarshal(body, &b); err != nil {
		return fnutil.Error(http.StatusBadRequest, "malformed probe batch: %v", err)
	}
	if err := chain.CheckSize(len(b.Items)); err != nil {
		return fnutil.Error(chain.SizeStatus(err), "probe batch: %v", err)
	}
	why := c.authenticateBatch(b, now)
	out := chain.PredictionBatch{At: b.At, Predictions: make([]chain.Prediction, 0, len(b.Items))}
	steps := make([]decide.Prediction, 0, len(b.Items))
	for i, p := range b.Items {
		p.Auth = nil // covered by the batch's signature, never checked alone
		pred, step, err := c.predict(p, now)
		if err != nil {
			out.Errors = append(out.Errors, chain.ItemError{Index: i, Function: p.Function, Error: err.Error()})
			continue
		}
		out.Predictions = append(out.Predictions, pred)
		steps = append(steps, step)
	}
	if why != nil {
		out.Reasons = append(out.Reasons, fmt.Sprintf("unsigned answer, the scaler will not act on it: %v", why))
		return fnutil.JSON(http.StatusOK, out)
	}
	if err := out.Sign(c.keys, now, messageID(callID)); err != nil {
		return fnutil.Error(http.StatusInternalServerError, "%v", err)
	}
	if c.metrics != nil {
		for i, step := range steps {
			c.metrics.observe(out.Predictions[i].Function+c.labelSuffix, step.Observed, step.At, step.Horizon, step.Forecast.RPS, step.Recommended)
		}
	}
	return fnutil.JSON(http.StatusOK, out)
}

// authenticateBatch is authenticate for a batch.
func (c config) authenticateBatch(b chain.ProbeBatch, now time.Time) error {
	if b.Auth == nil {
		return chainauth.ErrUnsigned
	}
	err := c.keyErr
	if err == nil {
		err = b.Verify(c.keys, now, c.staleAfter)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "predictor: batch of %d (id %s) not authenticated, answered unsigned: %v\n", len(b.Items), b.Auth.ID, err)
	}
	return err
}

// authenticate says why p's answer is not to be signed (nil: sign it): no
// chain key configured, or p is unsigned, forged or stale. A payload that
// carried a signature and failed is logged.
func (c config) authenticate(p chain.ProbePayload, now time.Time) error {
	if p.Auth == nil {
		return chainauth.ErrUnsigned
	}
	err := c.keyErr
	if err == nil {
		err = p.Verify(c.keys, now, c.staleAfter)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "predictor: payload for %s (id %s) not authenticated, answered unsigned: %v\n", p.Function, p.Auth.ID, err)
	}
	return err
}

// messageID is the id the answer's signature carries: the async call id
// when it is one, else a fresh nonce.
func messageID(callID string) string {
	if chainauth.ValidID(callID) {
		return callID
	}
	if id, err := chainauth.NewID(); err == nil {
		return id
	}
	return "predictor-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// predict forecasts one function's demand and recommends replicas.
func (c config) predict(p chain.ProbePayload, now time.Time) (chain.Prediction, decide.Prediction, error) {
	if p.Function == "" {
		return chain.Prediction{}, decide.Prediction{}, errors.New("probe payload: no function name")
	}
	if len(p.History) == 0 {
		return chain.Prediction{}, decide.Prediction{}, fmt.Errorf("probe payload for %s: empty history", p.Function)
	}
	set, err := decide.ParseSettings(p.Labels, c.defaults)
	if err != nil {
		return chain.Prediction{}, decide.Prediction{}, fmt.Errorf("labels of %s: %w", p.Function, err)
	}
	step, err := decide.Predict(c.forecaster, decide.PredictInput{
		Function: p.Function, History: p.History, At: p.At, Horizon: c.horizon, Settings: set,
	}, now)
	if err != nil {
		return chain.Prediction{}, decide.Prediction{}, err
	}
	return chain.NewPrediction(p, step, c.notes), step, nil
}
