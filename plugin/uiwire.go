package plugin

import (
	"net/http"

	"github.com/openfaas/faas-provider/auth"

	"github.com/prescale/prescale/plugin/ui"
)

// wireUI mounts the dashboard (plugin/ui) at /ui/ behind the gateway's basic
// auth, redirects / to it, and runs its sampler and decision follower as a
// service (after the async queue, whose NATS holds the decision stream).
func (p *Platform) wireUI() error {
	s, err := ui.New(ui.Config{
		Functions: p.uiFunctions,
		Gatherer:  p.reg,
		NATSURL:   p.NATSURL,
		Log:       p.log.With("component", "ui"),
	})
	if err != nil {
		return err
	}
	creds := &auth.BasicAuthCredentials{User: p.creds.User, Password: p.creds.Password}
	p.router.PathPrefix("/ui/").Handler(auth.DecorateWithBasicAuth(s.Handler().ServeHTTP, creds))
	redirect := http.RedirectHandler("/ui/", http.StatusFound)
	p.router.Handle("/", redirect).Methods(http.MethodGet, http.MethodHead)
	p.router.Handle("/ui", redirect).Methods(http.MethodGet, http.MethodHead)
	p.AddService("ui", s)
	return nil
}

// UIURL is the dashboard's URL.
func (p *Platform) UIURL() string { return p.url + "/ui/" }

func (p *Platform) uiFunctions() []ui.Function {
	list := p.rt.List()
	out := make([]ui.Function, 0, len(list))
	for _, st := range list {
		fd := st.Spec.Deployment
		var labels map[string]string
		if fd.Labels != nil {
			labels = copyMap(*fd.Labels)
		}
		out = append(out, ui.Function{
			Name: st.Spec.Name, Image: fd.Image, Replicas: st.Replicas, Available: st.AvailableReplicas,
			Invocations: p.metrics.InvocationCount(st.Spec.Name), Labels: labels,
		})
	}
	return out
}
