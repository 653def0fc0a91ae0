package faas

import (
	"fmt"
	"strings"
)

// DefaultNamespace is OpenFaaS's function namespace ("openfaas-fn"), the
// only one prescale's embedded platform serves.
const DefaultNamespace = "openfaas-fn"

// SplitName splits a function address "fn.namespace" at its last dot, as
// faasd and faas-netes do; a name without a dot (or with nothing before or
// after the last dot) has no namespace.
func SplitName(name string) (fn, namespace string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return name, ""
	}
	return name[:i], name[i+1:]
}

// BaseName is name without the suffix ".namespace"; any other name is
// returned unchanged.
func BaseName(name, namespace string) string {
	if fn, ns := SplitName(name); ns != "" && ns == namespace {
		return fn
	}
	return name
}

// Canonical is a function address in one form: name without a namespace
// suffix, and the namespace it names (the suffix, else namespace). An
// address whose suffix contradicts namespace is an error. Key is the
// name state is kept under: the bare name in defaultNS (or with no
// namespace), "name.namespace" in any other, so "hello.openfaas-fn" and
// "hello" (default namespace openfaas-fn) share one state.
func Canonical(name, namespace, defaultNS string) (fn, ns, key string, err error) {
	fn, ns = SplitName(name)
	switch {
	case ns == "":
		ns = namespace
	case namespace != "" && namespace != ns:
		return "", "", "", fmt.Errorf("function %q names namespace %q but the namespace given is %q", name, ns, namespace)
	}
	if fn == "" {
		return "", "", "", fmt.Errorf("function %q: empty name", name)
	}
	key = fn
	if ns != "" && ns != defaultNS {
		key = fn + "." + ns
	}
	return fn, ns, key, nil
}
