package function

import (
	"strings"
	"testing"

	handler "github.com/openfaas/templates-sdk/go-http"
)

func TestHandleEchoes(t *testing.T) {
	res, err := Handle(handler.Request{Method: "POST", QueryString: "a=1", Body: []byte("ping")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Body); !strings.Contains(got, "POST ?a=1 body=ping") {
		t.Fatalf("body = %q", got)
	}
}
