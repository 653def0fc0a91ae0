package trace

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Function is one function's invocation counts, one value per minute.
type Function struct {
	Owner, App, Hash, Trigger string
	// FirstMinute is the trace's own index of Counts[0] (e.g. 480 for a
	// window starting at minute 480 of the day, 1-based as in Azure 2019).
	FirstMinute int
	Counts      []float64
	// Times, when set, are the real invocation start times (seconds from
	// the start of Counts[0]'s minute, sorted) and Durations their service
	// times in seconds (Azure 2021); Counts then bins them per minute.
	Times, Durations []float64
}

// Total is the number of invocations in the trace.
func (f Function) Total() float64 {
	var s float64
	for _, c := range f.Counts {
		s += c
	}
	return s
}

// Peak is the largest per-minute count.
func (f Function) Peak() float64 {
	var p float64
	for _, c := range f.Counts {
		p = math.Max(p, c)
	}
	return p
}

// Window returns the minutes [from, to) counted from the start of the trace
// (0-based offsets into Counts), clamped to the trace. to <= 0 means the end.
func (f Function) Window(from, to int) Function {
	n := len(f.Counts)
	if to <= 0 || to > n {
		to = n
	}
	if from < 0 {
		from = 0
	}
	if from > to {
		from = to
	}
	out := f
	out.FirstMinute = f.FirstMinute + from
	out.Counts = append([]float64(nil), f.Counts[from:to]...)
	if f.Times != nil {
		out.Times, out.Durations = []float64{}, []float64{}
		lo, hi := float64(from*60), float64(to*60)
		for i, t := range f.Times {
			if t >= lo && t < hi {
				out.Times = append(out.Times, t-lo)
				out.Durations = append(out.Durations, f.Durations[i])
			}
		}
	}
	return out
}

// Select picks one function by hash (when hash is not empty; a unique
// prefix of at least 6 characters is enough) or else by 0-based row index.
func Select(fns []Function, row int, hash string) (Function, error) {
	if hash != "" {
		var found []Function
		for _, f := range fns {
			if f.Hash == hash || (len(hash) >= 6 && strings.HasPrefix(f.Hash, hash)) {
				found = append(found, f)
			}
		}
		switch len(found) {
		case 0:
			return Function{}, fmt.Errorf("no function with hash %q in the trace", hash)
		case 1:
			return found[0], nil
		default:
			return Function{}, fmt.Errorf("hash prefix %q matches %d functions; give more characters", hash, len(found))
		}
	}
	if row < 0 || row >= len(fns) {
		return Function{}, fmt.Errorf("row %d out of range: the trace has rows 0..%d", row, len(fns)-1)
	}
	return fns[row], nil
}

// Open reads a trace file, detecting its format from the header.
func Open(path string) ([]Function, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	fns, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	return fns, nil
}

// Read reads a trace, detecting its format from the first line:
// Azure 2019 (HashOwner,HashApp,HashFunction,Trigger,<minutes>…),
// Freyr (HashFunction,Trigger,<minutes>…), Azure 2021 (app,func,end_timestamp,duration)
// or a one-column CSV of per-minute counts with an optional header.
func Read(r io.Reader) ([]Function, error) {
	br := bufio.NewReader(r)
	first, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read header: %w", err)
	}
	head := strings.ToLower(strings.SplitN(string(first), "\n", 2)[0])
	head = strings.TrimSpace(strings.TrimPrefix(head, "\ufeff"))
	switch {
	case strings.HasPrefix(head, "hashowner,happ") || strings.HasPrefix(head, "hashowner,hashapp,hashfunction,trigger"):
		return readPerMinute(br, 4)
	case strings.HasPrefix(head, "hashfunction,trigger"):
		return readPerMinute(br, 2)
	case strings.HasPrefix(head, "hashfunction,hashapp,hashowner,minute_"):
		// invitro's 1000-function full-day file: no Trigger column.
		return readPerMinute(br, 3)
	case strings.HasPrefix(head, "app,func,end_timestamp"):
		return readAzure2021(br)
	case head == "":
		return nil, errors.New("empty trace")
	default:
		f, err := readCounts(br)
		if err != nil {
			return nil, err
		}
		return []Function{f}, nil
	}
}

func newCSV(r io.Reader) *csv.Reader {
	c := csv.NewReader(r)
	c.ReuseRecord = true
	c.FieldsPerRecord = -1
	return c
}

// readPerMinute reads the Azure 2019 layout; meta is the number of
// identifying columns before the minutes (4 for Azure, 2 for Freyr).
func readPerMinute(r io.Reader, meta int) ([]Function, error) {
	c := newCSV(r)
	header, err := c.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if len(header) <= meta {
		return nil, fmt.Errorf("header has %d columns, want more than %d (no minute columns)", len(header), meta)
	}
	if n := len(header) - meta; n > MaxMinutes {
		return nil, fmt.Errorf("header has %d minute columns, at most %d (31 days) allowed: %w", n, MaxMinutes, ErrBounds)
	}
	first, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(header[meta]), "minute_"))
	if err != nil || first < 0 || first > MaxMinutes {
		return nil, fmt.Errorf("header column %d (%q) is not a minute index in 0..%d: %w", meta+1, header[meta], MaxMinutes, ErrBounds)
	}
	var out []Function
	err = eachRecord(c, len(header), func(line int, rec []string) error {
		f := Function{FirstMinute: first, Counts: make([]float64, len(rec)-meta)}
		switch meta {
		case 4:
			f.Owner, f.App, f.Hash, f.Trigger = rec[0], rec[1], rec[2], rec[3]
		case 3:
			f.Hash, f.App, f.Owner, f.Trigger = rec[0], rec[1], rec[2], "unknown"
		default:
			f.Hash, f.Trigger = rec[0], rec[1]
		}
		for i, s := range rec[meta:] {
			v, err := parseCount(s)
			if err != nil {
				return fmt.Errorf("line %d column %d: %w", line, meta+i+1, err)
			}
			f.Counts[i] = v
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("trace has a header but no functions")
	}
	return out, nil
}

// parseCount reads a per-minute count: a finite number in 0..MaxCount.
func parseCount(s string) (float64, error) { return parseBounded("count", s, MaxCount) }

// readCounts reads a one-column CSV of per-minute counts; a first line that
// is not a number is a header.
func readCounts(r io.Reader) (Function, error) {
	c := newCSV(r)
	f := Function{Hash: "counts", FirstMinute: 0}
	line := 0
	for {
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return Function{}, fmt.Errorf("line %d: %w", line, err)
		}
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		if len(rec) != 1 {
			return Function{}, fmt.Errorf("line %d has %d columns; a counts CSV has one column of per-minute counts", line, len(rec))
		}
		v, err := parseCount(rec[0])
		if err != nil {
			if line == 1 {
				f.Hash = strings.TrimSpace(rec[0]) // header names the series
				continue
			}
			return Function{}, fmt.Errorf("line %d: %w", line, err)
		}
		if len(f.Counts) == MaxMinutes {
			return Function{}, fmt.Errorf("line %d: more than %d per-minute counts (31 days): %w", line, MaxMinutes, ErrBounds)
		}
		f.Counts = append(f.Counts, v)
	}
	if len(f.Counts) == 0 {
		return Function{}, errors.New("counts CSV has no counts")
	}
	return f, nil
}

// readAzure2021 reads the per-invocation 2021 trace: one Function per
// app/func pair with its real invocation start times (end_timestamp minus
// duration, at least 0) and durations, and the per-minute counts of those
// starts; ordered by total invocations, busiest first.
func readAzure2021(r io.Reader) ([]Function, error) {
	c := newCSV(r)
	if _, err := c.Read(); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	type key struct{ app, fn string }
	type inv struct{ at, dur float64 }
	invs := map[key][]inv{}
	maxMinute := 0
	err := eachRecord(c, 0, func(line int, rec []string) error {
		if len(rec) < 3 {
			return fmt.Errorf("line %d has %d columns, want app,func,end_timestamp,duration", line, len(rec))
		}
		// end_timestamp < MaxSeconds: the span is at most MaxMinutes minutes.
		ts, err := parseBounded("end_timestamp (seconds)", rec[2], MaxSeconds)
		if err == nil && ts >= MaxSeconds {
			err = fmt.Errorf("end_timestamp (seconds) %q must be below %d (a trace spans at most 31 days): %w", rec[2], MaxSeconds, ErrBounds)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		dur := 0.0
		if len(rec) > 3 {
			if dur, err = parseBounded("duration (seconds)", rec[3], MaxInvocationSeconds); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
		}
		start := math.Max(0, ts-dur)
		k := key{rec[0], rec[1]}
		invs[k] = append(invs[k], inv{start, dur})
		maxMinute = max(maxMinute, int(start/60))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(invs) == 0 {
		return nil, errors.New("trace has a header but no invocations")
	}
	if cells := len(invs) * (maxMinute + 1); cells > MaxCells {
		return nil, fmt.Errorf("%d functions over %d minutes need %d per-minute counts, at most %d allowed: %w",
			len(invs), maxMinute+1, cells, MaxCells, ErrBounds)
	}
	out := make([]Function, 0, len(invs))
	for k, list := range invs {
		sort.Slice(list, func(i, j int) bool { return list[i].at < list[j].at })
		f := Function{App: k.app, Hash: k.fn, Trigger: "unknown", Counts: make([]float64, maxMinute+1)}
		for _, v := range list {
			f.Counts[int(v.at/60)]++
			f.Times = append(f.Times, v.at)
			f.Durations = append(f.Durations, v.dur)
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].Total(), out[j].Total()
		if ti != tj {
			return ti > tj
		}
		return out[i].Hash < out[j].Hash
	})
	return out, nil
}

// eachRecord calls fn with every record after the header and its 1-based
// line number; want > 0 requires exactly that many columns.
func eachRecord(c *csv.Reader, want int, fn func(line int, rec []string) error) error {
	for line := 2; ; line++ {
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if want > 0 && len(rec) != want {
			return fmt.Errorf("line %d has %d columns, the header %d", line, len(rec), want)
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}
