package watchdog

import (
	"net/http"
	"strings"
	"testing"
)

// TestOutputCap: a child that writes more than max_output is killed and
// the request answered 500 saying so (the output was captured without
// bound); output up to the cap is returned whole.
func TestOutputCap(t *testing.T) {
	// An endless writer: without the cap the watchdog's buffer grows until
	// the exec timeout (here: none) or memory runs out.
	url, _ := start(t, "yes 0123456789abcdef\n", func(c *Config) { c.MaxOutput = 64 << 10 })
	r := call(t, "POST", url+"/", "", nil)
	if r.code != http.StatusInternalServerError || !strings.Contains(r.body, "larger than max_output (65536 bytes)") || r.h.Get(InternalHeader) == "" {
		t.Fatalf("got %d %q (internal %q)", r.code, r.body, r.h.Get(InternalHeader))
	}
	url, _ = start(t, "head -c 65536 /dev/zero\n", func(c *Config) { c.MaxOutput = 64 << 10 })
	if r := call(t, "POST", url+"/", "", nil); r.code != 200 || len(r.body) != 64<<10 {
		t.Fatalf("at the cap: %d, %d bytes", r.code, len(r.body))
	}
}

// TestHeaderBound: a header block over MaxHeaderBytes gets 431.
func TestHeaderBound(t *testing.T) {
	url, _ := start(t, "cat\n", nil)
	r := call(t, "GET", url+"/", "", map[string]string{"X-Big": strings.Repeat("h", MaxHeaderBytes+4096)})
	if r.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("got %d, want 431", r.code)
	}
}

// TestInputCap: a body over max_input gets 413 and starts no child; one at
// the cap reaches the child whole.
func TestInputCap(t *testing.T) {
	url, _ := start(t, "wc -c\n", func(c *Config) { c.MaxInput = 4 << 10 })
	r := call(t, "POST", url+"/", strings.Repeat("x", 4<<10+1), nil)
	if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "larger than max_input (4096 bytes)") || r.h.Get(InternalHeader) == "" {
		t.Fatalf("over the cap: %d %q", r.code, r.body)
	}
	if r := call(t, "POST", url+"/", strings.Repeat("x", 4<<10), nil); r.code != 200 || strings.TrimSpace(r.body) != "4096" {
		t.Fatalf("at the cap: %d %q", r.code, r.body)
	}
	if _, err := ConfigFromEnv(func(k string) string {
		return map[string]string{"fprocess": "cat", "max_input": "12"}[k]
	}); err == nil || !strings.Contains(err.Error(), "max_input 12 out of range") {
		t.Fatalf("max_input 12: %v", err)
	}
}
