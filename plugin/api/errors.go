package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/prescale/prescale/plugin/runtime"
)

// Error is an error with the HTTP status the API answers it with.
type Error struct {
	Status int
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// StatusOf is the HTTP status for err: an *Error's own, else 500.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// writeError answers err as text/plain with its status and message.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	if status >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		a.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	http.Error(w, err.Error(), status)
}

// decodeJSON reads a JSON body of at most the body limit into v.
// Malformed JSON → 400 naming the error; too large → 413; empty → 400.
func (a *API) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.BodyLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "request body larger than the limit of %d bytes", a.cfg.BodyLimit)
		}
		return &Error{Status: http.StatusBadRequest, Msg: "reading request body", Err: err}
	}
	if len(body) == 0 {
		return errorf(http.StatusBadRequest, "empty request body: a JSON object is required")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "malformed JSON", Err: err}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// checkNamespace accepts "" and Namespace; anything else is 404 as on a
// cluster without that namespace.
func checkNamespace(ns string) error {
	if ns == "" || ns == Namespace {
		return nil
	}
	return errorf(http.StatusNotFound, "namespace %q not found: this platform has only %q", ns, Namespace)
}

// ErrNotFound is the runtime's "no such function" error; Runtime methods
// return an error matching it (errors.Is) for an absent function.
var ErrNotFound = runtime.ErrNotFound
