package fnutil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"
	sdk "github.com/openfaas/go-sdk"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/chainauth"
)

// Environment variables (or settings-file keys) all three functions read,
// with their defaults.
const (
	EnvGateway = "gateway_url"       // (http://gateway.openfaas:8080)
	EnvNATS    = "NATS_URL"          // (nats://nats.openfaas:4222)
	EnvSecrets = "secret_mount_path" // (/var/openfaas/secrets) read by go-sdk
	EnvNS      = "namespace"         // ("": the provider's default)

	DefaultGateway = "http://gateway.openfaas:8080"
	DefaultNATS    = "nats://nats.openfaas:4222"
)

// DefaultGatewayURL is DefaultGateway parsed.
func DefaultGatewayURL() *url.URL { return &url.URL{Scheme: "http", Host: "gateway.openfaas:8080"} }

// Credentials reads the gateway's basic-auth user and password from the
// OpenFaaS secrets basic-auth-user and basic-auth-password.
func Credentials() (*sdk.BasicAuth, error) {
	user, err := sdk.ReadSecret("basic-auth-user")
	if err != nil {
		return nil, fmt.Errorf("gateway credentials (secret basic-auth-user under $%s): %w", EnvSecrets, err)
	}
	pass, err := sdk.ReadSecret("basic-auth-password")
	if err != nil {
		return nil, fmt.Errorf("gateway credentials (secret basic-auth-password under $%s): %w", EnvSecrets, err)
	}
	if user == "" || pass == "" {
		return nil, errors.New("gateway credentials: basic-auth-user or basic-auth-password is empty")
	}
	return &sdk.BasicAuth{Username: user, Password: pass}, nil
}

// ChainKeys reads the chain keys from the OpenFaaS secret
// prescale-chain-key (chainauth.SecretName) under $secret_mount_path, as
// Credentials reads the gateway's: one key per line, the current key first,
// then optionally the previous one (chainauth.ParseKeys). A missing secret
// is chainauth.ErrNoKey (wrapped).
func ChainKeys() (chainauth.Keys, error) {
	v, err := sdk.ReadSecret(chainauth.SecretName)
	if err != nil {
		return chainauth.Keys{}, fmt.Errorf("%w: secret %s under $%s: %v", chainauth.ErrNoKey, chainauth.SecretName, EnvSecrets, err)
	}
	k, err := chainauth.ParseKeys(v)
	if err != nil {
		return chainauth.Keys{}, fmt.Errorf("chain key: %w", err)
	}
	return k, nil
}

// HTTPClient is the client the functions use towards the gateway.
func HTTPClient() *http.Client { return &http.Client{Timeout: 15 * time.Second} }

// Gateway returns the go-sdk client for the gateway at u with basic auth
// (Credentials).
func Gateway(u *url.URL) (*sdk.Client, error) {
	auth, err := Credentials()
	if err != nil {
		return nil, err
	}
	return sdk.NewClient(u, auth, HTTPClient()), nil
}

// ErrFunctionNotFound is GetFunction's error when the gateway answers 404.
var ErrFunctionNotFound = errors.New("function not found")

// GetFunction reads one function's status through the gateway's
// /system/function/<name>, with gw's address and credentials. Unlike
// go-sdk's GetFunction it checks the status: 404 is ErrFunctionNotFound
// (wrapped), any other non-200 an error with the status and body.
func GetFunction(ctx context.Context, gw *sdk.Client, name, namespace string) (types.FunctionStatus, error) {
	u := gw.GatewayURL.JoinPath("system", "function", name)
	if namespace != "" {
		u.RawQuery = url.Values{"namespace": {namespace}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return types.FunctionStatus{}, fmt.Errorf("read function %s: %w", name, err)
	}
	if gw.ClientAuth != nil {
		if err := gw.ClientAuth.Set(req); err != nil {
			return types.FunctionStatus{}, fmt.Errorf("read function %s: credentials: %w", name, err)
		}
	}
	res, err := HTTPClient().Do(req)
	if err != nil {
		return types.FunctionStatus{}, fmt.Errorf("read function %s: %w", name, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return types.FunctionStatus{}, fmt.Errorf("%w: %s (namespace %q): %s", ErrFunctionNotFound, name, namespace, strings.TrimSpace(string(body)))
	default:
		return types.FunctionStatus{}, fmt.Errorf("read function %s: status %d: %s", name, res.StatusCode, strings.TrimSpace(string(body)))
	}
	var fn types.FunctionStatus
	if err := json.Unmarshal(body, &fn); err != nil {
		return types.FunctionStatus{}, fmt.Errorf("read function %s: %w", name, err)
	}
	return fn, nil
}

// InvokeAsync POSTs body to <gateway>/async-function/<function> with
// X-Callback-Url and returns the X-Call-Id; anything but 202 is an error.
func InvokeAsync(ctx context.Context, c *http.Client, gateway *url.URL, function string, body []byte, callback string) (string, error) {
	u := gateway.JoinPath("async-function", function)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("async invoke %s: %w", function, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if callback != "" {
		req.Header.Set("X-Callback-Url", callback)
	}
	res, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("async invoke %s: %w", function, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return "", fmt.Errorf("async invoke %s: status %d: %s", function, res.StatusCode, strings.TrimSpace(string(b)))
	}
	return res.Header.Get("X-Call-Id"), nil
}

// JSON is a JSON response.
func JSON(status int, v any) (handler.Response, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return Error(http.StatusInternalServerError, "encode response: %v", err)
	}
	return handler.Response{StatusCode: status, Body: append(b, '\n'), Header: http.Header{"Content-Type": []string{"application/json"}}}, nil
}

// Error is a JSON error response {"error": "..."} with the status; the
// message is also logged to stderr (the function's log).
func Error(status int, format string, args ...any) (handler.Response, error) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "error %d: %s\n", status, msg)
	b, _ := json.Marshal(map[string]string{"error": msg})
	return handler.Response{StatusCode: status, Body: append(b, '\n'), Header: http.Header{"Content-Type": []string{"application/json"}}}, nil
}

// Context is the request's context, or Background when the template gave
// none (handler.Request built by hand, as in tests).
func Context(req handler.Request) context.Context {
	if ctx := req.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
