package autoscaler

import "github.com/prescale/prescale/internal/sim"

// fakeView is a hand-set observation: window sums return the values set,
// whatever the window (each test sets what its window holds).
type fakeView struct {
	now                         float64
	replicas, ready, starting   int
	inflight, queued            int
	arrivals, completions, lat  float64
	busy, readySec, inflightSec float64
	// perWindow overrides InFlightSeconds by window length (KPA's two windows).
	perWindow map[int]float64
	need      int
	askedH    int
}

func (f *fakeView) Now() float64             { return f.now }
func (f *fakeView) Replicas() int            { return f.replicas }
func (f *fakeView) Ready() int               { return f.ready }
func (f *fakeView) Starting() int            { return f.starting }
func (f *fakeView) InFlight() int            { return f.inflight }
func (f *fakeView) Queued() int              { return f.queued }
func (f *fakeView) Arrivals(int) float64     { return f.arrivals }
func (f *fakeView) Completions(int) float64  { return f.completions }
func (f *fakeView) LatencySum(int) float64   { return f.lat }
func (f *fakeView) BusySeconds(int) float64  { return f.busy }
func (f *fakeView) ReadySeconds(int) float64 { return f.readySec }
func (f *fakeView) InFlightSeconds(w int) float64 {
	if v, ok := f.perWindow[w]; ok {
		return v
	}
	return f.inflightSec
}
func (f *fakeView) NeedAhead(h int) int { f.askedH = h; return f.need }

var _ sim.View = (*fakeView)(nil)

func info() sim.FunctionInfo {
	return sim.FunctionInfo{Name: "fn", Concurrency: 10, MeanService: 0.1, Min: 1, Max: 100, ColdStartMax: 10}
}
