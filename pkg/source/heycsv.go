package source

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// HeyResponse is one row of hey's `-o csv` output: a request that got a
// response (hey leaves failed requests out of its CSV).
type HeyResponse struct {
	// Latency is the response time in seconds, as hey prints it: four
	// decimals, so a response faster than 50 µs reads as 0.
	Latency float64
	Status  int
}

// ErrHeyCSV is wrapped by every error ReadHeyCSV returns.
var ErrHeyCSV = errors.New("hey csv")

// hey's CSV columns that prescale reads.
const (
	heyColLatency = 0 // response-time
	heyColStatus  = 6 // status-code
	heyMinColumns = heyColStatus + 1
)

// ReadHeyCSV reads hey's `-o csv` output: the header
// response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset
// then one row per response. Empty input (hey had no response to print) is
// no rows; anything else that is not that table is an error naming the line.
func ReadHeyCSV(r io.Reader) ([]HeyResponse, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHeyCSV, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if h := recs[0]; len(h) < heyMinColumns || strings.TrimSpace(h[heyColLatency]) != "response-time" || strings.TrimSpace(h[heyColStatus]) != "status-code" {
		return nil, fmt.Errorf("%w: line 1: want the header response-time,…,status-code, got %q", ErrHeyCSV, strings.Join(h, ","))
	}
	out := make([]HeyResponse, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		line := i + 2
		if len(rec) < heyMinColumns {
			return nil, fmt.Errorf("%w: line %d: %d columns, want at least %d", ErrHeyCSV, line, len(rec), heyMinColumns)
		}
		lat, err := strconv.ParseFloat(strings.TrimSpace(rec[heyColLatency]), 64)
		if err != nil || lat < 0 || math.IsNaN(lat) || math.IsInf(lat, 0) {
			return nil, fmt.Errorf("%w: line %d: response-time %q: want seconds >= 0", ErrHeyCSV, line, rec[heyColLatency])
		}
		code, err := strconv.Atoi(strings.TrimSpace(rec[heyColStatus]))
		if err != nil || code < 100 || code > 599 {
			return nil, fmt.Errorf("%w: line %d: status-code %q: want an HTTP status 100..599", ErrHeyCSV, line, rec[heyColStatus])
		}
		out = append(out, HeyResponse{Latency: lat, Status: code})
	}
	return out, nil
}
