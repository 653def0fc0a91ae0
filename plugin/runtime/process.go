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

// process is one OS process of a replica, owned by the replica's driver.
type process struct {
	pid     int
	port    int
	exited  chan struct{} // closed once the process is reaped
	waitErr error         // the exit status; read only after exited is closed
}

const (
	termSignal = syscall.SIGTERM
	killSignal = syscall.SIGKILL
)

// signal sends sig to the process's group.
func (p *process) signal(m *Manager, sig syscall.Signal) {
	if err := syscall.Kill(-p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		m.log.Warn("signal process group", "pid", p.pid, "signal", sig, "err", err)
	}
}

// spawn starts one process of the replica on a free loopback port, with its
// output going to the function's logs.
func (m *Manager) spawn(r *replica) (*process, error) {
	fn, s := r.fn, r.spec
	port, err := m.freePort()
	if err != nil {
		m.log.Error("no free loopback port", "replica", r.id, "err", err)
		return nil, err
	}
	tmp := filepath.Join(r.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		m.log.Error("replica tmp dir", "replica", r.id, "err", err)
		return nil, err
	}
	secretsDir, err := m.copySecrets(r, s)
	if err != nil {
		fn.logs.add(r.id, "prescale: cannot prepare the replica's secrets: "+err.Error())
		m.log.Error("replica secrets", "function", fn.name, "replica", r.id, "err", err)
		return nil, err
	}
	u := m.replicaUser(fn)
	if err := own(r.dir, u); err != nil {
		return nil, err
	}
	if u != nil { // the replica's alone: others may not read its TMPDIR or HOME
		if err := os.Chmod(r.dir, 0o700); err != nil {
			return nil, err
		}
	}
	if err := own(tmp, u); err != nil {
		return nil, err
	}
	if u != nil {
		cmdv, err := runAsCommand(s.Command, os.Getenv("PATH"))
		if err != nil {
			fn.logs.add(r.id, "prescale: "+err.Error())
			m.log.Error("replica command", "function", fn.name, "replica", r.id, "err", err)
			return nil, err
		}
		s.Command = cmdv
	}
	argv := s.Command
	if s.Mode == ModeFork {
		argv = m.cfg.WatchdogCommand
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = m.replicaEnv(s, port, tmp, secretsDir, u != nil)
	// Own process group (a kill reaches the children); killed if the plugin dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if u != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.Uid, Gid: u.Gid, NoSetGroups: true}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		m.log.Error("replica output pipe", "replica", r.id, "err", err)
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		fn.logs.add(r.id, fmt.Sprintf("prescale: cannot start %q: %v", strings.Join(argv, " "), err))
		m.log.Error("replica start failed", "function", fn.name, "replica", r.id, "argv", argv, "err", err)
		return nil, err
	}
	pw.Close()
	p := &process{pid: cmd.Process.Pid, port: port, exited: make(chan struct{})}
	m.wg.Add(2)
	go func() { defer m.wg.Done(); fn.logs.readFrom(pr, r.id) }()
	go func() {
		defer m.wg.Done()
		p.waitErr = cmd.Wait()
		// Reap whatever the process left in its group.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		close(p.exited)
		// A descendant that left the group may hold the output pipe open:
		// stop reading it a little later so no goroutine outlives Close.
		// Real time on purpose: this paces I/O cleanup, no test steps it.
		time.AfterFunc(2*time.Second, func() { pr.Close() })
	}()
	return p, nil
}

// freePort is the port a new replica process listens on (Manager.portFn,
// a test seam; loopbackPort by default).
func (m *Manager) freePort() (int, error) {
	if m.portFn != nil {
		return m.portFn()
	}
	return loopbackPort()
}

// loopbackPort binds 127.0.0.1:0 and releases the port for the replica.
func loopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// replicaEnv builds the minimal environment of a replica process.
func (m *Manager) replicaEnv(s Spec, port int, tmp, secretsDir string, otherUser bool) []string {
	env := map[string]string{}
	for _, k := range []string{"PATH", "HOME", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if otherUser {
		env["PATH"] = runAsPath(env["PATH"])
	}
	for k, v := range s.Env {
		env[k] = v
	}
	env["TMPDIR"] = tmp
	if otherUser {
		env["HOME"] = tmp // the platform's HOME is not the replica's
	}
	env["upstream_url"] = "http://127.0.0.1:" + strconv.Itoa(port)
	env["port"] = strconv.Itoa(port)
	env["secret_mount_path"] = secretsDir
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

type probeResult int

const (
	probeOK probeResult = iota
	probeStopped
	probeExited
	probeTimeout
)

// waitHealthy polls the replica until it answers: any HTTP response in http
// mode, 200 from /_/health in fork mode. ReadyTimeout is on the Manager's
// clock; the poll period (ProbeInterval) paces I/O and is real time.
func (m *Manager) waitHealthy(r *replica, p *process) probeResult {
	url := "http://127.0.0.1:" + strconv.Itoa(p.port) + "/_/health"
	deadline := m.clk.NewTimer(m.cfg.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(m.cfg.ProbeInterval)
	defer tick.Stop()
	for {
		if m.probeOnce(r.spec.Mode, url) {
			if ok, _ := ownsListener(p.pid, p.port); !ok {
				// Another process took the port between freePort and the
				// replica's bind (and answers on it): never route there.
				m.log.Warn("another process listens on the replica's port; restarting it on another", "replica", r.id, "port", p.port)
				r.fn.logs.add(r.id, fmt.Sprintf("prescale: port %d is held by another process; restarting on another port", p.port))
				return probeTimeout
			}
			return probeOK
		}
		select {
		case <-r.stopCh:
			return probeStopped
		case <-p.exited:
			return probeExited
		case <-deadline.C():
			return probeTimeout
		case <-tick.C:
		}
	}
}

// probeOnce is one readiness check. Its 1 s bound is an I/O timeout (real time).
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
