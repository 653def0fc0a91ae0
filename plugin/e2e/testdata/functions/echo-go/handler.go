package function

import (
	"fmt"
	"net/http"
	"os"

	handler "github.com/openfaas/templates-sdk/go-http"
)

// Handle echoes the request: greeting, method, query and body.
func Handle(req handler.Request) (handler.Response, error) {
	msg := fmt.Sprintf("%s %s ?%s body=%s", os.Getenv("greeting"), req.Method, req.QueryString, req.Body)
	return handler.Response{
		Body:       []byte(msg),
		StatusCode: http.StatusOK,
		Header:     http.Header{"X-Echo": []string{"yes"}},
	}, nil
}
