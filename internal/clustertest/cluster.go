package clustertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
)

const (
	// serviceIP is the first address of the service range: the
	// "kubernetes" Service's ClusterIP, in the serving certificate.
	serviceIP    = "10.96.0.1"
	serviceRange = "10.96.0.0/16"
	// NodeName is the one fake node kwok keeps Ready; the scheduler binds
	// every pod to it.
	NodeName = "kwok-node-0"
	// portAttempts bounds the restarts after a port taken between choosing
	// it and the server binding it.
	portAttempts = 3
)

// Cluster is a running test control plane.
type Cluster struct {
	// Server is the API server's https URL, Kubeconfig a file with its CA
	// and the admin token, Dir the working directory (logs, data, keys).
	Server, Kubeconfig, Dir string
	// Versions of the components, as they report them.
	Versions map[string]string

	token  string
	client *http.Client
	procs  []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error
}

// Binaries are the paths of the control plane's programs.
type Binaries struct {
	Etcd, APIServer, ControllerManager, Scheduler, Kwok string
	// KwokStages is kwok's configuration: its "fast" node and pod stages.
	KwokStages string
}

// Tools finds the binaries `make cluster-tools` builds into bin/ (or
// $PRESCALE_<NAME>); missing ones skip the test, or fail it under
// PRESCALE_REQUIRE_TOOLS=1.
func Tools(t testing.TB) Binaries {
	t.Helper()
	how := "run `make cluster-tools`"
	return Binaries{
		Etcd:              testenv.Tool(t, "etcd", "PRESCALE_ETCD", how),
		APIServer:         testenv.Tool(t, "kube-apiserver", "PRESCALE_KUBE_APISERVER", how),
		ControllerManager: testenv.Tool(t, "kube-controller-manager", "PRESCALE_KUBE_CONTROLLER_MANAGER", how),
		Scheduler:         testenv.Tool(t, "kube-scheduler", "PRESCALE_KUBE_SCHEDULER", how),
		Kwok:              testenv.Tool(t, "kwok", "PRESCALE_KWOK", how),
		KwokStages:        testenv.Tool(t, "kwok-stages.yaml", "PRESCALE_KWOK_STAGES", how),
	}
}

// Start runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok on loopback, creates the fake node and returns once the API
// server is ready and the node is Ready. Everything stops at the test's
// cleanup. It waits on the components' readiness, never on a deadline of
// its own: a component that exits fails the test with its log.
func Start(t testing.TB, bins Binaries) *Cluster {
	t.Helper()
	for attempt := 1; ; attempt++ {
		c, err := start(t, bins)
		if err == nil {
			return c
		}
		if !errors.Is(err, errPortTaken) || attempt == portAttempts {
			t.Fatalf("test control plane: %v", err)
		}
		t.Logf("test control plane: %v; retrying with other ports", err)
	}
}

var errPortTaken = errors.New("a port was taken before the server bound it")

func start(t testing.TB, bins Binaries) (c *Cluster, err error) {
	dir := t.TempDir()
	p, err := writePKI(dir)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	c = &Cluster{Dir: dir, Server: fmt.Sprintf("https://127.0.0.1:%d", ports[2]), token: p.Token, Versions: map[string]string{}}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	t.Cleanup(c.stop)
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(p.CA)
	if err != nil {
		return c, err
	}
	pool.AppendCertsFromPEM(caPEM)
	c.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig(c.Server, p.CA, p.Token), 0o600); err != nil {
		return c, err
	}

	// A name of this start only: another package's etcd may come to hold
	// the port freePorts released, and the health of the one that answers
	// is not enough (see etcdIs).
	etcdName := fmt.Sprintf("test-%d-%d", os.Getpid(), ports[0])
	etcd, err := c.run("etcd", bins.Etcd,
		"--name", etcdName, "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		"--initial-cluster", fmt.Sprintf("%s=http://127.0.0.1:%d", etcdName, ports[1]),
		"--unsafe-no-fsync", "--log-level", "warn")
	if err != nil {
		return c, err
	}
	if err := c.waitReady(etcd, func() bool { return c.plainOK(etcdURL+"/health") && c.etcdIs(etcdURL, etcdName) }); err != nil {
		return c, err
	}
	api, err := c.run("kube-apiserver", bins.APIServer,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", fmt.Sprint(ports[2]),
		"--tls-cert-file", p.ServingCert, "--tls-private-key-file", p.ServingKey, "--client-ca-file", p.CA,
		"--token-auth-file", p.Tokens, "--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", p.SAPub, "--service-account-signing-key-file", p.SAKey,
		// No endpoints for the "kubernetes" Service: its address would be
		// loopback, which Endpoints refuse; nothing in the tests uses it.
		"--endpoint-reconciler-type", "none",
		"--service-cluster-ip-range", serviceRange, "--allow-privileged", "--profiling=false",
		"--cert-dir", filepath.Join(dir, "apiserver-certs"))
	if err != nil {
		return c, err
	}
	if err := c.waitReady(api, func() bool {
		_, code, err := c.Do(context.Background(), "GET", "/readyz", nil)
		return err == nil && code == 200
	}); err != nil {
		return c, err
	}
	if _, err := c.run("kube-controller-manager", bins.ControllerManager,
		"--kubeconfig", c.Kubeconfig, "--leader-elect=false", "--secure-port", "0",
		"--service-account-private-key-file", p.SAKey, "--root-ca-file", p.CA,
		"--use-service-account-credentials=false", "--controllers", "*,-nodeipam,-cloud-node-lifecycle"); err != nil {
		return c, err
	}
	if _, err := c.run("kube-scheduler", bins.Scheduler, "--kubeconfig", c.Kubeconfig, "--leader-elect=false", "--secure-port", "0"); err != nil {
		return c, err
	}
	if _, err := c.run("kwok", bins.Kwok, "--kubeconfig", c.Kubeconfig, "--config", bins.KwokStages, "--manage-single-node", NodeName,
		"--cidr", "10.244.0.0/16", "--node-ip", "127.0.0.1"); err != nil {
		return c, err
	}
	if err := c.createNode(); err != nil {
		return c, err
	}
	if err := c.versions(bins); err != nil {
		return c, err
	}
	return c, nil
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func kubeconfig(server, caFile, token string) []byte {
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, server, caFile, token))
}

// run starts one component, its output in <dir>/<name>.log.
func (c *Cluster) run(name, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(c.Dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = c.Dir
	// The component dies with the test binary, even on a crash.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	c.procs = append(c.procs, p)
	return p, nil
}

// waitReady polls ready until it holds; if the process exits first, the
// error carries the end of its log (errPortTaken when a port was taken).
func (c *Cluster) waitReady(p *proc, ready func() bool) error {
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		if ready() {
			return nil
		}
		select {
		case <-p.done:
			tail := logTail(p.log, 40)
			if strings.Contains(tail, "address already in use") {
				return fmt.Errorf("%s: %w", p.name, errPortTaken)
			}
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", p.name, p.err, tail)
		case <-time.After(delay):
		}
	}
}

// Exited reports a component that is no longer running, with its log.
func (c *Cluster) Exited() error {
	for _, p := range c.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v):\n%s", p.name, p.err, logTail(p.log, 40))
		default:
		}
	}
	return nil
}

func logTail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func (c *Cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second): // a component that ignores SIGTERM
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	c.procs = nil
}

func (c *Cluster) plainOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == 200
}

// etcdIs reports whether the etcd answering at url is the one named name
// (its member list, through etcd's JSON gateway): the apiserver must not
// be pointed at another test's etcd that took the port first.
func (c *Cluster) etcdIs(url, name string) bool {
	resp, err := http.Post(url+"/v3/cluster/member/list", "application/json", strings.NewReader("{}"))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var list struct {
		Members []struct{ Name string }
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil {
		return false
	}
	return len(list.Members) == 1 && list.Members[0].Name == name
}

// Do sends one request to the API server as the admin; body, if not nil,
// is JSON-encoded unless it is already []byte.
func (c *Cluster) Do(ctx context.Context, method, path string, body any) ([]byte, int, error) {
	var r io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return nil, 0, err
		}
		r = bytes.NewReader(js)
	}
	if method == http.MethodPatch {
		ctype = "application/merge-patch+json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Server+path, r)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return out, resp.StatusCode, err
}

// Get decodes the object at path into v; a status other than 200 is an
// error with the server's message.
func (c *Cluster) Get(ctx context.Context, path string, v any) error {
	b, code, err := c.Do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return &StatusError{Code: code, Body: string(b)}
	}
	return json.Unmarshal(b, v)
}

// Read is Get tried again while its error is Transient (see Poll).
func (c *Cluster) Read(ctx context.Context, path string, v any) error {
	return c.Poll(ctx, func(ctx context.Context) (bool, error) { return true, c.Get(ctx, path, v) })
}

// Create posts obj to path and fails on anything but 201. A Transient
// failure is tried again; a 409 on a retry means the earlier try created it.
func (c *Cluster) Create(ctx context.Context, path string, obj any) error {
	retried := false
	return c.Poll(ctx, func(ctx context.Context) (bool, error) {
		b, code, err := c.Do(ctx, http.MethodPost, path, obj)
		switch {
		case err != nil:
		case code == http.StatusCreated, code == http.StatusConflict && retried:
			return true, nil
		default:
			err = &StatusError{Code: code, Body: string(b)}
		}
		retried = true
		return false, err
	})
}

// StatusError is an API answer other than the one wanted.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("API server answered %d: %s", e.Code, e.Body)
}

// IsNotFound reports a 404 from the API server.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// createNode registers the fake node kwok manages; kwok then keeps it
// Ready. It returns once the node reports Ready.
func (c *Cluster) createNode() error {
	node := map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{
			"name":        NodeName,
			"annotations": map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			"labels":      map[string]string{"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"},
		},
		"status": map[string]any{
			"allocatable": map[string]string{"cpu": "32", "memory": "256Gi", "pods": "110"},
			"capacity":    map[string]string{"cpu": "32", "memory": "256Gi", "pods": "110"},
		},
	}
	if err := c.Create(context.Background(), "/api/v1/nodes", node); err != nil {
		return fmt.Errorf("create node: %w", err)
	}
	kw := c.procs[len(c.procs)-1]
	return c.waitReady(kw, func() bool {
		var n struct {
			Status struct {
				Conditions []struct{ Type, Status string }
			}
		}
		if c.Get(context.Background(), "/api/v1/nodes/"+NodeName, &n) != nil {
			return false
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == "Ready" && cond.Status == "True" {
				return true
			}
		}
		return false
	})
}

func (c *Cluster) versions(bins Binaries) error {
	var v struct{ GitVersion string }
	if err := c.Get(context.Background(), "/version", &v); err != nil {
		return fmt.Errorf("version: %w", err)
	}
	c.Versions["kube-apiserver"] = v.GitVersion
	for name, bin := range map[string]string{"etcd": bins.Etcd, "kwok": bins.Kwok} {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s --version: %w", name, err)
		}
		c.Versions[name] = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	return nil
}

// Transient reports an error worth another try: no answer (refused,
// reset, timed out) or an answer of 429 or 5xx, which an API server under
// load or starting its controllers gives for a while.
func Transient(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests || se.Code >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// Poll calls check until it reports done, returns an error that is not
// Transient, a component exits or ctx ends; between tries it waits 20 ms,
// doubling up to 1 s. It is how the tests wait on the cluster's state:
// on the state itself, with no deadline but ctx's.
func (c *Cluster) Poll(ctx context.Context, check func(context.Context) (bool, error)) error {
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		done, err := check(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
		if err != nil && !Transient(err) {
			return err
		}
		if done && err == nil {
			return nil
		}
		if err := c.Exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// WaitAvailable waits until the Deployment or StatefulSet has all its
// replicas ready and updated (what `kubectl rollout status` waits for), or
// a component exits.
func (c *Cluster) WaitAvailable(ctx context.Context, apiVersion, ns, resource, name string) error {
	path := fmt.Sprintf("/apis/%s/namespaces/%s/%s/%s", apiVersion, ns, resource, name)
	var last any
	err := c.Poll(ctx, func(ctx context.Context) (bool, error) {
		var o struct {
			Metadata struct{ Generation int64 }
			Spec     struct{ Replicas *int32 }
			Status   struct {
				ObservedGeneration                       int64
				Replicas, ReadyReplicas, UpdatedReplicas int32
				AvailableReplicas                        int32
			}
		}
		if err := c.Get(ctx, path, &o); err != nil {
			if IsNotFound(err) {
				return false, nil
			}
			return false, err
		}
		want := int32(1)
		if o.Spec.Replicas != nil {
			want = *o.Spec.Replicas
		}
		s := o.Status
		last = s
		return o.Metadata.Generation > 0 && s.ObservedGeneration >= o.Metadata.Generation &&
			s.ReadyReplicas == want && s.UpdatedReplicas == want && s.Replicas == want, nil
	})
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w (status %+v)", resource, ns, name, err, last)
	}
	return nil
}

// Logs is the end of every component's log, for a failing test's report.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "=== %s (%s)\n%s\n", p.name, p.log, logTail(p.log, lines))
	}
	return b.String()
}
