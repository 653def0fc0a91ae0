#!/bin/sh
# cached.sh OUT [KEYFILE...] -- 'COMMAND'
#
# Puts a built tool at OUT from the tools cache: COMMAND (run by sh, writing
# the binary to "$OUT") builds it once per key, the sha256 of the key files,
# the command and `go version`; later calls (a fresh clone, `make clean`)
# copy it. The cache is $PRESCALE_TOOLS_CACHE, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/prescale-tools; a build goes to a
# temporary name and is renamed, so concurrent builds do not see half a file.
set -eu
out=$1
shift
files=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	files="$files $1"
	shift
done
if [ $# -ne 2 ]; then
	echo "usage: cached.sh OUT [KEYFILE...] -- 'COMMAND'" >&2
	exit 2
fi
cmd=$2
cache=${PRESCALE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prescale-tools}
# shellcheck disable=SC2086 # the key files are words
key=$({ for f in $files; do sha256sum "$f"; done; printf '%s\n' "$cmd"; ${GO:-go} version; } | sha256sum | cut -c1-32)
dir=$cache/$key
name=$(basename "$out")
if [ ! -f "$dir/$name" ]; then
	mkdir -p "$dir"
	tmp=$dir/.$name.$$
	OUT=$tmp sh -c "$cmd" || { rm -f "$tmp"; exit 1; }
	mv -f "$tmp" "$dir/$name"
fi
mkdir -p "$(dirname "$out")"
cp -f "$dir/$name" "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
