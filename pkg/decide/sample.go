package decide

import "time"

// Sample is one observation of one function over one control interval.
// Every source (gateway /metrics, Prometheus, active probe) produces it;
// the predictor, the scaler and the simulator consume it. Zero fields are
// left out of its JSON (a missing field decodes as 0): an idle function's
// history is most of what a chain payload carries, and with every field
// written its 120 samples were ~28 kB, which held a 250 kB batch to ~8
// functions.
type Sample struct {
	Function string    `json:"function"`
	At       time.Time `json:"at"`       // end of the interval
	Interval float64   `json:"interval"` // seconds covered

	RPS float64 `json:"rps,omitempty"` // completed requests per second
	// Arrivals is the count of requests that arrived (started) in the
	// interval: the arrival model's input. A request held while a replica
	// starts, or a long one, completes later than it arrived; the
	// gateway's started counter has its arrival.
	Arrivals    float64 `json:"arrivals,omitempty"`
	InFlight    float64 `json:"in_flight,omitempty"` // started minus completed, at At
	P50         float64 `json:"p50,omitempty"`       // latency percentiles, seconds
	P90         float64 `json:"p90,omitempty"`
	P99         float64 `json:"p99,omitempty"`
	MeanLatency float64 `json:"mean_latency,omitempty"` // seconds; the observed service time
	ErrorRate   float64 `json:"error_rate,omitempty"`   // share of non-2xx responses
	Status200   float64 `json:"status_200,omitempty"`   // count in the interval
	Status500   float64 `json:"status_500,omitempty"`   // count in the interval

	Replicas          int `json:"replicas,omitempty"`
	AvailableReplicas int `json:"available_replicas,omitempty"`
}

// FailureRatio is the original system's engineered feature:
// (Status500/Status200)+Status500, with Status200 of zero treated as one.
func (s Sample) FailureRatio() float64 {
	ok := s.Status200
	if ok == 0 {
		ok = 1
	}
	return s.Status500/ok + s.Status500
}
