package function

import (
	"fmt"
	"net/http"

	handler "github.com/openfaas/templates-sdk/go-http"
)

// Handle answers every request with what it received.
func Handle(req handler.Request) (handler.Response, error) {
	msg := fmt.Sprintf("Hello from golang-http. You said: %q", string(req.Body))
	return handler.Response{
		Body:       []byte(msg),
		StatusCode: http.StatusOK,
	}, nil
}
