package clustertest

import (
	"context"
	"testing"
)

// The control plane runs a Deployment to availability: the controller
// manager creates the pod, the scheduler binds it to the kwok node and
// kwok marks it Ready.
func TestClusterDeploymentBecomesAvailable(t *testing.T) {
	c := Start(t, Tools(t))
	t.Logf("versions: %v", c.Versions)
	ctx := context.Background()
	dep := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web"},
		"spec": map[string]any{
			"replicas": 2,
			"selector": map[string]any{"matchLabels": map[string]string{"app": "web"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]string{"app": "web"}},
				"spec":     map[string]any{"containers": []map[string]any{{"name": "web", "image": "example/web:1"}}},
			},
		},
	}
	if err := c.Create(ctx, "/apis/apps/v1/namespaces/default/deployments", dep); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitAvailable(ctx, "apps/v1", "default", "deployments", "web"); err != nil {
		b, _, _ := c.Do(context.Background(), "GET", "/api/v1/namespaces/default/pods", nil)
		t.Fatalf("%v\n%s\n%s", err, b, c.Logs(15))
	}
}
