package api

import (
	"context"
	"encoding/json"
	"net/http"
	goruntime "runtime"
	"strconv"
	"time"

	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
)

// Provider identity reported by /system/info.
const (
	ProviderName  = "prescale"
	Orchestration = "process"
)

// systemInfo is the gateway's /system/info answer: faas-cli needs both
// provider and version.
type systemInfo struct {
	Provider types.ProviderInfo `json:"provider"`
	Version  types.VersionInfo  `json:"version"`
	Arch     string             `json:"arch"`
}

// info: GET /system/info.
func (a *API) info(w http.ResponseWriter, r *http.Request) {
	v := a.cfg.Version
	writeJSON(w, http.StatusOK, systemInfo{
		Provider: types.ProviderInfo{Name: ProviderName, Orchestration: Orchestration, Version: &v},
		Version:  v,
		Arch:     goruntime.GOARCH,
	})
}

// listNamespaces: GET /system/namespaces → ["openfaas-fn"], never empty.
func (a *API) listNamespaces(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []string{Namespace})
}

// namespaceNotImplemented: GET /system/namespace/{name} → 501, as
// faas-provider without a MutateNamespace handler.
func (a *API) namespaceNotImplemented(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "Feature not implemented in this version of OpenFaaS", http.StatusNotImplemented)
}

// healthz: GET|HEAD /healthz → 200.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte("OK"))
	}
}

// functionLogs: GET /system/logs?name=&namespace=&instance=&tail=&follow=&since=
// → ndjson of logs.Message, streamed until the runtime closes the channel,
// the client goes away or LogsTimeout passes.
func (a *API) functionLogs(w http.ResponseWriter, r *http.Request) {
	req, err := parseLogsRequest(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, err := a.cfg.Runtime.Status(req.Name); err != nil {
		a.writeError(w, r, a.runtimeError(req.Name, err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.LogsTimeout)
	defer cancel()
	msgs, err := a.cfg.Runtime.Logs(ctx, req)
	if err != nil {
		a.writeError(w, r, a.runtimeError(req.Name, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flush := func() {}
	if f, ok := w.(http.Flusher); ok {
		flush = f.Flush
	}
	flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if m.Namespace == "" {
				m.Namespace = Namespace
			}
			if err := enc.Encode(m); err != nil {
				return
			}
			flush()
		}
	}
}

func parseLogsRequest(r *http.Request) (logs.Request, error) {
	q := r.URL.Query()
	req := logs.Request{Name: q.Get("name"), Namespace: q.Get("namespace"), Instance: q.Get("instance")}
	if err := ValidateName(req.Name); err != nil {
		return req, err
	}
	if err := checkNamespace(req.Namespace); err != nil {
		return req, err
	}
	req.Namespace = Namespace
	if v := q.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return req, errorf(http.StatusBadRequest, "tail=%q must be an integer (<= 0 means all)", v)
		}
		req.Tail = n
	}
	if v := q.Get("follow"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return req, errorf(http.StatusBadRequest, "follow=%q must be true or false", v)
		}
		req.Follow = b
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return req, errorf(http.StatusBadRequest, "since=%q must be an RFC 3339 time (e.g. 2006-01-02T15:04:05Z)", v)
		}
		req.Since = &t
	}
	return req, nil
}
