package stack

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func fuzzLookup(name string) (string, bool) {
	switch name {
	case "EMPTY":
		return "", true
	case "IMAGE":
		return "example/fn:1", true
	}
	return "", false
}

// FuzzParse: any stack.yml parses into a stack whose functions are named
// as providers accept (DNS labels), have an image, and whose copy paths
// stay inside the project, or gives an error naming the file; a parsed
// stack survives re-encoding (yaml.Marshal, then Parse without envsubst).
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../stack.yml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  hello:\n    lang: python3\n    handler: ./hello\n    image: ${IMAGE}\n",
		"provider: {name: openfaas}\nconfiguration: {copy: [./go.mod, ../etc]}\nfunctions: {a: {skip_build: true, image: x}}\n",
		"provider: {name: openfaas}\nfunctions: {Bad_Name: {image: x, lang: go, handler: .}}\n",
		"a: &a [*a]\n", "x: ${UNTERMINATED\n", "provider: {name: openfaas}\nfunctions: {f: {image: x, lang: Dockerfile, handler: ., environment: {A: '1'}, labels: {l: v}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yml", Options{Lookup: fuzzLookup})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(s.Functions) == 0 {
			t.Fatal("parsed a stack without functions")
		}
		for _, name := range s.Names() {
			fn := s.Functions[name]
			if !nameRE.MatchString(name) || len(name) > 63 || fn.Name != name || fn.Image == "" {
				t.Fatalf("function %q: %+v", name, fn)
			}
		}
		for _, p := range s.Configuration.Copy {
			if err := checkRelative(p); err != nil {
				t.Fatalf("copy path %q accepted: %v", p, err)
			}
		}
		enc, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("marshal %+v: %v", s, err)
		}
		back, err := Parse(enc, "fuzz.yml", Options{NoEnvsubst: true})
		if err != nil {
			t.Fatalf("re-encoded stack does not parse: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(back.Functions, s.Functions) || !reflect.DeepEqual(emptyNil(back.Configuration), emptyNil(s.Configuration)) {
			t.Fatalf("round trip changed the stack:\n%+v\n%+v\n%s", s.Functions, back.Functions, enc)
		}
	})
}

// emptyNil makes empty lists nil: YAML's omitempty drops them, and a
// "templates: [null]" decodes to an empty list.
func emptyNil(c Configuration) Configuration {
	if len(c.Templates) == 0 {
		c.Templates = nil
	}
	if len(c.Copy) == 0 {
		c.Copy = nil
	}
	return c
}

// FuzzEnvsubst: substitution never panics; text without '$' is unchanged.
func FuzzEnvsubst(f *testing.F) {
	for _, s := range []string{"image: ${IMAGE}", "$IMAGE $ $$ ${EMPTY:-d} ${UNSET-x}", "${", "${A:?err}", "line\n${IMAGE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Envsubst(in, fuzzLookup)
		if err == nil && !strings.Contains(in, "$") && out != in {
			t.Fatalf("%q changed to %q without a $", in, out)
		}
	})
}
