package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzDeploy: any deployment body posted to /system/functions is deployed
// (202, then listed) or refused with a 4xx naming why, never a 5xx or a
// dropped connection (a handler panic).
func FuzzDeploy(f *testing.F) {
	for _, s := range []string{
		`{"service":"hello-python","image":"prescale/hello-python:latest"}`,
		`{"service":"fn","image":"prescale/hello-python:latest","labels":{"com.openfaas.scale.min":"3","com.openfaas.scale.max":"2"}}`,
		`{"service":"fn","image":"prescale/hello-python:latest","envVars":{"exec_timeout":"18446744074","max_inflight":"1e9"}}`,
		`{"service":"fn","image":"prescale/hello-python:latest","annotations":{"prescale.startup-delay":"fixed:1e300"}}`,
		`{"service":"fn","image":"prescale/scaler:latest","envProcess":"","secrets":["nope"],"namespace":"other"}`,
		`{"service":"..","image":"x"}`, `[]`, `{"service":"a","image":"prescale/hello-python:latest","labels":{"com.openfaas.scale.factor":"-1"}}`,
	} {
		f.Add(s)
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/system/functions", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("admin", testPassword)
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%q: %v (a handler panic drops the connection)", body, err)
		}
		msg, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode >= 500:
			t.Fatalf("%q: %d %s", body, res.StatusCode, msg)
		case res.StatusCode == http.StatusAccepted:
			var fd struct {
				Service string `json:"service"`
			}
			_ = json.Unmarshal([]byte(body), &fd)
			if code, out := h.do(t, http.MethodGet, "/system/function/"+fd.Service, ""); code != http.StatusOK {
				t.Fatalf("%q deployed but not found: %d %s", body, code, out)
			}
			h.do(t, http.MethodDelete, "/system/functions", `{"functionName":"`+fd.Service+`"}`)
		case res.StatusCode >= 400 && len(strings.TrimSpace(string(msg))) == 0:
			t.Fatalf("%q: %d without a message", body, res.StatusCode)
		}
	})
}
