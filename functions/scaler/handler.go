package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openfaas/faas-provider/types"
	sdk "github.com/openfaas/go-sdk"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chain"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/state"
)

// Handle is the queue worker's callback with predictor's answer; GET
// …/metrics answers with the scaler's Prometheus metrics.
func Handle(req handler.Request) (handler.Response, error) { return handle(req, os.Stderr) }

// handle is Handle with its log lines written to logw (the function's
// stderr; a test's buffer). Error answers are logged by fnutil.Error.
func handle(req handler.Request, logw io.Writer) (handler.Response, error) {
	m := processMetrics()
	if fnutil.IsMetricsRequest(req) {
		return fnutil.Metrics(m.reg)
	}
	if st := req.Header.Get("X-Function-Status"); st != "" {
		code, err := strconv.Atoi(st)
		if err != nil || code < 200 || code > 299 {
			// Not authenticated: quoted, so the body cannot forge log lines.
			fmt.Fprintf(logw, "scaler: %q call %q returned X-Function-Status %q: no change (%q)\n",
				req.Header.Get("X-Function-Name"), req.Header.Get("X-Call-Id"), st, clip(strings.TrimSpace(string(req.Body)), maxLogged))
			return fnutil.JSON(http.StatusOK, map[string]string{"result": "ignored", "reason": "predictor status " + st})
		}
	}
	cfg, err := loadConfig()
	if err != nil {
		return fnutil.Error(http.StatusInternalServerError, "scaler configuration: %v", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(req.Body, &keys); err != nil {
		return fnutil.Error(http.StatusBadRequest, "malformed prediction: %v", err)
	}
	if chain.IsBatch(keys) {
		return handleBatch(req, cfg, m, logw)
	}
	var p chain.Prediction
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	if err := dec.Decode(&p); err != nil {
		return fnutil.Error(http.StatusBadRequest, "malformed prediction: %v", err)
	}
	if p.Function == "" {
		return fnutil.Error(http.StatusBadRequest, "prediction names no function")
	}
	// Authenticate before anything else is touched: an unsigned, forged or
	// stale body reaches neither the gateway nor the state store.
	ss, resp, err := begin(req, cfg, logw, func(k chainauth.Keys, now time.Time) error { return p.Verify(k, now, cfg.policy.StaleAfter) },
		func() string { return p.Auth.ID }, func(why error) (handler.Response, error) { return reject(p, why) })
	if ss == nil {
		return resp, err
	}
	defer ss.close()
	ctx, cancel := ss.step()
	defer cancel()
	tg, status, err := ss.prepare(ctx, p, nil)
	if err != nil {
		// Nothing was changed: the same prediction may be sent again.
		ss.release(err)
		return fnutil.Error(status, "scaler: %v", err)
	}
	d, status, err := ss.commit(ctx, p, tg, ss.now)
	if errors.Is(err, errNotNewer) {
		fmt.Fprintf(logw, "scaler: %s call %s ignored, no change: %v\n", p.Function, p.Auth.ID, err)
		return fnutil.JSON(http.StatusOK, map[string]string{"result": "ignored", "reason": err.Error()})
	}
	if err != nil {
		return fnutil.Error(status, "scaler: %v", err)
	}
	m.record(d.Function+cfg.labelSuffix, d)
	fmt.Fprintln(logw, "scaler: "+d.Summary())
	return fnutil.JSON(status, d)
}

// stepTimeout bounds each step of a message's work, each with a context of
// its own: opening the state store, the replay check, a batch's gateway
// lists, and each prediction's apply (a gateway read, the policy
// compare-and-set, maybe a scale call, the decision append). A batch as a
// whole has no deadline of its own: its predictions are applied at most
// batchWorkers at once, each within stepTimeout, so a batch of n ends
// within about (⌈n/batchWorkers⌉ + 4) × stepTimeout, and one slow
// function cannot use up the time of the others. The request's end
// does not stop the work of a message once authenticated (see begin).
const stepTimeout = 30 * time.Second

// session is an authenticated message's context: the gateway client and
// the state store, opened only once the signature and its age were
// checked, with the message's id recorded as seen (a replay is refused).
type session struct {
	scaler
	ctx   context.Context // the request's values, not its end; each step adds stepTimeout (see step)
	now   time.Time
	mark  state.SeenMark // the message's id, marked seen
	close func()
}

// step is the context of one step of the message's work: ss.ctx bounded
// by stepTimeout.
func (ss *session) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(ss.ctx, stepTimeout)
}

// release forgets that the message was seen, so the very same message may
// be sent again: call it only when the work failed (why) before anything
// was changed — no policy state updated, nothing scaled, no decision
// appended. It runs even when the request was cancelled; a failure is
// logged (a retry of the message is then refused as a replay).
func (ss *session) release(why error) {
	ctx, cancel := ss.step()
	defer cancel()
	if err := ss.store.Unmark(ctx, ss.mark); err != nil {
		fmt.Fprintf(ss.log, "scaler: %v (after %v): a retry of the message will be refused as replayed\n", err, why)
	}
}

// begin authenticates a message (a prediction or a batch) with verify
// before anything else is touched, reject answering one that fails; then
// it opens the gateway client and the state store and marks id() as seen.
// The session's scaler logs to logw. A nil session comes with the response
// to give.
func begin(req handler.Request, cfg config, logw io.Writer, verify func(chainauth.Keys, time.Time) error, id func() string,
	reject func(error) (handler.Response, error)) (*session, handler.Response, error) {
	fail := func(r handler.Response, err error) (*session, handler.Response, error) { return nil, r, err }
	keys, err := fnutil.ChainKeys()
	if err != nil {
		return fail(fnutil.Error(http.StatusInternalServerError, "scaler: no change, nothing can be authenticated: %v", err))
	}
	now := time.Now().UTC()
	if err := verify(keys, now); err != nil {
		return fail(reject(err))
	}
	client, err := fnutil.Gateway(cfg.Gateway)
	if err != nil {
		return fail(fnutil.Error(http.StatusInternalServerError, "scaler: %v", err))
	}
	// Once authenticated, a message's work is done to its end even if the
	// caller goes away (the request's context ends): nothing accepted is
	// half applied and then lost; each step still has stepTimeout.
	ss := &session{ctx: context.WithoutCancel(fnutil.Context(req)), now: now}
	connectCtx, cancel := ss.step()
	store, nc, err := state.Connect(connectCtx, cfg.NATS, stateConfig(cfg))
	cancel()
	if err != nil {
		return fail(fnutil.Error(http.StatusServiceUnavailable, "scaler: state store unavailable, no change: %v", err))
	}
	markCtx, cancel := ss.step()
	ss.mark, err = store.MarkSeen(markCtx, id(), now)
	cancel()
	if err != nil {
		nc.Close()
		if errors.Is(err, state.ErrSeen) {
			return fail(reject(fmt.Errorf("%w: %v", chainauth.ErrReplayed, err)))
		}
		return fail(fnutil.Error(http.StatusServiceUnavailable, "scaler: replay check, no change: %v", err))
	}
	ss.scaler, ss.close = scaler{cfg: cfg, gw: client, store: store, log: logw}, nc.Close
	return ss, handler.Response{}, nil
}

// reject answers 401 to a prediction that is not authenticated (why: a
// chainauth error), and logs why; nothing is scaled.
func reject(p chain.Prediction, why error) (handler.Response, error) {
	id := ""
	if p.Auth != nil {
		id = fmt.Sprintf(" (id %q)", p.Auth.ID)
	}
	return fnutil.Error(http.StatusUnauthorized, "scaler: rejected prediction for %q%s, no change: %v (the chain signs with secret %s; README, Security)",
		p.Function, id, why, chainauth.SecretName)
}

// stateConfig is the scaler's store: with the seen-id bucket, whose TTL
// covers every timestamp Verify accepts (stale_after either side of now)
// plus a minute.
func stateConfig(cfg config) state.Config {
	sc := state.DefaultConfig()
	sc.SeenTTL = 2*cfg.policy.StaleAfter + time.Minute
	return sc
}

// function is the status of name in ns: from v (the batch's list of ns)
// when it listed ns, else read alone.
func (s scaler) function(ctx context.Context, v view, name, ns, key string) (types.FunctionStatus, error) {
	listed, ok := v[ns]
	if !ok {
		return fnutil.GetFunction(ctx, s.gw, name, ns)
	}
	fn, ok := listed[key]
	if !ok {
		return types.FunctionStatus{}, fmt.Errorf("%w: %s (namespace %q) is not in the gateway's function list", fnutil.ErrFunctionNotFound, name, ns)
	}
	return fn, nil
}

// errNotNewer: the prediction is not newer than the one the function's
// last decision was made on.
var errNotNewer = errors.New("not newer than the last decision's")

type scaler struct {
	cfg   config
	gw    *sdk.Client
	store *state.Store
	log   io.Writer // safe for concurrent writes (a batch's workers share it)
}

// apply decides (and scales) on p at now: prepare, then commit (which says
// what the statuses mean). v, when not nil, is what the batch read of the
// gateway (see view); nil: the function is read alone.
func (s scaler) apply(ctx context.Context, p chain.Prediction, v view, now time.Time) (decide.Decision, int, error) {
	t, status, err := s.prepare(ctx, p, v)
	if err != nil {
		return decide.Decision{}, status, err
	}
	return s.commit(ctx, p, t, now)
}

// target is what prepare read of a prediction's function.
type target struct {
	name, ns, key string // faas.Canonical's, ns resolved
	in            decide.Input
	zset          decide.ZeroSettings
}

// prepare reads p's function (from v, or alone when v has not listed its
// namespace) and its settings. It changes nothing: on an error (with the
// status to answer) the prediction may be applied again later.
func (s scaler) prepare(ctx context.Context, p chain.Prediction, v view) (target, int, error) {
	defaultNS := s.defaultNamespace()
	// One name per function before any lookup: "hello.openfaas-fn" is
	// "hello", with hello's policy state.
	name, ns, key, err := faas.Canonical(p.Function, p.Namespace, defaultNS)
	if err != nil {
		return target{}, http.StatusBadRequest, fmt.Errorf("no change: %w", err)
	}
	if ns == "" {
		ns = s.cfg.Namespace
	}
	if p.At.IsZero() {
		return target{}, http.StatusBadRequest, fmt.Errorf("prediction for %s has no time (at), no change", key)
	}
	fn, err := s.function(ctx, v, name, ns, key)
	if err != nil {
		if errors.Is(err, fnutil.ErrFunctionNotFound) {
			return target{}, http.StatusNotFound, fmt.Errorf("function %q: %w", p.Function, err)
		}
		return target{}, http.StatusBadGateway, fmt.Errorf("read %s through the gateway, no change: %w", p.Function, err)
	}
	labels := map[string]string{}
	if fn.Labels != nil {
		labels = *fn.Labels
	}
	set, err := decide.ParseSettings(labels, s.cfg.defaults)
	if err != nil {
		return target{}, http.StatusUnprocessableEntity, fmt.Errorf("labels of %s, no change: %w", p.Function, err)
	}
	if !set.Enabled {
		return target{}, http.StatusConflict, fmt.Errorf("%s is not opted in (label %s=true), no change", p.Function, decide.LabelEnabled)
	}
	in := p.Step().PolicyInput(key, int(fn.Replicas), set, s.cfg.reactive())
	zset, err := decide.ParseZeroSettings(labels, decide.DefaultZeroSettings())
	if err != nil {
		return target{}, http.StatusUnprocessableEntity, fmt.Errorf("scale-to-zero labels of %s, no change: %w", p.Function, err)
	}
	zset.CEClamp = s.cfg.policy.CEClamp
	return target{name: name, ns: ns, key: key, in: in, zset: zset}, http.StatusOK, nil
}

// commit decides on p for t at now under the function's policy state
// (compare-and-set; errNotNewer, status 200, when p is not newer than the
// last decision's), scales when the decision says so and appends the
// decision to the stream. A decision comes with err nil and the status to
// answer: 200, 502 (the scale call failed), 503 (the append failed) or 422
// (the decision is invalid); d.Error says what failed.
func (s scaler) commit(ctx context.Context, p chain.Prediction, t target, now time.Time) (decide.Decision, int, error) {
	name, ns, key, in, zset := t.name, t.ns, t.key, t.in, t.zset
	var d decide.Decision
	err := s.store.UpdatePolicy(ctx, key, func(st decide.State) (decide.State, error) {
		if !st.LastAt.IsZero() && !p.At.After(st.LastAt) {
			// Compared inside the compare-and-set: of two predictions
			// racing, the older one loses whichever lands first.
			return st, fmt.Errorf("prediction for %s at %s: %w (at %s)", key,
				p.At.UTC().Format(time.RFC3339Nano), errNotNewer, st.LastAt.UTC().Format(time.RFC3339Nano))
		}
		var next decide.State
		d, next = s.cfg.policy.Decide(in, st, now)
		if zset.Enabled && p.Arrivals != nil {
			// The scale-to-zero decision at the scaler's own now, on the
			// replicas the gateway reports now.
			z := decide.DecideZero(*p.Arrivals, now, zset, decide.ZeroObservation{Replicas: in.Current, InFlight: in.Observed.InFlight})
			d = decide.WithZero(d, z)
		}
		if d.Invalid {
			return st, nil
		}
		next.LastAt = p.At
		return next, nil
	})
	if errors.Is(err, errNotNewer) {
		return decide.Decision{}, http.StatusOK, err
	}
	if err != nil {
		return decide.Decision{}, http.StatusServiceUnavailable, fmt.Errorf("policy state of %s, no change: %w", key, err)
	}
	if s.cfg.reactive() {
		d.Reasons = append(d.Reasons, "scaler mode reactive: forecasts ignored")
	}
	status := http.StatusOK
	if d.Scale && !d.Invalid {
		if err := s.gw.ScaleFunction(ctx, name, ns, uint64(d.After)); err != nil {
			d.Error = err.Error()
			status = http.StatusBadGateway
		} else {
			d.Applied = true
		}
	}
	if err := s.store.AppendDecision(ctx, d); err != nil {
		fmt.Fprintf(s.log, "scaler: %v\n", err)
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

// maxLogged bounds a message from outside (a predictor's error, a failed
// callback's body) in the log, in bytes.
const maxLogged = 300

// clip is s cut to at most n bytes (on a rune boundary), "…" marking a cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
