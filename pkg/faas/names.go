package faas

import "strings"

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
