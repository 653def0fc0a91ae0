package chart

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/chainauth"
	"github.com/prescale/prescale/pkg/decide"
	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/pkg/source/promsrc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// renderCase is one `helm template` invocation covered by a golden file.
type renderCase struct {
	name string
	args []string
}

var goldenCases = []renderCase{
	{name: "default"},
	{name: "custom", args: []string{"-f", "testdata/custom-values.yaml"}},
	// The Prometheus Operator is present: monitors are rendered with monitoring.enabled=auto.
	{name: "operator", args: []string{"--api-versions", "monitoring.coreos.com/v1"}},
}

func chartDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(testenv.Root(t), "charts", "prescale")
}

// helm runs the real helm and returns stdout; on failure, the error carries stderr.
func helm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	bin := testenv.Helm(t)
	cmd := exec.Command(bin, args...)
	// Keep helm away from the user's config and any cluster.
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func render(t *testing.T, extra ...string) []byte {
	t.Helper()
	args := append([]string{"template", "prescale", chartDir(t), "--namespace", "openfaas"}, extra...)
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLint(t *testing.T) {
	for _, c := range goldenCases {
		if len(c.args) > 0 && c.args[0] == "--api-versions" {
			continue // helm lint has no --api-versions; the template tests cover that branch
		}
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir(t)}, c.args...)
			out, err := helm(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte("0 chart(s) failed")) {
				t.Fatalf("helm lint output lacks success line:\n%s", out)
			}
		})
	}
}

// randomChainKey matches the chain key the chart generates when there is
// none (randAlphaNum 48): golden files hold a placeholder instead.
var randomChainKey = regexp.MustCompile(`(?m)^(  prescale-chain-key: )"[A-Za-z0-9]{48}"$`)

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			got := randomChainKey.ReplaceAll(render(t, c.args...), []byte(`$1"<randAlphaNum 48>"`))
			path := filepath.Join("testdata", c.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/chart -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("helm template output differs from %s (run go test ./internal/chart -update and review the diff):\n%s",
					path, firstDiff(string(want), string(got)))
			}
		})
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n want %q\n got  %q", i+1, wl, gl)
		}
	}
	return "(no line differs)"
}

// Local strict types for the Prometheus Operator CRDs (no operator module in go.mod).
type monitorEndpoint struct {
	Port       string              `json:"port,omitempty"`
	TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`
	Path       string              `json:"path"`
	Interval   string              `json:"interval"`
}

type namespaceSelector struct {
	MatchNames []string `json:"matchNames"`
}

type serviceMonitor struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector namespaceSelector    `json:"namespaceSelector"`
		Endpoints         []monitorEndpoint    `json:"endpoints"`
	} `json:"spec"`
}

type podMonitor struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Selector            metav1.LabelSelector `json:"selector"`
		NamespaceSelector   namespaceSelector    `json:"namespaceSelector"`
		PodMetricsEndpoints []monitorEndpoint    `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

// manifests is a rendered chart decoded strictly, keyed by "Kind/name".
type manifests map[string]any

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeStrict decodes every document of a helm template output into its
// typed object; an unknown kind, an unknown field or a duplicate key fails.
func decodeStrict(t *testing.T, out []byte) manifests {
	t.Helper()
	m := manifests{}
	for i, doc := range docSep.Split(string(out), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var head metav1.TypeMeta
		if err := sigsyaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "apps/v1 StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "monitoring.coreos.com/v1 ServiceMonitor":
			obj = &serviceMonitor{}
		case "monitoring.coreos.com/v1 PodMonitor":
			obj = &podMonitor{}
		default:
			t.Fatalf("document %d: unexpected %s %s (add it to decodeStrict)", i, head.APIVersion, head.Kind)
		}
		if err := sigsyaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("document %d (%s): strict decode: %v\n%s", i, head.Kind, err, doc)
		}
		name := objectName(obj)
		if name == "" {
			t.Fatalf("document %d (%s) has no metadata.name", i, head.Kind)
		}
		key := head.Kind + "/" + name
		if _, dup := m[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		m[key] = obj
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func objectName(obj any) string {
	switch o := obj.(type) {
	case metav1.Object:
		return o.GetName()
	case *serviceMonitor:
		return o.Metadata.Name
	case *podMonitor:
		return o.Metadata.Name
	}
	return ""
}

func (m manifests) keys() []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func get[T any](t *testing.T, m manifests, key string) T {
	t.Helper()
	v, ok := m[key]
	if !ok {
		t.Fatalf("%s not rendered; have %v", key, m.keys())
	}
	o, ok := v.(T)
	if !ok {
		t.Fatalf("%s has type %T", key, v)
	}
	return o
}

func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

func TestStrictDecodeDefault(t *testing.T) {
	m := decodeStrict(t, render(t))
	want := []string{
		"ConfigMap/prescale-dashboard", "ConfigMap/prescale-nats", "Deployment/prescale-cron-connector",
		"Secret/nats-url", "Secret/prescale-chain-key", "Secret/prescale-settings", "Service/prescale-gateway-metrics", "Service/prescale-nats", "StatefulSet/prescale-nats",
	}
	if got := m.keys(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rendered %v, want %v (no monitors without the operator API; no credential Secrets without a readable password)", got, want)
	}

	// The functions' nats-url secret is the chart's NATS service.
	if nu := get[*corev1.Secret](t, m, "Secret/nats-url"); nu.Namespace != "openfaas-fn" || nu.StringData["nats-url"] != "nats://prescale-nats.openfaas.svc:4222" {
		t.Errorf("nats-url secret %s/%q, want openfaas-fn/nats://prescale-nats.openfaas.svc:4222", nu.Namespace, nu.StringData["nats-url"])
	}

	cron := get[*appsv1.Deployment](t, m, "Deployment/prescale-cron-connector")
	c := cron.Spec.Template.Spec.Containers[0]
	wantEnv := map[string]string{
		"gateway_url": "http://gateway.openfaas:8080", "asynchronous_invocation": "false",
		"rebuild_interval": "10s", "rebuild_timeout": "5s", "print_response_body": "false",
		"basic_auth": "true", "secret_mount_path": "/var/secrets",
	}
	if got := envOf(c); fmt.Sprint(got) != fmt.Sprint(wantEnv) {
		t.Errorf("cron connector env = %v, want %v", got, wantEnv)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/var/secrets" {
		t.Errorf("cron connector mounts %+v, want the basic-auth secret at /var/secrets", c.VolumeMounts)
	}
	if v := cron.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].Secret == nil || v[0].Secret.SecretName != "basic-auth" {
		t.Errorf("cron connector volumes %+v, want secret basic-auth", v)
	}
	if !strings.HasPrefix(c.Image, "ghcr.io/openfaas/cron-connector:") {
		t.Errorf("cron connector image %q", c.Image)
	}

	sts := get[*appsv1.StatefulSet](t, m, "StatefulSet/prescale-nats")
	if len(sts.Spec.VolumeClaimTemplates) != 1 {
		t.Errorf("NATS has %d volume claim templates, want 1 (persistence on by default)", len(sts.Spec.VolumeClaimTemplates))
	}
	sel := sts.Spec.Selector.MatchLabels
	tpl := sts.Spec.Template.Labels
	for k, v := range sel {
		if tpl[k] != v {
			t.Errorf("NATS selector %s=%s does not match the pod template labels %v", k, v, tpl)
		}
	}
	svc := get[*corev1.Service](t, m, "Service/prescale-nats")
	if fmt.Sprint(svc.Spec.Selector) != fmt.Sprint(sel) {
		t.Errorf("NATS Service selects %v, StatefulSet pods carry %v", svc.Spec.Selector, sel)
	}
	conf := get[*corev1.ConfigMap](t, m, "ConfigMap/prescale-nats").Data["nats.conf"]
	for _, s := range []string{"jetstream {", "store_dir: /data", "port: 4222", "http_port: 8222"} {
		if !strings.Contains(conf, s) {
			t.Errorf("nats.conf lacks %q:\n%s", s, conf)
		}
	}

	settings := get[*corev1.Secret](t, m, "Secret/prescale-settings")
	if settings.Namespace != "openfaas-fn" {
		t.Errorf("settings Secret in %q, want the function namespace", settings.Namespace)
	}
	lookup := settingsOf(t, m)
	for k, want := range map[string]string{
		"NATS_URL":             "nats://prescale-nats.openfaas.svc:4222",
		"gateway_url":          "http://gateway.openfaas:8080",
		"metrics_url":          "http://prescale-gateway-metrics.openfaas:8082/metrics",
		"source":               "gateway",
		"prometheus_url":       "http://prometheus.openfaas:9090",
		"metrics_label_suffix": ".openfaas-fn",
	} {
		if got := lookup(k); got != want {
			t.Errorf("settings.json %s = %q, want %q", k, got, want)
		}
	}

	dash := get[*corev1.ConfigMap](t, m, "ConfigMap/prescale-dashboard")
	if dash.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard labels %v lack grafana_dashboard=1", dash.Labels)
	}
	var board map[string]any
	if err := json.Unmarshal([]byte(dash.Data["prescale.json"]), &board); err != nil {
		t.Fatalf("dashboard JSON in the ConfigMap does not parse: %v", err)
	}
	if board["title"] == nil || board["panels"] == nil {
		t.Errorf("dashboard JSON lacks title or panels")
	}
	file, err := os.ReadFile(filepath.Join(chartDir(t), "dashboards", "prescale.json"))
	if err != nil {
		t.Fatal(err)
	}
	if dash.Data["prescale.json"] != strings.TrimRight(string(file), "\n") {
		t.Errorf("the dashboard ConfigMap does not carry dashboards/prescale.json verbatim (the file internal/promtest checks)")
	}
}

func TestStrictDecodeCustom(t *testing.T) {
	m := decodeStrict(t, render(t, "-f", "testdata/custom-values.yaml"))
	for _, k := range []string{"Secret/gw-user", "Secret/gw-password", "Service/ps-gateway-metrics", "ServiceMonitor/ps-gateway", "PodMonitor/ps-functions"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s not rendered; have %v", k, m.keys())
		}
	}
	// faas-netes mounts each key of a function's secret as /var/openfaas/secrets/<key>:
	// the key must be the secret's name.
	user := get[*corev1.Secret](t, m, "Secret/gw-user")
	password := get[*corev1.Secret](t, m, "Secret/gw-password")
	if user.Namespace != "fn" || len(user.StringData) != 1 || user.StringData["gw-user"] != "prescale" {
		t.Errorf("user secret = %s/%v", user.Namespace, user.StringData)
	}
	if password.Namespace != "fn" || len(password.StringData) != 1 || password.StringData["gw-password"] != "s3cret" {
		t.Errorf("password secret = %s/%v", password.Namespace, password.StringData)
	}
	cron := get[*appsv1.Deployment](t, m, "Deployment/ps-cron-connector")
	env := envOf(cron.Spec.Template.Spec.Containers[0])
	if env["asynchronous_invocation"] != "true" || env["rebuild_interval"] != "30s" || env["print_response_body"] != "true" {
		t.Errorf("cron connector env %v", env)
	}
	if _, ok := env["basic_auth"]; ok || len(cron.Spec.Template.Spec.Volumes) != 0 {
		t.Errorf("basic auth off, yet cron connector has basic_auth env or volumes")
	}
	sts := get[*appsv1.StatefulSet](t, m, "StatefulSet/ps-nats")
	if len(sts.Spec.VolumeClaimTemplates) != 0 {
		t.Errorf("persistence off, yet %d claim templates", len(sts.Spec.VolumeClaimTemplates))
	}
	var emptyDir bool
	for _, v := range sts.Spec.Template.Spec.Volumes {
		emptyDir = emptyDir || (v.Name == "data" && v.EmptyDir != nil)
	}
	if !emptyDir {
		t.Errorf("persistence off, yet no emptyDir data volume")
	}
	dash := get[*corev1.ConfigMap](t, m, "ConfigMap/ps-dashboard")
	if dash.Namespace != "monitoring" || dash.Labels["grafana_dashboard"] != "yes" || dash.Annotations["grafana_folder"] != "prescale" {
		t.Errorf("dashboard ConfigMap %s labels %v annotations %v", dash.Namespace, dash.Labels, dash.Annotations)
	}
	sm := get[*serviceMonitor](t, m, "ServiceMonitor/ps-gateway")
	if sm.Metadata.Labels["release"] != "prom" || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Interval != "5s" {
		t.Errorf("ServiceMonitor %+v", sm)
	}
	gw := get[*corev1.Service](t, m, "Service/ps-gateway-metrics")
	for k, v := range sm.Spec.Selector.MatchLabels {
		if gw.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, gateway metrics Service labels %v", k, v, gw.Labels)
		}
	}
	if gw.Spec.Selector["app"] != "gateway" || gw.Spec.Ports[0].Port != 8082 {
		t.Errorf("gateway metrics Service %+v", gw.Spec)
	}
	pm := get[*podMonitor](t, m, "PodMonitor/ps-functions")
	if ns := pm.Spec.NamespaceSelector.MatchNames; len(ns) != 1 || ns[0] != "fn" {
		t.Errorf("PodMonitor namespaces %v, want [fn]", ns)
	}
	if e := pm.Spec.PodMetricsEndpoints; len(e) != 1 || e[0].Path != "/custom-metrics" || e[0].TargetPort.IntValue() != 8080 {
		t.Errorf("PodMonitor endpoints %+v", e)
	}
	if ex := pm.Spec.Selector.MatchExpressions; len(ex) != 1 || ex[0].Key != "faas_function" || fmt.Sprint(ex[0].Values) != "[predictor]" {
		t.Errorf("PodMonitor selector %+v", ex)
	}
}

func TestStrictDecodeOperatorPresent(t *testing.T) {
	m := decodeStrict(t, render(t, "--api-versions", "monitoring.coreos.com/v1"))
	sm := get[*serviceMonitor](t, m, "ServiceMonitor/prescale-gateway")
	if sm.Metadata.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack release=kube-prometheus-stack", sm.Metadata.Labels)
	}
	get[*podMonitor](t, m, "PodMonitor/prescale-functions")
	// Forced off even with the API present.
	m = decodeStrict(t, render(t, "--api-versions", "monitoring.coreos.com/v1", "--set", "monitoring.enabled=false"))
	for _, k := range m.keys() {
		if strings.HasPrefix(k, "ServiceMonitor/") || strings.HasPrefix(k, "PodMonitor/") {
			t.Errorf("monitoring.enabled=false, yet %s rendered", k)
		}
	}
}

func TestExistingNATS(t *testing.T) {
	m := decodeStrict(t, render(t, "--set", "nats.create=false", "--set", "nats.url=nats://js.example:4222"))
	for _, k := range m.keys() {
		if strings.HasSuffix(k, "/prescale-nats") {
			t.Errorf("nats.create=false, yet %s rendered", k)
		}
	}
	if got := settingsOf(t, m)("NATS_URL"); got != "nats://js.example:4222" {
		t.Errorf("NATS_URL = %q, want the existing server", got)
	}
}

func TestBadValuesFailWithMessage(t *testing.T) {
	skipSchema := "--skip-schema-validation"
	tests := []struct {
		name string
		args []string
		want string
	}{
		// values.schema.json
		{"monitoring not a switch", []string{"--set", "monitoring.enabled=maybe"}, "/monitoring/enabled"},
		{"unknown source", []string{"--set", "settings.source=kafka"}, "/settings/source"},
		{"tolerance out of range", []string{"--set", "settings.defaults.tolerance=2"}, "'/settings/defaults/tolerance': maximum: got 2, want 0.9"},
		{"misspelt key", []string{"--set", "natss.create=false"}, "additional properties 'natss' not allowed"},
		{"bad duration", []string{"--set", "cronConnector.rebuildInterval=10"}, "/cronConnector/rebuildInterval"},
		{"bad label suffix", []string{"--set", "settings.metricsLabelSuffix=openfaas-fn"}, "/settings/metricsLabelSuffix"},
		// the templates' own checks (also when the schema is skipped)
		{"existing NATS without URL", []string{"--set", "nats.create=false"}, "nats.url is required when nats.create is false"},
		{"ServiceMonitor without its Service", []string{"--set", "monitoring.enabled=true", "--set", "gateway.metricsService=false"}, "monitoring.gateway needs gateway.metricsService=true"},
		{"monitoring not a switch, schema skipped", []string{skipSchema, "--set", "monitoring.enabled=maybe"}, "monitoring.enabled must be auto, true or false"},
		{"unknown source, schema skipped", []string{skipSchema, "--set", "settings.source=kafka"}, "settings.source must be gateway, prometheus or probe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"template", "prescale", chartDir(t), "--namespace", "openfaas"}, tc.args...)
			_, err := helm(t, args...)
			if err == nil {
				t.Fatalf("helm template %v succeeded, want an error", tc.args)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error lacks %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestValuesDocumented: every key in values.yaml carries a comment.
func TestValuesDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir(t), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var undocumented []string
	var walk func(n *yaml.Node, path string, docFirst bool)
	walk = func(n *yaml.Node, path string, docFirst bool) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := strings.TrimPrefix(path+"."+k.Value, ".")
			// Children of a documented free-form map (labels, resources) are examples, not settings.
			if k.HeadComment == "" && k.LineComment == "" && !(i == 0 && docFirst) {
				undocumented = append(undocumented, p)
			}
			if !isFreeForm(p) {
				walk(v, p, false)
			}
		}
	}
	// The file's first key's comment is the document's head comment.
	walk(doc.Content[0], "", doc.HeadComment != "" || doc.Content[0].HeadComment != "")
	if len(undocumented) > 0 {
		t.Fatalf("values without a comment in values.yaml: %v", undocumented)
	}
}

// isFreeForm reports maps whose keys are user data (labels, resources).
func isFreeForm(path string) bool {
	for _, suffix := range []string{"labels", "annotations", "resources", "podLabels"} {
		if strings.HasSuffix(path, suffix) {
			return true
		}
	}
	return false
}

// settingsOf mounts the rendered prescale-settings Secret as OpenFaaS does
// (each key a file under the secrets directory) and returns the lookup the
// functions read their configuration through (fnutil.WithSettingsFile),
// with an empty environment.
func settingsOf(t *testing.T, m manifests) func(string) string {
	t.Helper()
	s := get[*corev1.Secret](t, m, "Secret/prescale-settings")
	if len(s.StringData) != 1 || s.StringData[fnutil.SettingsFileName] == "" {
		t.Fatalf("prescale-settings keys %v, want only %s (each key is a file in the function's secrets directory)", slices.Sorted(maps.Keys(s.StringData)), fnutil.SettingsFileName)
	}
	files := map[string][]byte{}
	for k, v := range s.StringData {
		files[k] = []byte(v)
	}
	return secretSettings(t, files)
}

// secretSettings is the settings lookup a function builds from a Secret's
// keys mounted as files (faas-netes mounts each key as a file in
// /var/openfaas/secrets), read by fnutil.WithSettingsFile.
func secretSettings(t *testing.T, files map[string][]byte) func(string) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range files {
		if err := os.WriteFile(filepath.Join(dir, k), v, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{fnutil.EnvSecrets: dir}
	lookup, err := fnutil.WithSettingsFile(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return lookup
}

// settingsKeys are the keys the chart writes, each one a variable that
// load-probe, predictor or scaler reads (functions/*/config.go).
var settingsKeys = []string{
	"NATS_URL", "function_defaults", "gateway_url", "metrics_label_suffix", "metrics_url",
	"prometheus_url", "prometheus_window", "source",
}

// TestDefaultsMatchGo: the settings the functions read from the chart's
// Secret are prescale's Go defaults.
func TestDefaultsMatchGo(t *testing.T) {
	m := decodeStrict(t, render(t))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(get[*corev1.Secret](t, m, "Secret/prescale-settings").StringData[fnutil.SettingsFileName]), &raw); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(raw)); !slices.Equal(got, settingsKeys) {
		t.Errorf("settings.json keys %v, want %v", got, settingsKeys)
	}
	lookup := settingsOf(t, m)
	got := functionDefaults(t, lookup)
	if want := decide.DefaultSettings(); !reflect.DeepEqual(got, want) {
		t.Errorf("chart defaults %+v\nGo defaults    %+v", got, want)
	}
	// Every field of decide.Settings (and its Capacity) is in the JSON, so a new Go
	// setting with a default cannot be missed by the chart.
	var fields map[string]any
	if err := json.Unmarshal([]byte(lookup("function_defaults")), &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range jsonFields(reflect.TypeOf(decide.Settings{})) {
		if _, ok := fields[f]; !ok {
			t.Errorf("function_defaults lacks decide.Settings field %q", f)
		}
	}
	capacity, _ := fields["capacity"].(map[string]any)
	for _, f := range jsonFields(reflect.TypeOf(decide.Capacity{})) {
		if _, ok := capacity[f]; !ok {
			t.Errorf("function_defaults capacity lacks decide.Capacity field %q", f)
		}
	}

	window, err := faas.ParseDuration("prometheus_window", lookup("prometheus_window"))
	if err != nil || window != promsrc.DefaultWindow {
		t.Errorf("prometheus_window %q (%v), want promsrc.DefaultWindow %s", lookup("prometheus_window"), err, promsrc.DefaultWindow)
	}
	// Custom values flow through to the same settings.
	m = decodeStrict(t, render(t, "-f", "testdata/custom-values.yaml"))
	lookup = settingsOf(t, m)
	custom := functionDefaults(t, lookup)
	want := decide.DefaultSettings()
	want.Max, want.Tolerance, want.Stabilization, want.ForecastOnly = 4, 0.2, 2*time.Minute, true
	if !reflect.DeepEqual(custom, want) {
		t.Errorf("custom settings %+v, want %+v", custom, want)
	}
	if err := custom.Validate(); err != nil {
		t.Errorf("custom settings invalid: %v", err)
	}
	if lookup("source") != "prometheus" || lookup("prometheus_window") != "30s" || lookup("metrics_label_suffix") != ".fn" || lookup("metrics_url") == "" {
		t.Errorf("custom source %q window %q suffix %q metrics_url %q", lookup("source"), lookup("prometheus_window"), lookup("metrics_label_suffix"), lookup("metrics_url"))
	}
}

// functionDefaults decodes function_defaults strictly, as the functions do,
// over decide.DefaultSettings.
func functionDefaults(t *testing.T, lookup func(string) string) decide.Settings {
	t.Helper()
	got := decide.DefaultSettings()
	v := fnutil.NewVars(lookup)
	v.JSON("function_defaults", &got)
	if err := v.Err(); err != nil {
		t.Fatalf("function_defaults does not decode strictly into decide.Settings: %v\n%s", err, lookup("function_defaults"))
	}
	return got
}

func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// The chain key: the Secret prescale-chain-key in the function namespace,
// with one key named like the Secret (faas-netes mounts it as
// /var/openfaas/secrets/prescale-chain-key, what stack.yml's functions
// list), random when not given (a fresh key per render: helm template sees
// no existing Secret to keep), the given value (a rotated two-line one
// too) when set, none with chainKey.create=false. Keeping an existing key
// on upgrade (lookup) needs a cluster and is not covered here.
func TestChainKey(t *testing.T) {
	key := func(t *testing.T, args ...string) string {
		t.Helper()
		m := decodeStrict(t, render(t, args...))
		s := get[*corev1.Secret](t, m, "Secret/"+chainauth.SecretName)
		if len(s.StringData) != 1 || s.Annotations["helm.sh/resource-policy"] != "keep" {
			t.Fatalf("chain key Secret %s/%v %v", s.Namespace, slices.Sorted(maps.Keys(s.StringData)), s.Annotations)
		}
		v, ok := s.StringData[chainauth.SecretName]
		if !ok {
			t.Fatalf("chain key Secret keys %v, want %s", slices.Sorted(maps.Keys(s.StringData)), chainauth.SecretName)
		}
		if _, err := chainauth.ParseKeys(v); err != nil {
			t.Fatalf("rendered chain key: %v", err)
		}
		return v
	}
	a, b := key(t), key(t)
	if len(a) != 48 || a == b {
		t.Fatalf("generated keys %q, %q: want 48 random characters each time", a, b)
	}
	if m := decodeStrict(t, render(t)); get[*corev1.Secret](t, m, "Secret/"+chainauth.SecretName).Namespace != "openfaas-fn" {
		t.Fatal("chain key not in the function namespace")
	}
	const given = "new-chain-key-0123456789abcdef\nold-chain-key-0123456789abcdef"
	if got := key(t, "--set", "chainKey.value="+given); got != strings.ReplaceAll(given, `\n`, "\n") {
		t.Fatalf("given key rendered as %q", got)
	}
	m := decodeStrict(t, render(t, "--set", "chainKey.create=false"))
	if slices.Contains(m.keys(), "Secret/"+chainauth.SecretName) {
		t.Fatal("chainKey.create=false rendered the Secret")
	}
}
