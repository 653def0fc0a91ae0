package stack

import (
	"strings"
	"testing"
)

func TestEnvsubst(t *testing.T) {
	env := map[string]string{"A": "1", "EMPTY": "", "LONG_NAME_2": "x"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"${A}", "1"},
		{"$A-$LONG_NAME_2.", "1-x."},
		{"${UNSET}", ""},
		{"${UNSET:-dflt}", "dflt"},
		{"${EMPTY:-dflt}", "dflt"},
		{"${EMPTY-dflt}", ""},
		{"${UNSET-dflt}", "dflt"},
		{"${A:-dflt}", "1"},
		{"${UNSET:-http://h:8080/x}", "http://h:8080/x"},
		{"cost $5 and $", "cost $5 and $"},
		{"a\n${A}\n", "a\n1\n"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := Envsubst(c.in, lookup)
			if err != nil {
				t.Fatalf("err %v", err)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestEnvsubstErrors(t *testing.T) {
	lookup := func(string) (string, bool) { return "", false }
	cases := []struct{ in, want string }{
		{"a\nb ${OPEN", "line 2: unterminated"},
		{"${}", "expected a variable name"},
		{"${1A}", "expected a variable name"},
		{"${A:?err}", "supported forms"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := Envsubst(c.in, lookup)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
