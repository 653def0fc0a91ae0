package textutil

import "testing"

func TestTail(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abc", 5, "abc"},
		{"abcdef", 2, "…ef"},
		{"abcdef", 0, "…"},
		{"abcdef", -1, "…"},
		{"a→b", 3, "…b"}, // → is 3 bytes: the cut would start inside it
		{"a→b", 4, "…→b"},
	} {
		if got := Tail(c.s, c.n); got != c.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
