package plugin

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// The dashboard is at /ui/ behind the gateway's basic auth; / and /ui redirect to it.
func TestUIRoutes(t *testing.T) {
	p, err := New(Config{Port: 0, DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	}()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/ui"} {
		res, err := noFollow.Get(p.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/ui/" {
			t.Errorf("GET %s: %d Location %q, want 302 to /ui/", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/ui/", "/ui/api/state", "/ui/app.js"} {
		res, err := http.Get(p.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without credentials: %d, want 401 with a challenge", path, res.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodGet, p.URL()+path, nil)
		req.SetBasicAuth(p.User(), p.Password())
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with credentials: %d", path, res.StatusCode)
		}
	}
	if p.UIURL() != p.URL()+"/ui/" {
		t.Errorf("UIURL %s", p.UIURL())
	}
}
