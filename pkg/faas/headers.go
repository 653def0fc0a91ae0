package faas

import (
	"net/http"
	"strings"
)

// HopHeaders returns the hop-by-hop header fields a proxy does not forward
// (RFC 9110 §7.6.1, plus the legacy Proxy-Connection and Keep-Alive), in
// canonical form. A new slice each call: callers may change it.
func HopHeaders() []string {
	return []string{
		"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	}
}

// CopyHeaders sets src's end-to-end fields in dst: every field except the
// hop-by-hop ones and those named in src's Connection field. The values are
// copied; a field already in dst is replaced.
func CopyHeaders(dst, src http.Header) {
	drop := map[string]bool{}
	for _, h := range HopHeaders() {
		drop[h] = true
	}
	for _, v := range src["Connection"] {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				drop[http.CanonicalHeaderKey(f)] = true
			}
		}
	}
	for k, vs := range src {
		if drop[http.CanonicalHeaderKey(k)] {
			continue
		}
		dst[k] = append([]string(nil), vs...)
	}
}
