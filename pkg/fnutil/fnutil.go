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
	"strconv"
	"strings"
	"time"

	sdk "github.com/openfaas/go-sdk"
	handler "github.com/openfaas/templates-sdk/go-http"

	"github.com/prescale/prescale/pkg/decide"
)

// Environment variables the functions read (defaults in parentheses).
const (
	EnvGateway = "gateway_url"       // (http://gateway.openfaas:8080)
	EnvNATS    = "NATS_URL"          // (nats://nats.openfaas:4222)
	EnvSecrets = "secret_mount_path" // (/var/openfaas/secrets) read by go-sdk
	EnvNS      = "namespace"         // ("": the provider's default)

	DefaultGateway = "http://gateway.openfaas:8080"
	DefaultNATS    = "nats://nats.openfaas:4222"
)

// Env returns the variable's value, or def when unset or blank.
func Env(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// EnvInt reads an integer in [lo,hi].
func EnvInt(key string, def, lo, hi int) (int, error) {
	v := Env(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("env %s=%q: must be an integer in %d..%d", key, v, lo, hi)
	}
	return n, nil
}

// EnvFloat reads a number in [lo,hi].
func EnvFloat(key string, def, lo, hi float64) (float64, error) {
	v := Env(key, "")
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		return 0, fmt.Errorf("env %s=%q: must be a number in [%g,%g]", key, v, lo, hi)
	}
	return f, nil
}

// EnvBool reads true/false.
func EnvBool(key string, def bool) (bool, error) {
	v := Env(key, "")
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("env %s=%q: must be true or false", key, v)
	}
	return b, nil
}

// EnvDuration reads a Go duration or integer seconds in [lo,hi].
func EnvDuration(key string, def, lo, hi time.Duration) (time.Duration, error) {
	v := Env(key, "")
	if v == "" {
		return def, nil
	}
	d, err := decide.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("env %s=%q: must be a duration (e.g. 30s) or integer seconds in %s..%s", key, v, lo, hi)
	}
	return d, nil
}

// GatewayURL is $gateway_url parsed, without a trailing slash.
func GatewayURL() (*url.URL, error) {
	raw := strings.TrimRight(Env(EnvGateway, DefaultGateway), "/")
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("env %s=%q: must be an absolute http(s) URL", EnvGateway, raw)
	}
	return u, nil
}

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

// HTTPClient is the client the functions use towards the gateway.
func HTTPClient() *http.Client { return &http.Client{Timeout: 15 * time.Second} }

// Gateway returns the go-sdk client for $gateway_url with basic auth.
func Gateway() (*sdk.Client, *url.URL, error) {
	u, err := GatewayURL()
	if err != nil {
		return nil, nil, err
	}
	auth, err := Credentials()
	if err != nil {
		return nil, nil, err
	}
	return sdk.NewClient(u, auth, HTTPClient()), u, nil
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
