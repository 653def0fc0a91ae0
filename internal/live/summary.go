package live

// Summary is what a History says about a run, measured by the platform.
type Summary struct {
	Requests       float64 // started during the run
	ColdWaits      float64 // requests that waited for a replica start (plugin counter)
	ReplicaSeconds float64 // ∫ desired replicas dt
	PeakReplicas   int
	MeanLatency    float64 // seconds, gateway sum / completions
	Gaps           int     // failed (retried) observations
}

// Summarize reduces a History (counters relative to its first sample).
func Summarize(h *History) Summary {
	s := Summary{Gaps: len(h.gaps)}
	if h.Len() == 0 {
		return s
	}
	first, last := h.s[0], h.Last()
	s.Requests = last.Started - first.Started
	s.ColdWaits = last.ColdWaits - first.ColdWaits
	for i, x := range h.s {
		s.PeakReplicas = max(s.PeakReplicas, x.Replicas)
		if i > 0 {
			p := h.s[i-1]
			s.ReplicaSeconds += float64(p.Replicas) * (x.T - p.T)
		}
	}
	if n := last.Completed - first.Completed; n > 0 {
		s.MeanLatency = (last.LatencySum - first.LatencySum) / n
	}
	return s
}
