package plugin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/prescale/prescale/plugin/runtime"
)

// TestBodyLimitStreamsThroughTheRealRuntime: with the real runtime and a
// real replica, a chunked body over the limit is refused with 413 and the
// limit in the message while it streams (not buffered whole first), the
// replica is not blamed (the next calls succeed at once), a chunked body
// within the limit reaches the function whole, and requests to a function
// that is not deployed create no gateway series.
func TestBodyLimitStreamsThroughTheRealRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real replica")
	}
	p, err := New(Config{Port: 0, DataDir: t.TempDir(), StackFile: writeEchoStack(t), Deploy: true, BodyLimit: MinBodyLimit,
		Runtime: runtime.Config{StopGrace: 2 * time.Second}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	ctx := context.Background() // no deadline: the test waits on the runtime's events
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	post := func(path, body string, chunked bool) (int, string) {
		t.Helper()
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.NopCloser(rd) // unknown length: Transfer-Encoding chunked
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", p.URL()+path, rd)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if err := runtimeAvailable(ctx, p, "echo", 1); err != nil { // the replica is ready
		t.Fatal(err)
	}
	code, body := post("/function/echo", strings.Repeat("x", 4*MinBodyLimit), true)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "limit of 1024 bytes") {
		t.Fatalf("chunked body over the limit: %d %q", code, body)
	}
	if code, body := post("/function/echo", "small", true); code != 200 || !strings.HasPrefix(body, "echo:small|") {
		t.Fatalf("chunked body within the limit after a refused one: %d %q", code, body)
	}
	if code, body := post("/function/echo", strings.Repeat("y", MinBodyLimit), false); code != 200 || !strings.Contains(body, strings.Repeat("y", MinBodyLimit)) {
		t.Fatalf("body of exactly the limit: %d %.60q", code, body)
	}
	for _, path := range []string{"/function/not-deployed", "/function/not-deployed.openfaas-fn"} {
		if code, _ := post(path, "x", false); code != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", path, code)
		}
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", p.URL()+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var parser expfmt.TextParser
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for name, mf := range fams {
		if !strings.HasPrefix(name, "gateway_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "function_name" && l.GetValue() != "echo" {
					t.Errorf("%s has a series for %q", name, l.GetValue())
				}
			}
		}
	}
}
