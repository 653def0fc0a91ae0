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
	"time"

	"github.com/prescale/prescale/pkg/fnutil"
)

func TestEnvParsing(t *testing.T) {
	t.Setenv("n", "7")
	t.Setenv("f", "0.5")
	t.Setenv("b", "true")
	t.Setenv("d", "90")
	t.Setenv("bad", "x")
	if v, err := fnutil.EnvInt("n", 1, 0, 10); err != nil || v != 7 {
		t.Fatalf("int %v %v", v, err)
	}
	if v, err := fnutil.EnvInt("unset", 3, 0, 10); err != nil || v != 3 {
		t.Fatalf("default %v %v", v, err)
	}
	if _, err := fnutil.EnvInt("n", 1, 0, 5); err == nil || !strings.Contains(err.Error(), "0..5") {
		t.Fatalf("range: %v", err)
	}
	if v, err := fnutil.EnvFloat("f", 1, 0, 1); err != nil || v != 0.5 {
		t.Fatalf("float %v %v", v, err)
	}
	if v, err := fnutil.EnvBool("b", false); err != nil || !v {
		t.Fatalf("bool %v %v", v, err)
	}
	if _, err := fnutil.EnvBool("bad", false); err == nil {
		t.Fatal("bad bool accepted")
	}
	if v, err := fnutil.EnvDuration("d", time.Second, time.Second, time.Hour); err != nil || v != 90*time.Second {
		t.Fatalf("duration %v %v", v, err)
	}
	if _, err := fnutil.EnvDuration("bad", time.Second, time.Second, time.Hour); err == nil || !strings.Contains(err.Error(), "duration") {
		t.Fatalf("bad duration: %v", err)
	}
}

func TestGatewayAndCredentials(t *testing.T) {
	t.Setenv("gateway_url", "gateway:8080")
	if _, err := fnutil.GatewayURL(); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Fatalf("relative gateway: %v", err)
	}
	t.Setenv("gateway_url", "http://127.0.0.1:8080/")
	u, err := fnutil.GatewayURL()
	if err != nil || u.String() != "http://127.0.0.1:8080" {
		t.Fatalf("gateway %v %v", u, err)
	}
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
