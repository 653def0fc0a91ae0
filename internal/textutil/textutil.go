package textutil

import "unicode/utf8"

// Tail returns the last n bytes of s, or fewer so as not to start inside a
// UTF-8 sequence, after "…" when it cut anything; s itself when it is no
// longer than n.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - max(n, 0)
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return "…" + s[i:]
}
