package faas

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseDuration: every input gives a duration ≥ 0 or a *DurationError
// naming the field (wrapping ErrDuration), never a panic or a wrapped-around
// value; a parsed duration round-trips through its String form.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30", "0", "500ms", "1m30s", "18446744074", "9223372036", "9223372037", "-1", "NaN", "Inf", "+Inf",
		"1e300", "2562047h", "2562048h", " 7 ", "+5", "", "1.5", "1h-1m", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := ParseDuration("field_x", v)
		if err != nil {
			var de *DurationError
			if !errors.As(err, &de) || de.Field != "field_x" || de.Value != v || !errors.Is(err, ErrDuration) {
				t.Fatalf("%q: error %v is not a *DurationError naming the field", v, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("%q: negative duration %s", v, d)
		}
		back, err := ParseDuration("field_x", d.String())
		if err != nil || back != d {
			t.Fatalf("%q → %s → %s, %v: no round trip", v, d, back, err)
		}
		if s := strings.TrimSpace(v); s != "" && isInteger(s) {
			if d%time.Second != 0 {
				t.Fatalf("%q: integer seconds gave %s", v, d)
			}
		}
	})
}
