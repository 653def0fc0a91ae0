package decide

import "time"

// Sample is one observation of one function over one control interval.
// Every source (gateway /metrics, Prometheus, active probe) produces it;
// the predictor, the scaler and the simulator consume it.
type Sample struct {
	Function string    `json:"function"`
	At       time.Time `json:"at"`       // end of the interval
	Interval float64   `json:"interval"` // seconds covered

	RPS         float64 `json:"rps"`       // completed requests per second
	InFlight    float64 `json:"in_flight"` // started minus completed, at At
	P50         float64 `json:"p50"`       // latency percentiles, seconds
	P90         float64 `json:"p90"`
	P99         float64 `json:"p99"`
	MeanLatency float64 `json:"mean_latency"` // seconds; the observed service time
	ErrorRate   float64 `json:"error_rate"`   // share of non-2xx responses
	Status200   float64 `json:"status_200"`   // count in the interval
	Status500   float64 `json:"status_500"`   // count in the interval

	Replicas          int `json:"replicas"`
	AvailableReplicas int `json:"available_replicas"`
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
