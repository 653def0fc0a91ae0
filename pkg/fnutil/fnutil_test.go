package fnutil_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
