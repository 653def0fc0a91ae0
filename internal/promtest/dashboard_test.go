package promtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/internal/testenv"
	"github.com/prescale/prescale/pkg/eventually"
)

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "charts", "prescale", "dashboards", "prescale.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON does not parse: %v", err)
	}
	return d
}

// TestDashboardShape: the panels the chart promises exist and every target has PromQL.
func TestDashboardShape(t *testing.T) {
	d := loadDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q uid %q", d.Title, d.UID)
	}
	want := map[string]string{
		"rps":               "gateway_function_invocation_total",
		"latency":           "gateway_functions_seconds_bucket",
		"replicas":          "gateway_service_count",
		"forecast":          "prescale_forecast",
		"decisions":         "prescale_scaler_decisions_total",
		"forecast error":    "prescale_forecast_abs_error_ratio",
		"recommendation":    "prescale_recommended_replicas",
		"function variable": "label_values(gateway_function_invocation_total, function_name)",
	}
	all := ""
	for _, v := range d.Templating.List {
		all += string(v.Query) + "\n"
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q target %s has no expression", p.Title, tg.RefID)
			}
			all += tg.Expr + "\n"
		}
	}
	for what, metric := range want {
		if !strings.Contains(all, metric) {
			t.Errorf("dashboard lacks %s (%s)", what, metric)
		}
	}
}

var grafanaVar = regexp.MustCompile(`\$(\{[a-zA-Z_][a-zA-Z0-9_:]*\}|[a-zA-Z_][a-zA-Z0-9_]*)`)

// substitute replaces the dashboard's template variables as Grafana would.
func substitute(t *testing.T, expr string, vars map[string]string) string {
	t.Helper()
	return grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(strings.TrimPrefix(m, "$"), "{}")
		v, ok := vars[name]
		if !ok {
			t.Errorf("expression uses unknown variable %s: %s", m, expr)
			return m
		}
		return v
	})
}

// dashboardCheck says what checkDashboard runs and requires.
type dashboardCheck struct {
	labels  []string // function_name values selected in $function; the first must be a value of it
	horizon string   // the $horizon variable
	// want: expressions containing any of these metric-name prefixes must return series.
	want []string
}

// dashboardQuery is one panel target's expression, its variables substituted.
type dashboardQuery struct {
	panel, refID, expr string
	wanted             bool // names a metric of dashboardCheck.want: must return series
}

// queries returns every panel target's expression with c's variables substituted.
func (c dashboardCheck) queries(t *testing.T) []dashboardQuery {
	d := loadDashboard(t)
	// The functions selected, as Grafana formats a multi-value variable: (a|b).
	var sel []string
	for _, l := range c.labels {
		sel = append(sel, grafanaRegexEscape(l))
	}
	vars := map[string]string{
		"function":        "(" + strings.Join(sel, "|") + ")",
		"__rate_interval": (4 * ScrapeInterval).String(),
		"__interval":      ScrapeInterval.String(),
		"__range":         "1m",
		"horizon":         c.horizon,
	}
	var out []dashboardQuery
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			q := dashboardQuery{panel: p.Title, refID: target.RefID, expr: substitute(t, target.Expr, vars)}
			for _, w := range c.want {
				q.wanted = q.wanted || strings.Contains(q.expr, w)
			}
			out = append(out, q)
		}
	}
	return out
}

// wanted returns the expressions of c that must return series.
func (c dashboardCheck) wanted(t *testing.T) []string {
	var out []string
	for _, q := range c.queries(t) {
		if q.wanted {
			out = append(out, q.expr)
		}
	}
	return out
}

// checkDashboard runs every expression of the dashboard against prom at at;
// those naming a metric in c.want must return data for the selected functions.
func checkDashboard(t *testing.T, ctx context.Context, prom *Server, c dashboardCheck, at time.Time) {
	label := c.labels[0]
	n, withData := 0, 0
	for _, q := range c.queries(t) {
		series, err := prom.query(ctx, q.expr, at)
		if err != nil {
			t.Errorf("panel %q target %s: %v\n%s", q.panel, q.refID, err, q.expr)
			continue
		}
		n++
		if !q.wanted {
			continue
		}
		if len(series) == 0 {
			t.Errorf("panel %q target %s returned no series for %s:\n%s", q.panel, q.refID, label, q.expr)
		} else {
			withData++
		}
	}
	if n == 0 {
		t.Fatal("no expression ran")
	}
	t.Logf("ran %d dashboard expressions without error; %d of those naming %v returned data", n, withData, c.want)

	// The $function variable: label_values(gateway_function_invocation_total, function_name).
	values, err := labelValues(ctx, prom, "function_name", "gateway_function_invocation_total")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range values {
		found = found || v == label
	}
	if !found {
		t.Errorf("$function values %v lack %s", values, label)
	}
}

// waitForData queries exprs every half second until each returns series
// at one evaluation time, and returns that time: samples up to it can only
// be added since (a scrape is committed after it started), so a check at
// it sees them all. It fails the test, naming those still empty, only
// after the safety net.
func waitForData(t *testing.T, prom *Server, exprs []string) time.Time {
	t.Helper()
	ctx := safetyNet(t)
	for {
		at := time.Now()
		var empty []string
		for _, e := range exprs {
			v, err := prom.query(ctx, e, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(v) == 0 {
				empty = append(empty, e)
			}
		}
		if len(empty) == 0 {
			return at
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no data in Prometheus after %s (safety net) for %q", eventually.SafetyNet, empty)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func labelValues(ctx context.Context, prom *Server, label, match string) ([]string, error) {
	u := prom.URL + "/api/v1/label/" + label + "/values?" + url.Values{"match[]": {match}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data []string `json:"data"`
	}
	if err := decodeJSON(resp, &body); err != nil {
		return nil, err
	}
	return body.Data, nil
}

// grafanaRegexEscape escapes a variable value for a =~ matcher as Grafana's
// Prometheus data source does: regex metacharacters get a backslash, itself
// escaped inside the PromQL string literal.
func grafanaRegexEscape(v string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
}
