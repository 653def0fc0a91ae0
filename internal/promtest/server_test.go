package promtest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/prescale/prescale/internal/testenv"
)

// TestRunTellsAnotherServerOnThePort: a server already on the port that
// answers /-/ready (and is a Prometheus with other storage) is not taken
// for ours: run waits until ours exits, unable to bind, and says so.
func TestRunTellsAnotherServerOnThePort(t *testing.T) {
	bin := testenv.Prometheus(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/-/ready":
			fmt.Fprintln(w, "Prometheus Server is Ready.")
		case "/api/v1/status/flags":
			fmt.Fprintln(w, `{"status":"success","data":{"storage.tsdb.path":"/elsewhere"}}`)
		default:
			http.NotFound(w, r)
		}
	})}
	go func() { _ = other.Serve(ln) }()
	t.Cleanup(func() { other.Close() })

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := writeConfig(cfgPath, nil); err != nil {
		t.Fatal(err)
	}
	s, err := run(t, bin, cfgPath, filepath.Join(dir, "data"), ln.Addr().(*net.TCPAddr).Port)
	if !errors.Is(err, errExitedEarly) {
		t.Fatalf("run on a port another server holds: server %v, err %v; want errExitedEarly", s, err)
	}
}
