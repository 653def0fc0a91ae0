// Command fnserver is a tiny http-mode function for the runtime tests: it
// listens on the port of $upstream_url (default 8082), like the golang-http
// template's main.go.
//
//	/_/health   200 OK
//	/sleep?ms=N sleeps N ms, answers "slept" (with &log=1: logs "sleeping N ms [tag]" first)
//	/crash      exits with status 3 at once
//	/pid        answers the process id
//	/env?k=NAME answers $NAME
//	/stream     writes 3 chunks 20 ms apart, no Content-Length
//	anything else: echoes method, path, query, X-Call-Id, X-Start-Time and the body as JSON
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := "127.0.0.1:8082"
	if u, err := url.Parse(os.Getenv("upstream_url")); err == nil && u.Host != "" {
		addr = u.Host
	}
	if os.Getenv("FN_FAIL_START") == "1" {
		fmt.Fprintln(os.Stderr, "failing at start as asked")
		os.Exit(2)
	}
	fmt.Println("fnserver listening on", addr)
	mux := http.NewServeMux()
	mux.HandleFunc("/_/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "OK") })
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		if r.URL.Query().Get("log") == "1" { // the request reached the function
			if tag := r.URL.Query().Get("tag"); tag != "" {
				fmt.Fprintf(os.Stderr, "sleeping %d ms %s\n", ms, tag)
			} else {
				fmt.Fprintf(os.Stderr, "sleeping %d ms\n", ms)
			}
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		io.WriteString(w, "slept")
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) { os.Exit(3) })
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, os.Getpid()) })
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { // what a function can read
		path := r.URL.Query().Get("path")
		var b []byte
		var err error
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			var ents []os.DirEntry
			ents, err = os.ReadDir(path)
			for _, e := range ents {
				b = append(b, e.Name()+"\n"...)
			}
		} else {
			b, err = os.ReadFile(path)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		w.Write(b)
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, os.Getenv(r.URL.Query().Get("k"))) })
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "chunk%d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(os.Stderr, "echo %s %s\n", r.Method, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Fn-Header", "yes")
		json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(body),
			"callId": r.Header.Get("X-Call-Id"), "startTime": r.Header.Get("X-Start-Time"),
			"custom": r.Header.Get("X-Custom"), "connection": r.Header.Get("Connection"),
			"hop": r.Header.Get("X-Hop"),
		})
	})
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
