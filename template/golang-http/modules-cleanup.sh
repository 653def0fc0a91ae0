#!/bin/sh
# Prepares the build context (this directory) so that `go build .` compiles
# main.go against the function in ./function. Run by the Dockerfile and by
# prescale's native builder, from the build context's root. POSIX sh only
# (busybox in golang:alpine).
#
# Two layouts are supported:
#
# (a) upstream style: function/go.mod declares `module handler/function`.
#     function/go.mod, go.sum and vendor/ move to the root, `=> ./` replaces
#     are rebased onto ./function/, handler/function lines are dropped and the
#     root becomes `module handler` with handler/function => ./function.
#     Requirements of the template's own go.mod that the function lacks
#     (templates-sdk) are kept.
#
# (b) module mode: function/go.mod declares another module M (stack.yml's
#     configuration.copy put a whole module's go.mod, go.sum and packages into
#     function/, with handler.go as the package at M's root). function/ stays
#     module M; the root go.mod becomes `module handler` with M's requirements
#     plus `require M v0.0.0` and `replace M => ./function`; the root go.sum is
#     M's go.sum plus the template's; main.go imports M instead of
#     handler/function.
set -eu

cd "$(dirname "$0")"

[ -f function/go.mod ] || { echo "modules-cleanup: function/go.mod not found; nothing to do"; exit 0; }

modpath() {
	awk '$1 == "module" { gsub(/"/, "", $2); print $2; exit }' "$1"
}

# requires FILE prints "path version" for each require of a go.mod.
requires() {
	awk '
		/^require[ \t]*\(/ { block = 1; next }
		block && /^[ \t]*\)/ { block = 0; next }
		block && NF >= 2 && $1 !~ /^\/\// { print $1, $2; next }
		/^require[ \t]+[^ \t(]/ { print $2, $3 }
	' "$1"
}

# has_require FILE PATH succeeds when FILE requires PATH.
has_require() {
	requires "$1" | awk -v p="$2" '$1 == p { found = 1 } END { exit !found }'
}

template_mod=$(mktemp)
template_sum=$(mktemp)
trap 'rm -f "$template_mod" "$template_sum"' EXIT
cp go.mod "$template_mod"
if [ -f go.sum ]; then cp go.sum "$template_sum"; fi

# keep_template_requires adds the template's requirements (except
# handler/function) that the new root go.mod lacks.
keep_template_requires() {
	requires "$template_mod" | while read -r path version; do
		case "$path" in handler/function) continue ;; esac
		if ! has_require go.mod "$path"; then
			go mod edit -require="$path@$version" go.mod
		fi
	done
}

merge_sum() {
	cat "$@" 2>/dev/null | awk 'NF && !seen[$0]++' > go.sum.new
	mv go.sum.new go.sum
}

module=$(modpath function/go.mod)
if [ -z "$module" ]; then
	echo "modules-cleanup: function/go.mod has no module line" >&2
	exit 1
fi

if [ "$module" = "handler/function" ]; then
	echo "modules-cleanup: upstream layout (module handler/function)"
	if [ -d function/vendor ]; then
		rm -rf vendor
		mv function/vendor vendor
	fi
	mv function/go.mod go.mod
	if [ -f function/go.sum ]; then
		mv function/go.sum go.sum
	else
		rm -f go.sum
	fi
	sed -i -e 's#=> \./#=> ./function/#' go.mod
	awk '!/handler\/function/ || /^module[ \t]/' go.mod > go.mod.new
	mv go.mod.new go.mod
	go mod edit -module handler -replace=handler/function=./function go.mod
	keep_template_requires
	merge_sum go.sum "$template_sum"
else
	echo "modules-cleanup: module mode (function/ is module $module)"
	cp function/go.mod go.mod
	# Relative replaces of M are relative to function/.
	sed -i -e 's#=> \./#=> ./function/#' -e 's#=> \.\./#=> ./function/../#' go.mod
	go mod edit -module handler -require="$module@v0.0.0" -replace="$module=./function" go.mod
	keep_template_requires
	merge_sum function/go.sum "$template_sum"
	# The handler package is M's root package.
	sed -i "s#\"handler/function\"#\"$module\"#" main.go
fi

go mod edit -fmt go.mod
echo "modules-cleanup: root go.mod:"
cat go.mod
