package autoscaler

import (
	"fmt"
	"math"

	"github.com/prescale/prescale/internal/sim"
)

// HybridConfig is the hybrid histogram policy of Shahrad et al., "Serverless
// in the Wild" (USENIX ATC 2020), §4.2, with the paper's parameters.
type HybridConfig struct {
	Range        float64 // seconds covered by the histogram (4 h)
	BinWidth     float64 // seconds per bin (1 min)
	Head, Tail   float64 // percentiles (0..1) for the pre-warm and keep-alive windows (5 %, 99 %)
	HistMargin   float64 // pre-warm × (1-m), keep-alive × (1+m) (10 %)
	TSMargin     float64 // margin of the time-series windows (15 %)
	CVThreshold  float64 // below it the histogram is not representative (2)
	OOBThreshold float64 // share of out-of-range idle times that switches to the time series (0.5)
	TSWindow     int     // idle times the time-series forecast averages (3)
	Lead         float64 // seconds a pre-warm is started ahead (prescale's lead: cold start + period)
}

// DefaultHybrid returns the paper's parameters and prescale's 15 s pre-warm lead.
func DefaultHybrid() HybridConfig {
	return HybridConfig{Range: 4 * 3600, BinWidth: 60, Head: 0.05, Tail: 0.99, HistMargin: 0.10, TSMargin: 0.15,
		CVThreshold: 2, OOBThreshold: 0.5, TSWindow: 3, Lead: 15}
}

// Validate reports the first field out of range.
func (c HybridConfig) Validate() error {
	switch {
	case c.BinWidth <= 0 || c.Range < c.BinWidth:
		return fmt.Errorf("hybrid range %gs / bin %gs: need 0 < bin <= range", c.Range, c.BinWidth)
	case !(c.Head >= 0 && c.Head < c.Tail && c.Tail <= 1):
		return fmt.Errorf("hybrid percentiles head %g, tail %g: need 0 <= head < tail <= 1", c.Head, c.Tail)
	case c.HistMargin < 0 || c.HistMargin >= 1 || c.TSMargin < 0 || c.TSMargin >= 1:
		return fmt.Errorf("hybrid margins %g, %g: allowed range is [0, 1)", c.HistMargin, c.TSMargin)
	case c.TSWindow < 1:
		return fmt.Errorf("hybrid time-series window %d: must be >= 1", c.TSWindow)
	}
	return nil
}

// Hybrid is the hybrid histogram policy. Per function it keeps a histogram
// of idle times (the gap between consecutive invocations; the paper
// measures from the end of the previous execution, which differs by the
// service time) over Range in BinWidth bins, and after every invocation
// picks a pre-warm window and a keep-alive window:
//
//   - not representative (coefficient of variation of the bin counts below
//     CVThreshold, or no idle time yet): standard keep-alive, no pre-warm,
//     keep alive for the whole Range;
//   - representative: unload after the execution and pre-warm at the Head
//     percentile × (1 - HistMargin), keep alive until the Tail percentile's
//     bin end × (1 + HistMargin) (no unload when the head is bin 0);
//   - too many idle times out of range (share >= OOBThreshold): the paper's
//     ARIMA forecast of the next idle time, here a documented simpler time
//     series (the mean of the last TSWindow out-of-range idle times), with
//     windows [f(1 - TSMargin), f(1 + TSMargin)].
//
// A pre-warm is started Lead seconds before its window opens (the paper
// loads at the window; a replica here needs a cold start). It runs on the
// shared load layer, checked every 5 s.
type Hybrid struct {
	Config HybridConfig
	Label  string
	Period int       // check interval in seconds (0 = 5), as KeepAlive.Period
	Load   LoadLayer // as KeepAlive.Load
}

func (h Hybrid) Name() string {
	if h.Label != "" {
		return h.Label
	}
	return "hybrid"
}

func (h Hybrid) NewController(f sim.FunctionInfo) sim.Controller {
	return newZeroCtlWith(f, periodOr5(h.Period), 0, newHybridLayer(h.Config), h.Load)
}

type hybridLayer struct {
	cfg        HybridConfig
	bins       []int
	sum, oob   int
	sumsq      float64
	oobITs     []float64
	last       float64
	dirty      bool
	pre, keep  float64 // window, seconds after the last invocation
	hasHistory bool
}

func newHybridLayer(c HybridConfig) *hybridLayer {
	return &hybridLayer{cfg: c, bins: make([]int, int(math.Round(c.Range/c.BinWidth))), last: math.Inf(-1)}
}

func (h *hybridLayer) arrived(now float64) {
	if !math.IsInf(h.last, -1) {
		h.add(now - h.last)
	}
	h.last = now
	h.dirty = true
}

// add records one idle time.
func (h *hybridLayer) add(it float64) {
	b := int(it / h.cfg.BinWidth)
	if b >= len(h.bins) {
		h.oob++
		h.oobITs = append(h.oobITs, it)
		if len(h.oobITs) > h.cfg.TSWindow {
			h.oobITs = h.oobITs[1:]
		}
		return
	}
	c := float64(h.bins[b])
	h.sumsq += 2*c + 1
	h.bins[b]++
	h.sum++
	h.hasHistory = true
}

// cv is the coefficient of variation of the bin counts.
func (h *hybridLayer) cv() float64 {
	n := float64(len(h.bins))
	if h.sum == 0 || n < 2 {
		return 0
	}
	mean := float64(h.sum) / n
	v := (h.sumsq - n*mean*mean) / (n - 1)
	return math.Sqrt(math.Max(v, 0)) / mean
}

func (h *hybridLayer) percentileBin(q float64) int {
	acc := 0
	for i, c := range h.bins {
		acc += c
		if float64(acc) >= q*float64(h.sum) {
			return i
		}
	}
	return len(h.bins) - 1
}

// window recomputes the pre-warm and keep-alive windows.
func (h *hybridLayer) window() {
	c := h.cfg
	total := h.sum + h.oob
	switch {
	case total > 0 && float64(h.oob)/float64(total) >= c.OOBThreshold && len(h.oobITs) > 0:
		f := 0.0
		for _, x := range h.oobITs {
			f += x
		}
		f /= float64(len(h.oobITs))
		h.pre, h.keep = f*(1-c.TSMargin), f*(1+c.TSMargin)
	case !h.hasHistory || h.cv() < c.CVThreshold:
		h.pre, h.keep = 0, c.Range
	default:
		h.pre = float64(h.percentileBin(c.Head)) * c.BinWidth * (1 - c.HistMargin)
		h.keep = float64(h.percentileBin(c.Tail)+1) * c.BinWidth * (1 + c.HistMargin)
	}
}

func (h *hybridLayer) floor(v sim.View) int {
	if math.IsInf(h.last, -1) {
		return 0
	}
	if h.dirty {
		h.window()
		h.dirty = false
	}
	e := v.Now() - h.last
	if e >= h.keep {
		return 0
	}
	if h.pre <= 0 || e >= h.pre-h.cfg.Lead {
		return 1
	}
	return 0
}
