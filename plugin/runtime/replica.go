package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type replicaState int

const (
	stateStarting   replicaState = iota // process started, not ready yet
	stateReady                          // gets traffic
	stateDraining                       // stop requested: no new traffic
	stateRestarting                     // process exited unexpectedly; waiting to restart
)

func (s replicaState) String() string {
	switch s {
	case stateStarting:
		return "starting"
	case stateReady:
		return "ready"
	case stateDraining:
		return "draining"
	case stateRestarting:
		return "restarting"
	}
	return "unknown"
}

// replica is one slot of a function: one OS process at a time, restarted
// when it crashes. Fields below spec are guarded by Manager.mu.
type replica struct {
	fn   *function
	dir  string // the replica's own directory; TMPDIR is dir/tmp
	seq  int
	id   string
	gen  int
	spec Spec

	state     replicaState
	stopping  bool
	stopAt    time.Time
	stopCh    chan struct{} // closed by stopReplicaLocked
	recheck   chan struct{} // a dial failed: re-probe
	inflight  int
	requests  int64 // dispatched to this replica, over all its processes
	port      int
	pid       int
	restarts  int
	startedAt time.Time
	readyAt   time.Time
}

func (r *replica) routable() bool { return r.state == stateReady && !r.stopping }

// runReplica owns the replica's processes until it is stopped.
func (m *Manager) runReplica(r *replica) {
	defer m.wg.Done()
	failures := 0
	for {
		crashed, readyFor := m.runProcess(r)
		if !crashed {
			break
		}
		if readyFor >= m.cfg.RestartBackoffMax {
			failures = 0
		}
		delay := m.cfg.RestartBackoff << min(failures, 20)
		if delay > m.cfg.RestartBackoffMax || delay <= 0 {
			delay = m.cfg.RestartBackoffMax
		}
		failures++
		m.mu.Lock()
		r.restarts++
		r.fn.restarts++
		m.reconcileLocked(r.fn) // an old-generation replica may need to keep serving
		m.mu.Unlock()
		m.log.Warn("replica exited unexpectedly; restarting", "function", r.fn.name, "replica", r.id, "backoff", delay)
		t := time.NewTimer(delay)
		select {
		case <-r.stopCh:
			t.Stop()
		case <-t.C:
		}
		if r.isStopping(m) {
			break
		}
	}
	m.mu.Lock()
	m.removeReplicaLocked(r)
	m.reconcileLocked(r.fn)
	m.mu.Unlock()
	if err := os.RemoveAll(r.dir); err != nil {
		m.log.Warn("removing replica dir", "dir", r.dir, "err", err)
	}
	m.log.Info("replica stopped", "function", r.fn.name, "replica", r.id)
}

func (r *replica) isStopping(m *Manager) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return r.stopping
}

// freePort binds 127.0.0.1:0 and releases the port for the replica.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// replicaEnv builds the minimal environment of a replica process.
func (m *Manager) replicaEnv(s Spec, port int, tmp string) []string {
	env := map[string]string{}
	for _, k := range []string{"PATH", "HOME", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	for k, v := range s.Env {
		env[k] = v
	}
	env["TMPDIR"] = tmp
	env["upstream_url"] = "http://127.0.0.1:" + strconv.Itoa(port)
	env["port"] = strconv.Itoa(port)
	if s.SecretsDir != "" {
		env["secret_mount_path"] = s.SecretsDir
	}
	setDefault := func(k, v string) {
		if _, ok := s.Env[k]; !ok {
			env[k] = v
		}
	}
	if s.ExecTimeout > 0 {
		setDefault("exec_timeout", s.ExecTimeout.String())
	}
	if s.ReadTimeout > 0 {
		setDefault("read_timeout", s.ReadTimeout.String())
	}
	if s.WriteTimeout > 0 {
		setDefault("write_timeout", s.WriteTimeout.String())
	}
	if s.Mode == ModeFork {
		env["fprocess"] = strings.Join(s.Command, " ")
		// The dispatcher owns the per-replica bound: it queues requests over
		// Spec.MaxInflight FIFO. The watchdog gets no bound of its own then
		// (max_inflight=0, overriding the function's env): a request the
		// dispatcher abandoned (client gone, timeout) frees the dispatcher's
		// slot at once while the watchdog is still killing and reaping its
		// child, and a watchdog bound equal to the dispatcher's would answer
		// the next queued request with 429. The watchdog keeps its own
		// max_inflight when run standalone or when Spec.MaxInflight is 0.
		if s.MaxInflight > 0 {
			env["max_inflight"] = "0"
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+strings.ReplaceAll(v, "\x00", ""))
	}
	sort.Strings(out)
	return out
}

// runProcess runs one process of the replica until it exits or the replica
// is stopped. crashed reports an unexpected exit (or failed start/readiness);
// readyFor is how long the process was ready.
func (m *Manager) runProcess(r *replica) (crashed bool, readyFor time.Duration) {
	fn := r.fn
	s := r.spec
	port, err := freePort()
	if err != nil {
		m.log.Error("no free loopback port", "replica", r.id, "err", err)
		return true, 0
	}
	tmp := filepath.Join(r.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		m.log.Error("replica tmp dir", "replica", r.id, "err", err)
		return true, 0
	}
	argv := s.Command
	if s.Mode == ModeFork {
		argv = m.cfg.WatchdogCommand
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = m.replicaEnv(s, port, tmp)
	// Own process group (a kill reaches the children); killed if the plugin dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pr, pw, err := os.Pipe()
	if err != nil {
		m.log.Error("replica output pipe", "replica", r.id, "err", err)
		return true, 0
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		fn.logs.add(r.id, fmt.Sprintf("prescale: cannot start %q: %v", strings.Join(argv, " "), err))
		m.log.Error("replica start failed", "function", fn.name, "replica", r.id, "argv", argv, "err", err)
		return true, 0
	}
	pw.Close()
	pid := cmd.Process.Pid
	m.wg.Add(2)
	go func() { defer m.wg.Done(); fn.logs.readFrom(pr, r.id) }()
	exited := make(chan struct{})
	var waitErr error
	go func() {
		defer m.wg.Done()
		waitErr = cmd.Wait()
		// Reap whatever the process left in its group.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		close(exited)
		// A descendant that left the group may hold the output pipe open:
		// stop reading it a little later so no goroutine outlives Close.
		time.AfterFunc(2*time.Second, func() { pr.Close() })
	}()

	m.mu.Lock()
	r.pid, r.port, r.startedAt, r.readyAt = pid, port, time.Now(), time.Time{}
	if !r.stopping {
		r.state = stateStarting
	}
	m.mu.Unlock()
	m.log.Info("replica process started", "function", fn.name, "replica", r.id, "pid", pid, "port", port)

	clear := func() {
		m.mu.Lock()
		r.pid = 0
		if !r.stopping {
			r.state = stateRestarting
		}
		m.mu.Unlock()
	}
	crash := func(why string) (bool, time.Duration) {
		var rf time.Duration
		m.mu.Lock()
		if !r.readyAt.IsZero() {
			rf = time.Since(r.readyAt)
		}
		m.mu.Unlock()
		fn.logs.add(r.id, fmt.Sprintf("prescale: replica process %d %s", pid, why))
		clear()
		return true, rf
	}

	// Readiness: the health probe, then StartupDelay.
	switch m.waitHealthy(r, port, exited) {
	case probeStopped:
		m.stopProcess(r, pid, exited)
		clear()
		return false, 0
	case probeExited:
		return crash(fmt.Sprintf("exited before ready: %v", waitErr))
	case probeTimeout:
		m.killGroup(pid)
		<-exited
		return crash(fmt.Sprintf("not ready within %s: killed", m.cfg.ReadyTimeout))
	}
	if s.StartupDelay > 0 {
		t := time.NewTimer(s.StartupDelay)
		select {
		case <-t.C:
		case <-r.stopCh:
			t.Stop()
			m.stopProcess(r, pid, exited)
			clear()
			return false, 0
		case <-exited:
			t.Stop()
			return crash(fmt.Sprintf("exited during startup delay: %v", waitErr))
		}
	}
	m.setReady(r)

	for {
		select {
		case <-exited:
			m.mu.Lock()
			stopping := r.stopping
			m.mu.Unlock()
			if stopping {
				// Exited on its own after the stop began: that is a stop.
				clear()
				return false, 0
			}
			m.markUnready(r)
			return crash(fmt.Sprintf("exited: %v", waitErr))
		case <-r.stopCh:
			m.stopProcess(r, pid, exited)
			clear()
			return false, 0
		case <-r.recheck:
			m.markUnready(r)
			switch m.waitHealthy(r, port, exited) {
			case probeStopped:
				m.stopProcess(r, pid, exited)
				clear()
				return false, 0
			case probeExited:
				return crash(fmt.Sprintf("exited: %v", waitErr))
			case probeTimeout:
				m.killGroup(pid)
				<-exited
				return crash(fmt.Sprintf("unreachable for %s: killed", m.cfg.ReadyTimeout))
			}
			m.setReady(r)
		}
	}
}

func (m *Manager) setReady(r *replica) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.stopping {
		return
	}
	r.state = stateReady
	if r.readyAt.IsZero() {
		r.readyAt = time.Now()
	}
	m.log.Info("replica ready", "function", r.fn.name, "replica", r.id, "pid", r.pid)
	m.dispatchLocked(r.fn)
	m.reconcileLocked(r.fn)
}

// markUnready takes the replica out of routing at once (crash or dial failure).
func (m *Manager) markUnready(r *replica) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !r.stopping {
		r.state = stateStarting
	}
}

type probeResult int

const (
	probeOK probeResult = iota
	probeStopped
	probeExited
	probeTimeout
)

// waitHealthy polls the replica until it answers: any HTTP response in http
// mode, 200 from /_/health in fork mode.
func (m *Manager) waitHealthy(r *replica, port int, exited <-chan struct{}) probeResult {
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/_/health"
	deadline := time.NewTimer(m.cfg.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(m.cfg.ProbeInterval)
	defer tick.Stop()
	for {
		if m.probeOnce(r.spec.Mode, url) {
			return probeOK
		}
		select {
		case <-r.stopCh:
			return probeStopped
		case <-exited:
			return probeExited
		case <-deadline.C:
			return probeTimeout
		case <-tick.C:
		}
	}
}

func (m *Manager) probeOnce(mode Mode, url string) bool {
	ctx, cancel := context.WithTimeout(m.ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := m.probe.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	if mode == ModeFork {
		return resp.StatusCode == http.StatusOK
	}
	return true
}

func (m *Manager) killGroup(pid int) {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		m.log.Warn("kill process group", "pid", pid, "err", err)
	}
}

// stopProcess drains the replica's in-flight requests, sends SIGTERM to its
// process group, and SIGKILLs it once StopGrace has passed since the stop began.
func (m *Manager) stopProcess(r *replica, pid int, exited <-chan struct{}) {
	m.mu.Lock()
	deadline := r.stopAt.Add(m.cfg.StopGrace)
	m.mu.Unlock()
	grace := time.NewTimer(time.Until(deadline))
	defer grace.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	graceOver := false
drain:
	for {
		m.mu.Lock()
		n := r.inflight
		m.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-exited:
			return
		case <-grace.C:
			graceOver = true
			m.log.Warn("replica stop: grace period over with requests in flight", "replica", r.id, "inflight", n)
			break drain
		case <-m.hardStop:
			break drain
		case <-tick.C:
		}
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		m.log.Warn("SIGTERM", "pid", pid, "err", err)
	}
	if !graceOver {
		select {
		case <-exited:
			return
		case <-grace.C:
		case <-m.hardStop:
		}
	}
	m.log.Warn("replica did not exit after SIGTERM: SIGKILL", "replica", r.id, "pid", pid)
	m.killGroup(pid)
	<-exited
}
