package runtime

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// The names of the waiting counters others read (the demo, the dashboard,
// internal/live): requests that arrived with no replica ready, and requests
// served by a replica that became ready after they arrived.
const (
	ColdStartWaitsMetric = "prescale_plugin_cold_start_waits_total"
	StartWaitsMetric     = "prescale_plugin_start_waits_total"
	// ReplicaStartMetric is the histogram of replica starts: a scale-up to
	// the replica's first ready (what the simulator draws as a cold start).
	ReplicaStartMetric = "prescale_plugin_replica_start_seconds"
)

// ColdStartWaits reads ColdStartWaitsMetric from g: the count per function.
func ColdStartWaits(g prometheus.Gatherer) (map[string]float64, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather %s: %w", ColdStartWaitsMetric, err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != ColdStartWaitsMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "function_name" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out, nil
}

var (
	descDesired = prometheus.NewDesc("prescale_plugin_replicas_desired",
		"Desired replicas of the function.", []string{"function_name"}, nil)
	descAvailable = prometheus.NewDesc("prescale_plugin_replicas_available",
		"Replicas ready to take requests.", []string{"function_name"}, nil)
	descStarting = prometheus.NewDesc("prescale_plugin_replicas_starting",
		"Replicas whose process is starting, restarting or not ready yet.", []string{"function_name"}, nil)
	descDraining = prometheus.NewDesc("prescale_plugin_replicas_draining",
		"Replicas stopping: draining in-flight requests.", []string{"function_name"}, nil)
	descInflight = prometheus.NewDesc("prescale_plugin_inflight_requests",
		"Requests being served by the function's replicas.", []string{"function_name"}, nil)
	descQueue = prometheus.NewDesc("prescale_plugin_queue_length",
		"Requests waiting for a replica slot.", []string{"function_name"}, nil)
	descRestarts = prometheus.NewDesc("prescale_plugin_replica_restarts_total",
		"Replica processes that exited unexpectedly (or failed to start) and were restarted.", []string{"function_name"}, nil)
	descColdWaits = prometheus.NewDesc(ColdStartWaitsMetric,
		"Requests that had to wait because no replica was ready.", []string{"function_name"}, nil)
	descColdWaitSeconds = prometheus.NewDesc("prescale_plugin_cold_start_wait_seconds_total",
		"Total seconds requests waited because no replica was ready.", []string{"function_name"}, nil)
	descStartWaits = prometheus.NewDesc(StartWaitsMetric,
		"Requests served by a replica that became ready after they arrived (they waited for a replica start; the simulator's cold-start delayed).", []string{"function_name"}, nil)
	descStartWaitSeconds = prometheus.NewDesc("prescale_plugin_start_wait_seconds",
		"Seconds each request counted in prescale_plugin_start_waits_total waited, from its arrival to the replica that started after it taking it (histogram; buckets StartWaitBuckets).", []string{"function_name"}, nil)
	descReplicaStart = prometheus.NewDesc(ReplicaStartMetric,
		"Seconds from a replica's creation (a scale-up) to its first ready: process spawn, health probe and startup delay; a restart after a crash is not counted (histogram; buckets StartWaitBuckets).", []string{"function_name"}, nil)
	descQueueTimeouts = prometheus.NewDesc("prescale_plugin_queue_timeouts_total",
		"Requests that got 503 after waiting ColdStartWait for a replica slot.", []string{"function_name"}, nil)
	descQueueRejected = prometheus.NewDesc("prescale_plugin_queue_rejected_total",
		"Requests that got 429 because MaxQueued requests already waited for a replica slot.", []string{"function_name"}, nil)
	descScaleFromZero = prometheus.NewDesc("prescale_plugin_scale_from_zero_total",
		"Times a request scaled the function up from zero replicas.", []string{"function_name"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Manager) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDesired, descAvailable, descStarting, descDraining, descInflight,
		descQueue, descRestarts, descColdWaits, descColdWaitSeconds, descStartWaits, descStartWaitSeconds, descReplicaStart, descQueueTimeouts, descQueueRejected, descScaleFromZero} {
		ch <- d
	}
}

// Collect implements prometheus.Collector with the current state of every function.
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		name                                          string
		desired, avail, starting, draining, inflight  float64
		queue, restarts, cold, coldS, timeouts, fromZ float64
		startWaits, rejected                          float64
		startWait, replicaStart                       waitHistogram
	}
	m.mu.Lock()
	rows := make([]row, 0, len(m.fns))
	for _, fn := range m.fns {
		pc := fn.pool.counters()
		r := row{name: fn.name, desired: float64(fn.desired), queue: pc.queue,
			restarts: fn.restarts, cold: pc.coldStartWaits, coldS: pc.coldStartWaitS,
			timeouts: pc.queueTimeouts, fromZ: fn.scaleFromZeroes, startWaits: pc.startWaits, rejected: pc.queueRejected, startWait: pc.startWait, replicaStart: fn.startHist.clone()}
		for _, x := range fn.replicas {
			st := fn.pool.stats(x.slot)
			r.inflight += float64(st.inflight)
			switch x.state.public(x.stopping) {
			case "ready":
				if st.routable {
					r.avail++
				} else {
					r.starting++ // suspect: re-probing
				}
			case "draining":
				r.draining++
			default:
				r.starting++
			}
		}
		rows = append(rows, r)
	}
	m.mu.Unlock()
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	emit := func(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, fn string) {
		if mt, err := prometheus.NewConstMetric(d, t, v, fn); err == nil {
			ch <- mt
		}
	}
	for _, r := range rows {
		emit(ch, descDesired, g, r.desired, r.name)
		emit(ch, descAvailable, g, r.avail, r.name)
		emit(ch, descStarting, g, r.starting, r.name)
		emit(ch, descDraining, g, r.draining, r.name)
		emit(ch, descInflight, g, r.inflight, r.name)
		emit(ch, descQueue, g, r.queue, r.name)
		emit(ch, descRestarts, c, r.restarts, r.name)
		emit(ch, descColdWaits, c, r.cold, r.name)
		emit(ch, descColdWaitSeconds, c, r.coldS, r.name)
		emit(ch, descStartWaits, c, r.startWaits, r.name)
		if mt, err := prometheus.NewConstHistogram(descStartWaitSeconds, r.startWait.n, r.startWait.sum, r.startWait.cumulative(), r.name); err == nil {
			ch <- mt
		}
		if mt, err := prometheus.NewConstHistogram(descReplicaStart, r.replicaStart.n, r.replicaStart.sum, r.replicaStart.cumulative(), r.name); err == nil {
			ch <- mt
		}
		emit(ch, descQueueTimeouts, c, r.timeouts, r.name)
		emit(ch, descQueueRejected, c, r.rejected, r.name)
		emit(ch, descScaleFromZero, c, r.fromZ, r.name)
	}
}
