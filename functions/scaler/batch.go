package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/types"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/pkg/fnutil"
)

// batchWorkers bounds the predictions of one batch applied at once (each
// is a policy compare-and-set, maybe a scale call, and a decision append).
const batchWorkers = 8

// BatchResult is the scaler's answer to a chain.PredictionBatch: the
// decisions made, in the batch's order, the predictions ignored (not newer
// than the function's last decision's) and those that failed (with the
// status the single-prediction form would have answered). A decision whose
// scale call or append failed, or that is invalid, is in Decisions (it was
// made and logged) and in Errors too, with 502, 503 or 422.
type BatchResult struct {
	Decisions []decide.Decision `json:"decisions"`
	Ignored   []chain.ItemError `json:"ignored,omitempty"`
	Errors    []BatchError      `json:"errors,omitempty"`
}

// BatchError is one prediction of a batch that failed: it changed nothing,
// or its decision (in Decisions) could not be carried out or logged.
type BatchError struct {
	chain.ItemError
	Status int `json:"status"`
}

// maxLoggedErrors bounds the predictor's error entries logged per batch.
const maxLoggedErrors = 20

// handleBatch applies a chain.PredictionBatch: the signature, its age and
// its id's replay are checked once for the batch, a batch of only the
// predictor's errors too; then the predictor's errors are logged;
// the gateway is read once per namespace when the batch names many of its
// functions, else once per function (see listMin); every prediction is then
// decided with its own policy state and "not newer" rule, and logged as its
// own decision. A batch whose gateway list fails changed nothing: it is
// answered 502 and its id released, so the same batch may be sent again.
func handleBatch(req handler.Request, cfg config, m *metrics, logw io.Writer) (handler.Response, error) {
	var b chain.PredictionBatch
	if err := json.Unmarshal(req.Body, &b); err != nil {
		return fnutil.Error(http.StatusBadRequest, "malformed prediction batch: %v", err)
	}
	// Its items are its predictions and the predictor's errors (one of the
	// two per item of the probe batch).
	if err := chain.CheckSize(len(b.Predictions) + len(b.Errors)); err != nil {
		return fnutil.Error(chain.SizeStatus(err), "scaler: prediction batch, no change: %v", err)
	}
	ss, resp, err := begin(req, cfg, logw, func(k chainauth.Keys, now time.Time) error { return b.Verify(k, now, cfg.policy.StaleAfter) },
		func() string { return b.Auth.ID }, func(why error) (handler.Response, error) { return rejectBatch(b, why) })
	if ss == nil {
		return resp, err
	}
	defer ss.close()
	logPredictorErrors(logw, b)
	if len(b.Predictions) == 0 {
		return fnutil.JSON(http.StatusOK, BatchResult{Decisions: []decide.Decision{}})
	}
	ctx, cancel := ss.step()
	v, err := ss.statuses(ctx, b.Predictions)
	cancel()
	if err != nil {
		// Before any prediction: nothing was changed.
		ss.release(err)
		return fnutil.Error(http.StatusBadGateway, "scaler: list functions through the gateway, no change (the batch may be sent again): %v", err)
	}
	res := ss.applyBatch(ss.ctx, b, v, ss.now)
	for _, d := range res.Decisions {
		m.record(d.Function+cfg.labelSuffix, d)
	}
	return fnutil.JSON(http.StatusOK, res)
}

// logPredictorErrors logs the items of an authenticated batch the
// predictor could not forecast: quoted and clipped (maxLogged), at most
// maxLoggedErrors of them and then how many more.
func logPredictorErrors(w io.Writer, b chain.PredictionBatch) {
	for i, e := range b.Errors {
		if i == maxLoggedErrors {
			fmt.Fprintf(w, "scaler: predictor could not answer %d more items of batch %q, no change\n", len(b.Errors)-i, b.Auth.ID)
			return
		}
		fmt.Fprintf(w, "scaler: predictor could not answer %q (item %d), no change: %q\n",
			clip(e.Function, maxLogged), e.Index, clip(e.Error, maxLogged))
	}
}

// rejectBatch answers 401 to a batch that is not authenticated.
func rejectBatch(b chain.PredictionBatch, why error) (handler.Response, error) {
	id := ""
	if b.Auth != nil {
		id = fmt.Sprintf(" (id %q)", b.Auth.ID)
	}
	return fnutil.Error(http.StatusUnauthorized, "scaler: rejected prediction batch of %d predictions and %d predictor errors%s, no change: %v (the chain signs with secret %s; README, Security)",
		len(b.Predictions), len(b.Errors), id, why, chainauth.SecretName)
}

// listMin: see chain.ListMin.
const listMin = chain.ListMin

// view is what a batch read from the gateway: the statuses of each listed
// namespace, keyed as policy state is (faas.Canonical). A function of a
// namespace not in it is read alone.
type view map[string]map[string]types.FunctionStatus

// statuses lists each namespace that at least listMin of the predictions
// name; the functions of other namespaces are left to single reads. A
// prediction whose name is bad is left out (apply reports it).
func (s scaler) statuses(ctx context.Context, preds []chain.Prediction) (view, error) {
	defaultNS := s.defaultNamespace()
	perNS := map[string]int{}
	for _, p := range preds {
		if _, ns, _, err := faas.Canonical(p.Function, p.Namespace, defaultNS); err == nil {
			if ns == "" {
				ns = s.cfg.Namespace
			}
			perNS[ns]++
		}
	}
	v := view{}
	for ns, n := range perNS {
		if n < listMin {
			continue
		}
		fns, err := s.gw.GetFunctions(ctx, ns)
		if err != nil {
			return nil, fmt.Errorf("namespace %q: %w", ns, err)
		}
		listed := map[string]types.FunctionStatus{}
		for _, f := range fns {
			if _, _, key, err := faas.Canonical(f.Name, ns, defaultNS); err == nil {
				listed[key] = f
			}
		}
		v[ns] = listed
	}
	return v, nil
}

func (s scaler) defaultNamespace() string {
	if s.cfg.Namespace == "" {
		return faas.DefaultNamespace
	}
	return s.cfg.Namespace
}

// applyBatch applies every prediction of b (at most batchWorkers at once,
// each with its own stepTimeout from ctx) and logs each decision line as
// the single form does.
func (s scaler) applyBatch(ctx context.Context, b chain.PredictionBatch, v view, now time.Time) BatchResult {
	type outcome struct {
		d      decide.Decision
		status int
		err    error
	}
	outs := make([]outcome, len(b.Predictions))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(batchWorkers, len(b.Predictions)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p := b.Predictions[i]
				if p.Function == "" {
					outs[i] = outcome{status: http.StatusBadRequest, err: errors.New("prediction names no function")}
					continue
				}
				ictx, cancel := context.WithTimeout(ctx, stepTimeout)
				d, status, err := s.apply(ictx, p, v, now)
				cancel()
				outs[i] = outcome{d, status, err}
				switch {
				case errors.Is(err, errNotNewer):
					fmt.Fprintf(s.log, "scaler: %s call %s ignored, no change: %v\n", p.Function, b.Auth.ID, err)
				case err != nil:
					fmt.Fprintf(s.log, "scaler: %s call %s: %v\n", p.Function, b.Auth.ID, err)
				default:
					fmt.Fprintln(s.log, "scaler: "+d.Summary())
				}
			}
		}()
	}
	for i := range b.Predictions {
		work <- i
	}
	close(work)
	wg.Wait()
	res := BatchResult{Decisions: []decide.Decision{}}
	for i, o := range outs {
		fn := b.Predictions[i].Function
		switch {
		case errors.Is(o.err, errNotNewer):
			res.Ignored = append(res.Ignored, chain.ItemError{Index: i, Function: fn, Error: o.err.Error()})
		case o.err != nil:
			res.Errors = append(res.Errors, BatchError{chain.ItemError{Index: i, Function: fn, Error: o.err.Error()}, o.status})
		default:
			res.Decisions = append(res.Decisions, o.d)
			if o.status != http.StatusOK {
				res.Errors = append(res.Errors, BatchError{chain.ItemError{Index: i, Function: fn, Error: failure(o.d)}, o.status})
			}
		}
	}
	return res
}

// failure says what went wrong with a decision commit answered with a
// status other than 200.
func failure(d decide.Decision) string {
	if !d.Invalid {
		return d.Error
	}
	msg := "invalid decision: " + d.Reason // the policy's why (decide.Policy.Decide)
	if d.Error != "" {
		msg += "; " + d.Error
	}
	return msg
}
