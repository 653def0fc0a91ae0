package faas

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrDuration is wrapped by every error ParseDuration returns.
var ErrDuration = errors.New("invalid duration")

// DurationError is ParseDuration's error: the field, its raw value and why
// it was refused. errors.Is(err, ErrDuration) holds.
type DurationError struct {
	Field  string // the setting, label or variable the value came from
	Value  string
	Reason string
}

func (e *DurationError) Error() string {
	return fmt.Sprintf("%s=%q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap makes errors.Is(err, ErrDuration) hold.
func (e *DurationError) Unwrap() error { return ErrDuration }

// maxSeconds is the largest whole number of seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// ParseDuration reads field's value v (surrounding space ignored): an integer
// is seconds ("30"), anything else a Go duration ("500ms", "1m30s"). It
// refuses, with a *DurationError naming field, a value that is empty, not a
// duration (including NaN and Inf), negative, or larger than a
// time.Duration holds (about 292 years): "18446744074" seconds is an error,
// not a wrapped-around 290ms.
func ParseDuration(field, v string) (time.Duration, error) {
	s := strings.TrimSpace(v)
	fail := func(reason string) (time.Duration, error) {
		return 0, &DurationError{Field: field, Value: v, Reason: reason}
	}
	if s == "" {
		return fail("empty: want integer seconds or a Go duration such as 30s")
	}
	if isInteger(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err == nil && n < 0, err != nil && s[0] == '-':
			return fail("negative: must be 0 or more")
		case err != nil || n > maxSeconds:
			return fail(fmt.Sprintf("too large: at most %d seconds", maxSeconds))
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return fail("not a duration: want integer seconds or a Go duration such as 30s, at most " + maxDuration)
	case d < 0:
		return fail("negative: must be 0 or more")
	}
	return d, nil
}

// maxDuration is the longest time.Duration, about 292 years, as text.
const maxDuration = "2562047h"

// isInteger: optional sign, then digits only.
func isInteger(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
