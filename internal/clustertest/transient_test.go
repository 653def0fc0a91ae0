package clustertest

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall"
	"testing"
)

func TestTransient(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&StatusError{Code: 429}, true},
		{&StatusError{Code: 503}, true},
		{fmt.Errorf("list: %w", &StatusError{Code: 500}), true},
		{&StatusError{Code: 404}, false},
		{&StatusError{Code: 422}, false},
		{&url.Error{Op: "Get", URL: "https://x", Err: syscall.ECONNREFUSED}, true},
		{&url.Error{Op: "Get", URL: "https://x", Err: syscall.ECONNRESET}, true},
		{&url.Error{Op: "Get", URL: "https://x", Err: io.EOF}, true},
		{&url.Error{Op: "Get", URL: "https://x", Err: errors.New("x509: certificate signed by unknown authority")}, false},
		{errors.New("invalid character 'x'"), false},
	} {
		if got := Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
