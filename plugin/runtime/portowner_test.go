package runtime

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
)

func TestOwnsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if ok, err := ownsListener(syscall.Getpgrp(), port); !ok || err != nil {
		t.Fatalf("this process group's listener: %v %v, want true", ok, err)
	}
	// Another process group holds no listener on it.
	child := exec.Command("sleep", "30")
	child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	if ok, err := ownsListener(child.Process.Pid, port); ok || err != nil {
		t.Fatalf("another group: %v %v, want false", ok, err)
	}
	if ok, _ := ownsListener(syscall.Getpgrp(), 1); ok {
		t.Fatal("port 1 has no listener here, want false")
	}
}

// A process that takes the replica's port between freePort and the
// replica's bind, and answers HTTP on it, never gets the function's
// requests: here the replica never listens (sleep), so only the intruder
// answers the readiness probe; the replica is not made ready, and a
// request gets 503 after ColdStartWait, not the intruder's answer.
func TestPortTakenByAnotherProcess(t *testing.T) {
	foreign, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "intruder") })}
	go srv.Serve(foreign)
	t.Cleanup(func() { srv.Close() })
	taken := foreign.Addr().(*net.TCPAddr).Port
	m := newManager(t, func(c *Config) { c.ColdStartWait = 300 * time.Millisecond })
	clk := fakeClock(t, m)
	m.portFn = func() (int, error) { return taken, nil }
	gw := gateway(t, m)
	s := httpSpec("victim", 1)
	s.Command = []string{"/bin/sleep", "600"}
	deploy(t, m, s)
	held := fmt.Sprintf("port %d is held by another process", taken)
	waitUntil(t, m, "the probe refusing the intruder", func() bool {
		for _, l := range collect(t, m, logs.Request{Name: "victim"}) {
			if strings.Contains(l.Text, held) {
				return true
			}
		}
		return false
	})
	got := make(chan result, 1)
	go func() { got <- get(t, gw.URL, "victim", "/") }()
	step(t, clk, 300*time.Millisecond) // ColdStartWait
	if r := <-got; r.code != 503 || strings.Contains(r.body, "intruder") {
		t.Fatalf("the request got %d %q; want 503, never the intruder", r.code, r.body)
	}
}
