package api

import (
	"errors"
	"net/http"

	"github.com/openfaas/faas-provider/types"

	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/plugin/secrets"
)

// listSecrets: GET /system/secrets → [{name,namespace}] (values never shown).
func (a *API) listSecrets(w http.ResponseWriter, r *http.Request) {
	if err := checkNamespace(r.URL.Query().Get("namespace")); err != nil {
		a.writeError(w, r, err)
		return
	}
	names, err := a.cfg.Secrets.List()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]types.Secret, 0, len(names))
	for _, n := range names {
		out = append(out, types.Secret{Name: n, Namespace: Namespace})
	}
	writeJSON(w, http.StatusOK, out)
}

// createSecret: POST /system/secrets {name,value|rawValue} → 201; 409 if it exists.
func (a *API) createSecret(w http.ResponseWriter, r *http.Request) {
	s, err := a.readSecret(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Secrets.Create(s.Name, secretValue(s)); err != nil {
		a.writeError(w, r, secretError(err))
		return
	}
	a.log.Info("secret created", "secret", s.Name)
	w.WriteHeader(http.StatusCreated)
}

// updateSecret: PUT /system/secrets → 202; 404 if absent.
func (a *API) updateSecret(w http.ResponseWriter, r *http.Request) {
	s, err := a.readSecret(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Secrets.Update(s.Name, secretValue(s)); err != nil {
		a.writeError(w, r, secretError(err))
		return
	}
	a.log.Info("secret updated", "secret", s.Name)
	if rf, ok := a.cfg.Runtime.(SecretRefresher); ok {
		if err := rf.RefreshSecret(s.Name, a.cfg.Secrets.Path(s.Name)); err != nil {
			a.log.Warn("secret updated, but a running replica keeps its old copy", "secret", s.Name, "err", err)
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// deleteSecret: DELETE /system/secrets {name} → 202; 404 if absent.
func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request) {
	var s types.Secret
	if err := a.decodeJSON(w, r, &s); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.checkSecretName(s); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Secrets.Delete(s.Name); err != nil {
		a.writeError(w, r, secretError(err))
		return
	}
	a.log.Info("secret removed", "secret", s.Name)
	w.WriteHeader(http.StatusAccepted)
}

func (a *API) readSecret(w http.ResponseWriter, r *http.Request) (types.Secret, error) {
	var s types.Secret
	if err := a.decodeJSON(w, r, &s); err != nil {
		return s, err
	}
	if err := a.checkSecretName(s); err != nil {
		return s, err
	}
	if s.Name == secrets.ChainKey {
		// A bad chain key would stop the chain: refused before it is stored.
		if _, err := chainauth.ParseKeys(string(secretValue(s))); err != nil {
			return s, &Error{Status: http.StatusBadRequest, Msg: "secret " + s.Name, Err: err}
		}
	}
	return s, nil
}

// checkSecretName validates the name and refuses changes to the gateway's
// own credentials, which the plugin manages.
func (a *API) checkSecretName(s types.Secret) error {
	if err := checkNamespace(s.Namespace); err != nil {
		return err
	}
	if err := secrets.ValidateName(s.Name); err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "secret name", Err: err}
	}
	if s.Name == secrets.UserFile || s.Name == secrets.PasswordFile {
		return errorf(http.StatusForbidden, "secret %q holds the gateway's credentials and is managed by the plugin", s.Name)
	}
	return nil
}

func secretValue(s types.Secret) []byte {
	if len(s.RawValue) > 0 {
		return s.RawValue
	}
	return []byte(s.Value)
}

func secretError(err error) error {
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Msg: "secret", Err: err}
	case errors.Is(err, secrets.ErrExists):
		return &Error{Status: http.StatusConflict, Msg: "secret", Err: err}
	case errors.Is(err, secrets.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Msg: "secret", Err: err}
	}
	return err
}
