package ui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prescale/prescale/pkg/decide"
)

func testServer(t *testing.T, fns *[]Function) *Server {
	t.Helper()
	s, err := New(Config{Functions: func() []Function { return append([]Function(nil), *fns...) }, Keep: 10})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStateShowsOptedInFunctionsWithSeriesAndDecisions(t *testing.T) {
	fns := []Function{
		{Name: "scaler", Image: "prescale/scaler:latest", Replicas: 1, Available: 1},
		{Name: "hello-python", Image: "prescale/hello-python:latest", Replicas: 2, Available: 1, Labels: map[string]string{LabelEnabled: "true"}},
	}
	s := testServer(t, &fns)
	t0 := time.Unix(1700000000, 0)
	for i := 0; i < 15; i++ {
		s.Sample(t0.Add(time.Duration(i) * time.Second))
	}
	made := t0.Add(10 * time.Second)
	s.AddDecision(decide.Decision{
		Function: "hello-python", At: made.Add(time.Second), Observed: decide.Sample{RPS: 3.5},
		Forecast: &decide.Forecast{At: made, Horizon: 30, RPS: 4.25}, ForecastRPS: 4.25, ForecastState: "used",
		Before: 1, After: 2, Desired: 2, Reason: "scale up", Reasons: []string{"forecast 4.25 rps"},
	})
	st := s.State(t0.Add(20 * time.Second))
	if len(st.Functions) != 2 || st.Functions[0].Name != "hello-python" {
		t.Fatalf("functions %+v, want both, sorted", st.Functions)
	}
	if _, ok := st.Series["scaler"]; ok {
		t.Errorf("scaler is not opted in but has a series")
	}
	pts := st.Series["hello-python"]
	if len(pts) != 10 || pts[0].T != t0.Add(5*time.Second).UnixMilli() || pts[9].Replicas != 2 || pts[9].Available != 1 {
		t.Fatalf("series %+v: want the last 10 samples (Keep) with replicas 2 / ready 1", pts)
	}
	ds := st.Decisions["hello-python"]
	if len(ds) != 1 {
		t.Fatalf("decisions %+v", ds)
	}
	d := ds[0]
	if d.ForecastRPS == nil || *d.ForecastRPS != 4.25 || d.ForecastMade != made.UnixMilli() || d.ForecastFor != made.Add(30*time.Second).UnixMilli() {
		t.Errorf("forecast %+v: want 4.25 rps made at %v for %v", d, made, made.Add(30*time.Second))
	}
	if d.RPS != 3.5 || d.Before != 1 || d.After != 2 || d.Reason != "scale up" || len(d.Reasons) != 1 {
		t.Errorf("decision %+v", d)
	}
	// A function that is removed loses its series.
	fns = fns[:1]
	s.Sample(t0.Add(30 * time.Second))
	if _, ok := s.State(t0).Series["hello-python"]; ok {
		t.Errorf("removed function still has a series")
	}
}

func TestHandlerServesEmbeddedPageWithoutExternalResources(t *testing.T) {
	fns := []Function{{Name: "f", Image: "x:latest", Labels: map[string]string{LabelEnabled: "true"}}}
	s := testServer(t, &fns)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(path string) (int, string, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	code, _, page := get("/ui/")
	if code != 200 || !strings.Contains(page, `<table id="functions"`) {
		t.Fatalf("/ui/: %d %.200s", code, page)
	}
	// Every script and stylesheet the page loads is served from /ui/ itself.
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 4 {
		t.Fatalf("page references %v, want uPlot's js and css, app.js and app.css", refs)
	}
	for _, r := range refs {
		if strings.Contains(r[1], "//") {
			t.Errorf("page loads an external resource %s", r[1])
		}
		if code, _, _ := get("/ui/" + r[1]); code != 200 {
			t.Errorf("/ui/%s: %d", r[1], code)
		}
	}
	for _, asset := range []string{"app.js", "app.css"} {
		_, _, body := get("/ui/" + asset)
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "@import") {
			t.Errorf("%s refers to a network resource", asset)
		}
	}
	if code, _, lic := get("/ui/uPlot.LICENSE"); code != 200 || !strings.Contains(lic, "MIT") {
		t.Errorf("uPlot's licence: %d %.100s", code, lic)
	}
	code, ct, body := get("/ui/api/state")
	var st State
	if code != 200 || ct != "application/json" || json.Unmarshal([]byte(body), &st) != nil || len(st.Functions) != 1 || st.Stream != "off" {
		t.Fatalf("/ui/api/state: %d %s %s", code, ct, body)
	}
}

func TestConfigRanges(t *testing.T) {
	f := func() []Function { return nil }
	for _, c := range []Config{{}, {Functions: f, SampleEvery: time.Millisecond}, {Functions: f, Keep: 5}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
