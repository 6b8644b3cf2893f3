#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-sparse.sh CACHE
#
# Prints the path of a sparse built from Debian's newest source package of
# it (sid's: 0.6.5~rc1 in November 2026), cached in CACHE/sparse/<version>/.
# Debian 12's sparse 0.6.4 cannot parse Linux 7.x's headers
# (__typeof_unqual__): the kernel's own scripts/checker-valid.sh then turns
# C=1 off with only a make warning. lint.sh uses this one for every kernel,
# so that all are checked by the same sparse.
#
# Only the upstream tarball is built, into the one program kbuild runs;
# Debian's two patches choose Debian's gcc-16 and linker flags for the
# package. When sid cannot be reached the newest cached build serves.
set -euo pipefail

cache=${1:?usage: build-sparse.sh CACHE}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/debian-apt.sh"
dapt_init "$cache"

log() { echo "build-sparse: $*" >&2; }

dapt_update || log "cannot refresh the list of Debian's sources"
version=$({ dapt_cache showsrc sparse 2>/dev/null || true; } | sed -n 's/^Version: //p' | dapt_max)
if [ -z "$version" ]; then
	bin=$(ls -1d "$cache"/sparse/*/sparse 2>/dev/null | sort -V | tail -n 1 || true)
	[ -n "$bin" ] || { log "cannot resolve sparse's source package and nothing is cached"; exit 1; }
	log "cannot resolve sparse's source package; using $bin"
	echo "$bin"
	exit 0
fi
out=$cache/sparse/$version
if [ -x "$out/sparse" ]; then
	echo "$out/sparse"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "building sparse $version"
# apt checks the files against the signed list of sources.
(cd "$tmp" && dapt_get source --download-only -qq "sparse=$version" >&2)
tar -xf "$(ls -1 "$tmp"/sparse_*.orig.tar.*)" -C "$tmp"
src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'sparse-*')
if ! make -C "$src" -j"$(nproc)" HAVE_LLVM=no HAVE_SQLITE=no HAVE_GTK=no \
		SPARSE_VERSION="$version" sparse > "$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log" >&2
	exit 1
fi
mkdir -p "$out"
cp "$src/sparse" "$out/sparse.tmp"
mv "$out/sparse.tmp" "$out/sparse"
echo "$out/sparse"
