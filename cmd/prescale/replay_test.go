package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestReplayCommand(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/function/hello-python" {
			n.Add(1)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	// Azure 2019 layout with two functions; row 1, minutes 1..3.
	data := "HashOwner,HashApp,HashFunction,Trigger,1,2,3,4\no,a,aaaaaaaa11,http,1,1,1,1\no,a,bbbbbbbb22,http,100,5,6,100\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"replay", "--gateway", srv.URL, "--function", "hello-python", "--trace", path,
		"--hash", "bbbbbbbb", "--from", "1", "--to", "3", "--speed", "600", "--quiet"}, &out, &errb)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errb.String())
	}
	if n.Load() != 11 || !strings.Contains(out.String(), "[200]\t11 responses") {
		t.Fatalf("%d requests; out %s", n.Load(), out.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--trace", path}, "--function and --trace are required"},
		{[]string{"replay", "--function", "f", "--trace", path, "--row", "9"}, "out of range"},
		{[]string{"replay", "--function", "f", "--trace", path, "--from", "3", "--to", "2"}, "need 0 <= from < to"},
		{[]string{"replay", "--function", "f", "--trace", filepath.Join(dir, "missing.csv")}, "no such file"},
		{[]string{"replay", "--function", "f", "--trace", path, "--speed", "-1", "--gateway", srv.URL}, "speed"},
	} {
		errb.Reset()
		if code := run(context.Background(), tc.args, &out, &errb); code == 0 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: code %d stderr %q, want %q", tc.args, code, errb.String(), tc.want)
		}
	}
}
