#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kdir-from-source.sh SOURCE_DEB HEADERS RELEASE OUT
#
# Makes OUT, an external-module build folder for Debian's kernel RELEASE,
# out of that kernel's own source package (SOURCE_DEB: linux-source-X.Y of
# the image's version) with the configuration and Module.symvers of its
# headers package (HEADERS: the unpacked linux-headers-RELEASE), prepared
# with this host's gcc. fetch-kernel.sh uses it where the headers cannot
# build a module here: Debian 13's on Debian 12 (their kbuild tools need
# glibc 2.38, their config names gcc-14). docs/testing.md says what a module
# built this way is checked for and what not.
#
# About 1 min of 2 CPUs; the 1.8 GB of extracted source is deleted after.
set -euo pipefail

usage="usage: kdir-from-source.sh SOURCE_DEB HEADERS RELEASE OUT"
deb=${1:?$usage}
headers=${2:?$usage}
rel=${3:?$usage}
out=${4:?$usage}

log() { echo "kdir-from-source: $*" >&2; }

# Beside OUT, not in /tmp: the source is too big for a small tmpfs.
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$out.src.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
log "extracting $(basename "$deb")"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/linux-source-*.tar.xz'
tar -xJf "$tmp"/usr/src/linux-source-*.tar.xz -C "$tmp"
src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*')

# KERNELRELEASE makes the release (and so the vermagic) the image's. The
# default gcc, named as a user's "make" will name it, so that later builds
# see the very compiler text the config holds (with CC=gcc-12 every build
# warns that the compiler differs). No Rust: the host's rustc, if any,
# stays out of the config.
kmake() {
	make -C "$src" KERNELRELEASE="$rel" RUSTC=false BINDGEN=false "$@"
}
cp "$headers/.config" "$src/.config"
log "preparing Linux $rel with $(gcc --version | head -n 1)"
{
	kmake olddefconfig
	kmake -j"$(nproc)" modules_prepare
} > "$tmp/prepare.log" 2>&1 || { tail -n 40 "$tmp/prepare.log" >&2; exit 1; }

# The symbols the kernel really exports, with their namespaces.
cp "$headers/Module.symvers" "$src/Module.symvers"
rm -rf "$out"
# shellcheck disable=SC2016 # $(srctree) is make's
kmake run-command \
	KBUILD_RUN_COMMAND='$(srctree)/scripts/package/install-extmod-build '"$out" \
	> "$tmp/install.log" 2>&1 || { tail -n 40 "$tmp/install.log" >&2; exit 1; }
cp "$src/.config" "$out/.config"
log "made $out in $(($(date +%s) - start)) s"
