package live

import "github.com/prescale/prescale/internal/sim"

// view is a sim.View of a History at its newest sample.
type view struct{ h *History }

var _ sim.View = view{}

// ViewOf returns the sim.View a Controller sees at h's newest sample.
func ViewOf(h *History) sim.View { return view{h} }

func (v view) Now() float64  { return v.h.Last().T }
func (v view) Replicas() int { return v.h.Last().Replicas }
func (v view) Ready() int    { return v.h.Last().Ready }
func (v view) Starting() int { return v.h.Last().Starting() }
func (v view) InFlight() int { return v.h.Last().InFlight() }
func (v view) Queued() int {
	l := v.h.Last()
	return max(0, l.InFlight()-l.Ready*max(1, l.Concurrency))
}

func (v view) Arrivals(w int) float64 {
	return v.h.delta(w, func(i int) float64 { return v.h.s[i].Started })
}
func (v view) Completions(w int) float64 {
	return v.h.delta(w, func(i int) float64 { return v.h.s[i].Completed })
}
func (v view) LatencySum(w int) float64 {
	return v.h.delta(w, func(i int) float64 { return v.h.s[i].LatencySum })
}
func (v view) BusySeconds(w int) float64     { return v.h.integral(w, v.h.busyS, busyOf) }
func (v view) ReadySeconds(w int) float64    { return v.h.integral(w, v.h.readyS, readyOf) }
func (v view) InFlightSeconds(w int) float64 { return v.h.integral(w, v.h.inflightS, inflightOf) }

// NeedAhead is never answered live: the future is unknown.
func (v view) NeedAhead(int) int { return -1 }
