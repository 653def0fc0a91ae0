package build

import (
	"strings"
	"testing"

	"github.com/prescale/prescale/plugin/runtime"
)

func TestNormalizeImage(t *testing.T) {
	cases := []struct{ in, want string }{
		{"prescale/hello", "prescale/hello:latest"},
		{"prescale/hello:latest", "prescale/hello:latest"},
		{"docker.io/prescale/hello:v1", "prescale/hello:v1"},
		{"docker.io/library/alpine", "alpine:latest"},
		{" alpine:3 ", "alpine:3"},
		{"localhost:5000/x", "localhost:5000/x:latest"},
		{"ghcr.io/o/x@sha256:abc", "ghcr.io/o/x@sha256:abc"},
		{"", ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := NormalizeImage(c.in); got != c.want {
				t.Errorf("NormalizeImage(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	a := Artifact{Function: "hello", Image: "prescale/hello:latest", Mode: runtime.ModeFork}
	b := Artifact{Function: "echo", Image: "ttl.sh/echo:1", Mode: runtime.ModeHTTP}
	r := NewRegistry(a, b)
	for _, img := range []string{"prescale/hello", "docker.io/prescale/hello:latest", "prescale/hello:latest"} {
		got, ok := r.Lookup(img)
		if !ok || got.Function != "hello" {
			t.Errorf("Lookup(%q) = %+v, %v; want hello", img, got, ok)
		}
	}
	for _, img := range []string{"prescale/hello:v2", "ttl.sh/echo", "nope"} {
		if got, ok := r.Lookup(img); ok {
			t.Errorf("Lookup(%q) = %+v, want unknown", img, got)
		}
	}
	if got, ok := r.Function("echo"); !ok || got.Image != "ttl.sh/echo:1" {
		t.Errorf("Function(echo) = %+v, %v", got, ok)
	}
	if got := strings.Join(r.Images(), ","); got != "prescale/hello:latest,ttl.sh/echo:1" {
		t.Errorf("Images = %s", got)
	}
	arts := r.Artifacts()
	if len(arts) != 2 || arts[0].Function != "echo" || arts[1].Function != "hello" {
		t.Errorf("Artifacts = %+v", arts)
	}
}
