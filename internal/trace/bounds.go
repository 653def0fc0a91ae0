package trace

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bounds every trace reader enforces. A value outside them is an error
// naming the line and field (Open and ReadDurations add the file), never a
// panic or an allocation sized by the input.
const (
	// MaxMinutes is the longest span a trace may cover: 31 days. The public
	// traces cover at most 14 days (Azure 2019: 14 daily files; Azure 2021:
	// 14 days), so a month leaves room while one bad timestamp (1e12 s) cannot
	// ask for a per-minute slice of billions of entries.
	MaxMinutes = 31 * 24 * 60
	// MaxSeconds is MaxMinutes in seconds: the largest Azure 2021
	// end_timestamp.
	MaxSeconds = MaxMinutes * 60
	// MaxCount is the largest per-minute invocation count (1e8 a minute,
	// 1.7 M requests a second; the busiest shipped function peaks at 36 612).
	MaxCount = 1e8
	// MaxDurationMS bounds every Azure 2019 durations field in milliseconds
	// (Average, Minimum, Maximum, percentiles): one day. The shipped files
	// peak at 8.5e6 ms (2.4 h).
	MaxDurationMS = 24 * 60 * 60 * 1000
	// MaxDurationsCount bounds a durations row's Count (invocations a day):
	// 1e12, far above the 1.5e8 of the busiest shipped row.
	MaxDurationsCount = 1e12
	// MaxInvocationSeconds bounds an Azure 2021 duration: one day.
	MaxInvocationSeconds = 24 * 60 * 60
	// MaxCells bounds functions × minutes of an Azure 2021 trace, whose
	// per-minute counts are allocated per function over the whole span
	// (one short row per function could otherwise ask for MaxMinutes
	// counts each): 1<<24 counts, 128 MiB. The whole public 2021 trace
	// (about 420 functions over 14 days) needs 8.5 M; the shipped file 5 292.
	MaxCells = 1 << 24
)

// ErrBounds is wrapped by every error for a number outside the bounds above
// (or not a number, NaN or Inf).
var ErrBounds = errors.New("value out of bounds")

// parseBounded parses field's s as a finite number in [0, hi].
func parseBounded(field, s string, hi float64) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%s %q is not a number: %w", field, s, ErrBounds)
	case err != nil, math.IsNaN(v), math.IsInf(v, 0), v < 0, v > hi:
		return 0, fmt.Errorf("%s %q must be a finite number in 0..%s: %w", field, s, strconv.FormatFloat(hi, 'f', -1, 64), ErrBounds)
	}
	return v, nil
}
