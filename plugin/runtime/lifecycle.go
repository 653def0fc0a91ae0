package runtime

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// scaleFromZeroTarget is max(1, com.openfaas.scale.min).
func scaleFromZeroTarget(s Spec) int {
	n := 1
	if s.Deployment.Labels != nil {
		if v, ok := (*s.Deployment.Labels)[MinReplicasLabel]; ok {
			if x, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && x > n && x <= 1000 {
				n = x
			}
		}
	}
	return n
}

// scaleFromZero is OpenFaaS's scale_from_zero, called by Invoke for a
// function at 0 desired replicas (fn.atZero).
func (m *Manager) scaleFromZero(fn *function) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fn.desired != 0 || fn.removed || m.closed {
		return
	}
	fn.setDesired(scaleFromZeroTarget(fn.spec))
	fn.scaleFromZeroes++
	m.log.Info("scale from zero", "function", fn.name, "replicas", fn.desired)
	m.reconcileLocked(fn)
}

// reconcileLocked starts and stops replicas so that the current generation
// has fn.desired replicas, and old generations keep serving only until enough
// current ones are ready.
func (m *Manager) reconcileLocked(fn *function) {
	if m.closed || fn.removed {
		for _, r := range fn.replicas {
			m.stopReplicaLocked(r)
		}
		return
	}
	var cur, old []*replica
	for _, r := range fn.replicas {
		if r.stopping {
			continue
		}
		if r.gen == fn.gen {
			cur = append(cur, r)
		} else {
			old = append(old, r)
		}
	}
	for i := len(cur); i < fn.desired; i++ {
		cur = append(cur, m.startReplicaLocked(fn))
	}
	if len(cur) > fn.desired {
		m.sortForStopLocked(cur)
		for _, r := range cur[:len(cur)-fn.desired] {
			m.stopReplicaLocked(r)
		}
		cur = cur[len(cur)-fn.desired:]
	}
	ready := 0
	for _, r := range cur {
		if r.state == stReady {
			ready++
		}
	}
	keep := max(fn.desired-ready, 0)
	if len(old) > keep {
		m.sortForStopLocked(old)
		for _, r := range old[:len(old)-keep] {
			m.stopReplicaLocked(r)
		}
	}
}

// sortForStopLocked orders replicas so the best to stop come first: not
// ready before ready, then fewest in flight, then newest.
func (m *Manager) sortForStopLocked(rs []*replica) {
	inflight := make(map[*replica]int, len(rs))
	for _, r := range rs {
		inflight[r] = r.fn.pool.stats(r.slot).inflight
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if (a.state == stReady) != (b.state == stReady) {
			return a.state != stReady
		}
		if inflight[a] != inflight[b] {
			return inflight[a] < inflight[b]
		}
		return a.seq > b.seq
	})
}

func (m *Manager) startReplicaLocked(fn *function) *replica {
	fn.nextID++
	m.dirSeq++
	id := fmt.Sprintf("%s-%d", fn.name, fn.nextID)
	recheck := make(chan struct{}, 1)
	r := &replica{
		// Unguessable: with RunAs every replica is the same user, and the run
		// dir lets it traverse but not list, so a replica cannot name another's.
		dir:       filepath.Join(m.runDir, fmt.Sprintf("%s-%d-%d-%s", fn.name, fn.nextID, m.dirSeq, randomSuffix())),
		fn:        fn,
		seq:       fn.nextID,
		id:        id,
		gen:       fn.gen,
		spec:      fn.spec,
		slot:      &slot{id: id, max: fn.spec.MaxInflight, timeout: requestTimeout(fn.spec), recheck: recheck},
		state:     stStarting,
		stopCh:    make(chan struct{}),
		recheck:   recheck,
		createdAt: m.clk.Now(),
	}
	fn.replicas = append(fn.replicas, r)
	m.wg.Add(1)
	go m.runReplica(r)
	return r
}

// stopReplicaLocked asks the replica to stop: routing to it stops at once,
// and its state machine goes to draining (or, in backoff, to stopped).
func (m *Manager) stopReplicaLocked(r *replica) {
	if r.stopping {
		return
	}
	r.stopping = true
	r.stopAt = m.clk.Now()
	r.fn.pool.remove(r.slot)
	close(r.stopCh)
	m.changed.broadcast()
}

func (m *Manager) removeReplicaLocked(r *replica) {
	fn := r.fn
	for i, x := range fn.replicas {
		if x == r {
			fn.replicas = append(fn.replicas[:i], fn.replicas[i+1:]...)
			break
		}
	}
}
