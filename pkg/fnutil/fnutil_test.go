package fnutil_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdk "github.com/openfaas/go-sdk"

	"github.com/prescale/prescale/pkg/fnutil"
)

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("secret_mount_path", dir)
	if _, err := fnutil.Credentials(); err == nil || !strings.Contains(err.Error(), "basic-auth-user") {
		t.Fatalf("missing secret: %v", err)
	}
	_ = os.WriteFile(filepath.Join(dir, "basic-auth-user"), []byte("admin\n"), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "basic-auth-password"), []byte(" pw \n"), 0o600)
	c, err := fnutil.Credentials()
	if err != nil || c.Username != "admin" || c.Password != "pw" {
		t.Fatalf("credentials %+v %v", c, err)
	}
}

func TestInvokeAsync(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.Error(w, "no such function", http.StatusNotFound)
			return
		}
		w.Header().Set("X-Call-Id", "abc")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	id, err := fnutil.InvokeAsync(context.Background(), srv.Client(), u, "predictor", []byte(`{"a":1}`), "http://gw/function/scaler")
	if err != nil || id != "abc" || got.URL.Path != "/async-function/predictor" || got.Header.Get("X-Callback-Url") != "http://gw/function/scaler" || body != `{"a":1}` {
		t.Fatalf("id %q err %v path %s", id, err, got.URL.Path)
	}
	if _, err := fnutil.InvokeAsync(context.Background(), srv.Client(), u, "missing", nil, ""); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
}

func TestGetFunction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "pw" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/system/function/hello":
			if r.URL.Query().Get("namespace") != "openfaas-fn" {
				t.Errorf("namespace query %q", r.URL.RawQuery)
			}
			w.Write([]byte(`{"name":"hello","replicas":3}`))
		case "/system/function/broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			http.Error(w, "function not found", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	gw := sdk.NewClient(u, &sdk.BasicAuth{Username: "admin", Password: "pw"}, srv.Client())
	ctx := context.Background()
	fn, err := fnutil.GetFunction(ctx, gw, "hello", "openfaas-fn")
	if err != nil || fn.Name != "hello" || fn.Replicas != 3 {
		t.Fatalf("hello: %+v %v", fn, err)
	}
	if _, err := fnutil.GetFunction(ctx, gw, "ghost", ""); !errors.Is(err, fnutil.ErrFunctionNotFound) || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("ghost: %v", err)
	}
	if _, err := fnutil.GetFunction(ctx, gw, "broken", ""); err == nil || errors.Is(err, fnutil.ErrFunctionNotFound) || !strings.Contains(err.Error(), "status 500") {
		t.Fatalf("broken: %v", err)
	}
	noAuth := sdk.NewClient(u, nil, srv.Client())
	if _, err := fnutil.GetFunction(ctx, noAuth, "hello", ""); err == nil || errors.Is(err, fnutil.ErrFunctionNotFound) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("no credentials: %v", err)
	}
}
