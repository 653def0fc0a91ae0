package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/plugin/runtime"
)

// listFunctions: GET /system/functions[?namespace=] → 200 JSON array, never null.
func (a *API) listFunctions(w http.ResponseWriter, r *http.Request) {
	if err := checkNamespace(r.URL.Query().Get("namespace")); err != nil {
		a.writeError(w, r, err)
		return
	}
	list := a.cfg.Runtime.List()
	out := make([]types.FunctionStatus, 0, len(list))
	for _, st := range list {
		out = append(out, a.toStatus(st))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, out)
}

// deployFunction: POST /system/functions → 202; deploying an existing
// function updates it (as faasd replaces it).
func (a *API) deployFunction(w http.ResponseWriter, r *http.Request) {
	var fd types.FunctionDeployment
	if err := a.decodeJSON(w, r, &fd); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.Deploy(r.Context(), fd); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// updateFunction: PUT /system/functions → 202, or 404 when the function is
// absent (faas-cli then falls back to POST).
func (a *API) updateFunction(w http.ResponseWriter, r *http.Request) {
	var fd types.FunctionDeployment
	if err := a.decodeJSON(w, r, &fd); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := ValidateName(fd.Service); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := checkDeployNamespace(fd.Namespace); err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, err := a.cfg.Runtime.Status(fd.Service); err != nil {
		a.writeError(w, r, a.runtimeError(fd.Service, err))
		return
	}
	if err := a.Deploy(r.Context(), fd); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// Deploy validates fd and deploys it, or updates the function when it
// exists already (keeping its current replica count, raised to scale.min).
// Nothing changes before the runtime takes the new spec: a failed update
// leaves the running function, its replicas and their secrets as they
// were (replicas copy their secrets when they start). Errors are *Error
// values carrying the HTTP status.
func (a *API) Deploy(ctx context.Context, fd types.FunctionDeployment) error {
	if r, ok := a.cfg.Images.(Resolver); ok && fd.Image != "" && ValidateName(fd.Service) == nil {
		if err := r.Resolve(ctx, fd.Service, fd.Image); err != nil {
			return err
		}
	}
	spec, err := a.specFor(fd)
	if err != nil {
		return err
	}
	cur, err := a.cfg.Runtime.Status(spec.Name)
	switch {
	case err == nil:
		spec.Replicas = max(spec.Replicas, cur.Replicas)
		if err := a.cfg.Runtime.Update(ctx, spec); err != nil {
			return a.runtimeError(spec.Name, err)
		}
		a.log.Info("function updated", "function", spec.Name, "image", fd.Image, "replicas", spec.Replicas)
	case errors.Is(err, ErrNotFound):
		a.cfg.Metrics.Forget(spec.Name)
		if err := a.cfg.Runtime.Deploy(ctx, spec); err != nil {
			return a.runtimeError(spec.Name, err)
		}
		a.log.Info("function deployed", "function", spec.Name, "image", fd.Image, "replicas", spec.Replicas)
	default:
		return a.runtimeError(spec.Name, err)
	}
	return nil
}

// deleteFunction: DELETE /system/functions {functionName} → 202, 404 if absent.
func (a *API) deleteFunction(w http.ResponseWriter, r *http.Request) {
	var req types.DeleteFunctionRequest
	if err := a.decodeJSON(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := ValidateName(req.FunctionName); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := checkNamespace(req.Namespace); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Runtime.Remove(r.Context(), req.FunctionName); err != nil {
		a.writeError(w, r, a.runtimeError(req.FunctionName, err))
		return
	}
	a.cfg.Metrics.Forget(req.FunctionName)
	a.log.Info("function removed", "function", req.FunctionName)
	w.WriteHeader(http.StatusAccepted)
}

// functionStatus: GET /system/function/{name} → 200 FunctionStatus or 404.
func (a *API) functionStatus(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if err := checkNamespace(r.URL.Query().Get("namespace")); err != nil {
		a.writeError(w, r, err)
		return
	}
	st, err := a.cfg.Runtime.Status(name)
	if err != nil {
		a.writeError(w, r, a.runtimeError(name, err))
		return
	}
	writeJSON(w, http.StatusOK, a.toStatus(st))
}

// scaleRequest is types.ScaleServiceRequest with a signed, checked replica
// count, so a negative value gets a range message instead of a JSON error.
type scaleRequest struct {
	ServiceName string          `json:"serviceName"`
	Replicas    json.RawMessage `json:"replicas"`
	Namespace   string          `json:"namespace,omitempty"`
}

// scaleFunction: POST /system/scale-function/{name} {serviceName,replicas}
// → 202; 404 if absent; replicas must be 0..MaxReplicas.
func (a *API) scaleFunction(w http.ResponseWriter, r *http.Request) {
	var req scaleRequest
	if err := a.decodeJSON(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	name := mux.Vars(r)["name"]
	if name == "" {
		name = req.ServiceName
	}
	if err := ValidateName(name); err != nil {
		a.writeError(w, r, err)
		return
	}
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = req.Namespace
	}
	if err := checkNamespace(ns); err != nil {
		a.writeError(w, r, err)
		return
	}
	raw := strings.TrimSpace(string(req.Replicas))
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 || n > MaxReplicas {
		if raw == "" {
			raw = "missing"
		}
		a.writeError(w, r, errorf(http.StatusBadRequest, "replicas must be an integer between 0 and %d, got %s", MaxReplicas, raw))
		return
	}
	if err := a.cfg.Runtime.Scale(r.Context(), name, int(n)); err != nil {
		a.writeError(w, r, a.runtimeError(name, err))
		return
	}
	a.log.Info("function scaled", "function", name, "replicas", n)
	w.WriteHeader(http.StatusAccepted)
}

// toStatus echoes the deployment with the observed state.
func (a *API) toStatus(st runtime.Status) types.FunctionStatus {
	fd := st.Spec.Deployment
	name := st.Spec.Name
	if name == "" {
		name = fd.Service
	}
	return types.FunctionStatus{
		Name:                   name,
		Image:                  fd.Image,
		Namespace:              Namespace,
		EnvProcess:             fd.EnvProcess,
		EnvVars:                fd.EnvVars,
		Constraints:            fd.Constraints,
		Secrets:                fd.Secrets,
		Labels:                 fd.Labels,
		Annotations:            fd.Annotations,
		Limits:                 fd.Limits,
		Requests:               fd.Requests,
		ReadOnlyRootFilesystem: fd.ReadOnlyRootFilesystem,
		InvocationCount:        a.cfg.Metrics.InvocationCount(name),
		Replicas:               uint64(max(st.Replicas, 0)),
		AvailableReplicas:      uint64(max(st.AvailableReplicas, 0)),
		CreatedAt:              st.CreatedAt,
	}
}

// runtimeError maps runtime errors: ErrNotFound → 404, others → 500.
func (a *API) runtimeError(name string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Msg: fmt.Sprintf("function %q not found", name), Err: err}
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Status: http.StatusInternalServerError, Msg: fmt.Sprintf("function %q", name), Err: err}
}
