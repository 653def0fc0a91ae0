package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/prescale/prescale/internal/clustertest"
	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/decide"
)

// TestCluster installs the chart on a real control plane
// (internal/clustertest: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok as the node) with the real helm: every object is
// validated by the API server, the workloads roll out (kwok marks their
// pods Ready), and what the functions read is what the API server holds.
// The subtests share one control plane; each installs into namespaces of
// its own.
func TestCluster(t *testing.T) {
	c := clustertest.Start(t, clustertest.Tools(t))
	t.Logf("control plane: kube-apiserver %s, %s, %s; %s", c.Versions["kube-apiserver"], c.Versions["etcd"], c.Versions["kwok"], helmVersion(t))
	ctx := context.Background()
	// One default StorageClass for NATS's claims (no provisioner: the
	// subtests create the PersistentVolumes, which the PV controller binds).
	mustCreate(t, c, "/apis/storage.k8s.io/v1/storageclasses", map[string]any{
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		"metadata":          map[string]any{"name": "standard", "annotations": map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		"provisioner":       "kubernetes.io/no-provisioner",
		"volumeBindingMode": "Immediate",
	})

	t.Run("install defaults, upgrade, uninstall", func(t *testing.T) {
		k := newRelease(t, c, "prescale", "openfaas", "openfaas-fn")
		k.helm(t, "install", k.name, chartDir(t), "--namespace", k.ns)
		for _, w := range [][2]string{{"statefulsets", k.fullname + "-nats"}, {"deployments", k.fullname + "-cron-connector"}} {
			if err := c.WaitAvailable(ctx, "apps/v1", k.ns, w[0], w[1]); err != nil {
				t.Fatalf("rollout of %s: %v", w[1], err)
			}
		}
		k.checkManifestServed(t)

		// The gateway's basic-auth, copied into the function namespace
		// for the scaler (faas-netes mounts each as a secret file).
		gw := k.secret(t, k.ns, "basic-auth")
		for name, key := range map[string]string{"basic-auth-user": "basic-auth-user", "basic-auth-password": "basic-auth-password"} {
			if got := k.secret(t, k.fnNS, name)[name]; string(got) != string(gw[key]) {
				t.Errorf("%s/%s = %q, want the gateway's %s %q", k.fnNS, name, got, key, gw[key])
			}
		}
		// What the functions read: the settings Secret, as the API server
		// holds it, decodes into decide's Go defaults.
		lookup := k.settings(t)
		if got, want := functionDefaults(t, lookup), decide.DefaultSettings(); !reflect.DeepEqual(got, want) {
			t.Errorf("settings from the API server %+v\nGo defaults %+v", got, want)
		}
		if got := lookup("NATS_URL"); got != fmt.Sprintf("nats://%s-nats.%s.svc:4222", k.fullname, k.ns) {
			t.Errorf("NATS_URL %q does not name the installed NATS Service", got)
		}
		key := string(k.secret(t, k.fnNS, "prescale-chain-key")["prescale-chain-key"])
		if len(key) != 48 {
			t.Errorf("chain key of %d characters, want 48 random ones", len(key))
		}
		// No Prometheus Operator: no monitors (monitoring.enabled=auto).
		if m := k.manifest(t); strings.Contains(m, "kind: ServiceMonitor") || strings.Contains(m, "kind: PodMonitor") {
			t.Errorf("monitors rendered without the monitoring.coreos.com API")
		}

		// Upgrade: a setting changes, the chain key stays (helm lookup).
		k.helm(t, "upgrade", k.name, chartDir(t), "--namespace", k.ns, "--reuse-values",
			"--set", "settings.defaults.max=7", "--set", "settings.prometheusWindow=2m")
		want := decide.DefaultSettings()
		want.Max = 7
		lookup = k.settings(t)
		if got := functionDefaults(t, lookup); !reflect.DeepEqual(got, want) {
			t.Errorf("after upgrade: %+v\nwant %+v", got, want)
		}
		if got := lookup("prometheus_window"); got != "2m" {
			t.Errorf("after upgrade: prometheus_window %q, want 2m", got)
		}
		if got := string(k.secret(t, k.fnNS, "prescale-chain-key")["prescale-chain-key"]); got != key {
			t.Errorf("upgrade changed the chain key: the running functions' signatures would fail")
		}
		for _, w := range [][2]string{{"statefulsets", k.fullname + "-nats"}, {"deployments", k.fullname + "-cron-connector"}} {
			if err := c.WaitAvailable(ctx, "apps/v1", k.ns, w[0], w[1]); err != nil {
				t.Fatalf("rollout of %s after the upgrade: %v", w[1], err)
			}
		}

		// Uninstall: nothing of the release is left but the chain key
		// (helm.sh/resource-policy: keep, so a reinstall keeps signing
		// with the key the deployed functions hold).
		k.helm(t, "uninstall", k.name, "--namespace", k.ns)
		k.waitGone(t, []string{"Secret " + k.fnNS + "/prescale-chain-key"})
	})

	t.Run("custom values, existing NATS, Prometheus Operator present", func(t *testing.T) {
		for _, crd := range []string{"servicemonitors", "podmonitors"} {
			k := &release{c: c}
			k.applyCRD(t, testenv.Tool(t, "crds/"+crd+".yaml", "PRESCALE_CRD_"+strings.ToUpper(crd), "run `make cluster-tools`"))
		}
		k := newRelease(t, c, "ps", "faas", "fn")
		mustCreate(t, c, "/api/v1/namespaces", map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]string{"name": "monitoring"}}) // custom-values.yaml's dashboard.namespace
		k.helm(t, "install", k.name, chartDir(t), "--namespace", k.ns,
			"-f", "testdata/custom-values.yaml", "--set", "nats.create=false", "--set", "nats.url=nats://js.example:4222")
		k.checkManifestServed(t)
		m := k.manifest(t)
		for _, want := range []string{"kind: ServiceMonitor", "kind: PodMonitor", "kind: Deployment"} {
			if !strings.Contains(m, want) {
				t.Errorf("manifest lacks %s", want)
			}
		}
		if strings.Contains(m, "kind: StatefulSet") {
			t.Errorf("nats.create=false, yet a NATS StatefulSet was installed")
		}
		if err := c.WaitAvailable(ctx, "apps/v1", k.ns, "deployments", k.fullname+"-cron-connector"); err != nil {
			t.Fatal(err)
		}
		lookup := k.settings(t)
		if got := lookup("NATS_URL"); got != "nats://js.example:4222" {
			t.Errorf("NATS_URL %q, want the existing server", got)
		}
		want := decide.DefaultSettings()
		want.Max, want.Tolerance, want.Stabilization, want.ForecastOnly = 4, 0.2, 2*time.Minute, true
		if got := functionDefaults(t, lookup); !reflect.DeepEqual(got, want) {
			t.Errorf("custom settings from the API server %+v, want %+v", got, want)
		}
		// The given credentials, not the gateway's.
		if got := string(k.secret(t, k.fnNS, "gw-password")["gw-password"]); got != "s3cret" {
			t.Errorf("gw-password %q, want the custom value", got)
		}
		k.helm(t, "uninstall", k.name, "--namespace", k.ns)
		k.waitGone(t, []string{"Secret " + k.fnNS + "/prescale-chain-key"})
	})

	// A value that client-side checks accept (values.schema.json allows any
	// string as a pod label value; strict decoding into the API types
	// accepts any string) but the API server refuses: a label value with a
	// space, in the gateway metrics Service's selector.
	t.Run("server-side validation refuses what the client accepts", func(t *testing.T) {
		bad := []string{"--set", "gateway.podLabels.app=not a label"}
		decodeStrict(t, render(t, bad...)) // accepted client-side
		k := newRelease(t, c, "prescale", "bad", "bad-fn")
		out, err := k.helmErr(t, append([]string{"install", k.name, chartDir(t), "--namespace", k.ns, "--set", "functionNamespace=" + k.fnNS}, bad...)...)
		if err == nil {
			t.Fatalf("helm install with an invalid label value succeeded:\n%s", out)
		}
		if !strings.Contains(err.Error(), "Invalid value") || !strings.Contains(err.Error(), "not a label") {
			t.Fatalf("helm install failed, but not with the API server's validation error:\n%v", err)
		}
	})
}

func helmVersion(t *testing.T) string {
	out, err := helm(t, "version", "--short")
	if err != nil {
		t.Fatal(err)
	}
	return "helm " + strings.TrimSpace(string(out))
}

func mustCreate(t *testing.T, c *clustertest.Cluster, path string, obj any) {
	t.Helper()
	if err := c.Create(context.Background(), path, obj); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

// release is one helm release on the test control plane, with what the
// openfaas chart would have created before it: the namespaces, the
// gateway's basic-auth Secret, and a PersistentVolume for NATS's claim.
type release struct {
	c                    *clustertest.Cluster
	name, ns, fnNS       string
	fullname, helmHome   string
	basicUser, basicPass string
}

func newRelease(t *testing.T, c *clustertest.Cluster, name, ns, fnNS string) *release {
	t.Helper()
	k := &release{c: c, name: name, ns: ns, fnNS: fnNS, helmHome: t.TempDir(), fullname: name}
	if !strings.Contains(name, "prescale") {
		k.fullname = name + "-prescale"
	}
	if name == "ps" { // custom-values.yaml's fullnameOverride
		k.fullname = "ps"
	}
	for _, n := range []string{ns, fnNS} {
		mustCreate(t, c, "/api/v1/namespaces", map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]string{"name": n}})
	}
	mustCreate(t, c, "/api/v1/namespaces/"+ns+"/secrets", map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]string{"name": "basic-auth"},
		"stringData": map[string]string{"basic-auth-user": "admin", "basic-auth-password": "pw-" + ns},
	})
	mustCreate(t, c, "/api/v1/persistentvolumes", map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume", "metadata": map[string]string{"name": "pv-" + ns},
		"spec": map[string]any{
			"capacity": map[string]string{"storage": "10Gi"}, "accessModes": []string{"ReadWriteOnce"},
			"storageClassName": "standard", "persistentVolumeReclaimPolicy": "Retain",
			"hostPath": map[string]string{"path": filepath.Join(c.Dir, "pv-"+ns)},
		},
	})
	return k
}

func (k *release) helmErr(t *testing.T, args ...string) ([]byte, error) {
	cmd := exec.Command(testenv.Helm(t), args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(k.helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(k.helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(k.helmHome, "data"),
		"KUBECONFIG="+k.c.Kubeconfig,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func (k *release) helm(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := k.helmErr(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, k.c.Logs(10))
	}
	return out
}

func (k *release) manifest(t *testing.T) string {
	return string(k.helm(t, "get", "manifest", k.name, "--namespace", k.ns))
}

// checkManifestServed: every object of the release's manifest is on the
// API server (helm created each through it, so each passed the server's
// validation and admission).
func (k *release) checkManifestServed(t *testing.T) {
	t.Helper()
	for _, doc := range docSep.Split(k.manifest(t), -1) {
		var o struct {
			APIVersion, Kind string
			Metadata         struct{ Name, Namespace string }
		}
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		if err := sigsyaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("manifest document: %v\n%s", err, doc)
		}
		ns := o.Metadata.Namespace
		if ns == "" {
			ns = k.ns
		}
		path := apiPath(o.APIVersion, ns, resourceOf(o.Kind), o.Metadata.Name)
		var got map[string]any
		if err := k.c.Read(context.Background(), path, &got); err != nil {
			t.Errorf("%s %s/%s of the manifest: %v", o.Kind, ns, o.Metadata.Name, err)
		}
	}
}

func resourceOf(kind string) string { return strings.ToLower(kind) + "s" }

func apiPath(apiVersion, ns, resource, name string) string {
	base := "/apis/" + apiVersion
	if apiVersion == "v1" {
		base = "/api/v1"
	}
	p := base + "/namespaces/" + ns + "/" + resource
	if name != "" {
		p += "/" + name
	}
	return p
}

func (k *release) secret(t *testing.T, ns, name string) map[string][]byte {
	t.Helper()
	var s struct{ Data map[string][]byte }
	if err := k.c.Read(context.Background(), "/api/v1/namespaces/"+ns+"/secrets/"+name, &s); err != nil {
		t.Fatalf("secret %s/%s: %v", ns, name, err)
	}
	return s.Data
}

// settings is the settings lookup the functions build from the Secret the
// API server holds, mounted as files the way faas-netes mounts secrets.
func (k *release) settings(t *testing.T) func(string) string {
	t.Helper()
	return secretSettings(t, k.secret(t, k.fnNS, "prescale-settings"))
}

// leftover is one object still there with the release's labels.
type leftover struct {
	name string
	// settling: being deleted, or owned by another object (its garbage
	// collection follows its owner's deletion).
	settling bool
}

// released lists what is left with the release's instance label, and the
// helm release records, in both namespaces.
func (k *release) released(ctx context.Context) ([]leftover, error) {
	var left []leftover
	kinds := []struct{ api, resource, kind string }{
		{"v1", "secrets", "Secret"}, {"v1", "configmaps", "ConfigMap"}, {"v1", "services", "Service"},
		{"v1", "pods", "Pod"}, {"v1", "persistentvolumeclaims", "PersistentVolumeClaim"},
		{"apps/v1", "statefulsets", "StatefulSet"}, {"apps/v1", "deployments", "Deployment"}, {"apps/v1", "replicasets", "ReplicaSet"},
		{"monitoring.coreos.com/v1", "servicemonitors", "ServiceMonitor"}, {"monitoring.coreos.com/v1", "podmonitors", "PodMonitor"},
	}
	seen := map[string]bool{}
	for _, ns := range []string{k.ns, k.fnNS} {
		for _, kd := range kinds {
			for _, sel := range []string{"app.kubernetes.io/instance=" + k.name, "owner=helm,name=" + k.name} {
				var list struct {
					Items []struct {
						Metadata struct {
							Name              string
							DeletionTimestamp *string
							OwnerReferences   []any
						}
					}
				}
				err := k.c.Get(ctx, apiPath(kd.api, ns, kd.resource, "")+"?labelSelector="+sel, &list)
				if clustertest.IsNotFound(err) { // the CRD is not installed
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("list %s in %s: %w", kd.resource, ns, err)
				}
				for _, it := range list.Items {
					name := kd.kind + " " + ns + "/" + it.Metadata.Name
					if !seen[name] {
						seen[name] = true
						left = append(left, leftover{name: name, settling: it.Metadata.DeletionTimestamp != nil || len(it.Metadata.OwnerReferences) > 0})
					}
				}
			}
		}
	}
	slices.SortFunc(left, func(a, b leftover) int { return strings.Compare(a.name, b.name) })
	return left, nil
}

// waitGone checks that exactly keep is left of the release once the
// deletions have settled: helm deletes its objects; what their controllers
// made (ReplicaSets, pods, the StatefulSet's claim) follows through the
// garbage collector, so it waits while anything left is being deleted or
// still has an owner. (No helm --wait or --timeout anywhere: the test
// waits on the objects' state, with no deadline of its own.)
func (k *release) waitGone(t *testing.T, keep []string) {
	t.Helper()
	slices.Sort(keep)
	var left []leftover
	err := k.c.Poll(context.Background(), func(ctx context.Context) (bool, error) {
		var err error
		left, err = k.released(ctx)
		return err == nil && !slices.ContainsFunc(left, func(l leftover) bool { return l.settling }), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range left {
		names = append(names, l.name)
	}
	if !slices.Equal(names, keep) {
		t.Errorf("after helm uninstall, left of the release: %v; want only %v", names, keep)
	}
}

// applyCRD creates the CustomResourceDefinitions in file and waits until
// they are Established.
func (k *release) applyCRD(t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docSep.Split(string(raw), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var crd map[string]any
		if err := sigsyaml.Unmarshal([]byte(doc), &crd); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		js, _ := json.Marshal(crd)
		mustCreate(t, k.c, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", js)
		name := crd["metadata"].(map[string]any)["name"].(string)
		err := k.c.Poll(context.Background(), func(ctx context.Context) (bool, error) {
			var got struct {
				Status struct {
					Conditions []struct{ Type, Status string }
				}
			}
			if err := k.c.Get(ctx, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &got); err != nil {
				return false, err
			}
			return slices.ContainsFunc(got.Status.Conditions, func(c struct{ Type, Status string }) bool { return c.Type == "Established" && c.Status == "True" }), nil
		})
		if err != nil {
			t.Fatalf("CRD %s: %v", name, err)
		}
	}
}
