package stack

import (
	"fmt"
	"strings"
)

// Envsubst replaces $NAME, ${NAME}, ${NAME:-default} (default when unset or
// empty) and ${NAME-default} (default when unset) in s, as faas-cli's
// substitution does for these forms. Unset variables become "". A '$' not
// followed by a name or '{' is kept. An unterminated or malformed ${...} is an
// error naming its line.
func Envsubst(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	line := 1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			line++
		}
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		next := s[i+1]
		switch {
		case next == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("line %d: unterminated ${ in %q", line, clip(s[i:]))
			}
			expr := s[i+2 : i+2+end]
			val, err := expand(expr, lookup)
			if err != nil {
				return "", fmt.Errorf("line %d: %w", line, err)
			}
			b.WriteString(val)
			i += 2 + end
		case isNameStart(next):
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			v, _ := lookup(s[i+1 : j])
			b.WriteString(v)
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func expand(expr string, lookup func(string) (string, bool)) (string, error) {
	n := 0
	for n < len(expr) && isNameChar(expr[n]) {
		n++
	}
	name, rest := expr[:n], expr[n:]
	if name == "" || !isNameStart(name[0]) {
		return "", fmt.Errorf("bad substitution ${%s}: expected a variable name", expr)
	}
	v, set := lookup(name)
	switch {
	case rest == "":
		return v, nil
	case strings.HasPrefix(rest, ":-"):
		if v == "" {
			return rest[2:], nil
		}
		return v, nil
	case strings.HasPrefix(rest, "-"):
		if !set {
			return rest[1:], nil
		}
		return v, nil
	default:
		return "", fmt.Errorf("bad substitution ${%s}: supported forms are ${NAME}, ${NAME:-default} and ${NAME-default}", expr)
	}
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

func clip(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
