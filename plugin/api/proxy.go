package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/plugin/gwmetrics"
)

// invokeFunction: /function/{name}[/{params}] (any method) → the runtime's
// dispatcher. The name may carry the namespace suffix ".openfaas-fn".
// Only these synchronous calls are counted in gateway_function_* metrics.
func (a *API) invokeFunction(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	name, ok := a.resolve(vars["name"])
	if !ok {
		http.Error(w, "function "+vars["name"]+" not found", http.StatusNotFound)
		return
	}
	if err := a.limitBody(w, r); err != nil {
		a.writeError(w, r, err)
		return
	}
	path := "/" + vars["params"]

	m := a.cfg.Metrics
	m.Started(name)
	start := time.Now()
	sw := gwmetrics.NewStatusWriter(w)
	a.cfg.Runtime.Invoke(sw, r, name, path)
	m.Completed(name, sw.Status(), time.Since(start))
}

// resolve finds the deployed function for a raw name, "fn" or
// "fn.openfaas-fn", and returns its plain name (the metrics label).
func (a *API) resolve(raw string) (string, bool) {
	candidates := []string{raw}
	if base := faas.BaseName(raw, Namespace); base != raw {
		candidates = append(candidates, base)
	}
	for _, c := range candidates {
		if st, err := a.cfg.Runtime.Status(c); err == nil {
			if st.Spec.Name != "" {
				return st.Spec.Name, true
			}
			return c, true
		}
	}
	return "", false
}

// limitBody enforces the body limit: 413 when Content-Length says too much;
// a body of unknown length is read up to the limit first.
func (a *API) limitBody(w http.ResponseWriter, r *http.Request) error {
	limit := a.cfg.BodyLimit
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "request body larger than the limit of %d bytes", limit)
	if r.ContentLength > limit {
		return tooLarge
	}
	if r.ContentLength >= 0 || r.Body == nil || r.Body == http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge
		}
		return &Error{Status: http.StatusBadRequest, Msg: "reading request body", Err: err}
	}
	if int64(len(body)) > limit {
		return tooLarge
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	return nil
}
