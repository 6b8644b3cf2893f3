#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-debug-kernel.sh CACHE
#
# Builds the debug kernel of "make check-debug" from Debian's linux-source-6.12
# with allnoconfig + debug.config (lockdep, KASAN, kmemleak, UBSAN, debug
# objects; only what the QEMU guest needs), installs it into
# CACHE/kernels/<release>/ in the layout of fetch-kernel.sh and prints
# <release>. Debian's kernels carry none of these checkers.
#
# The result is keyed by the source package's version, debug.config and
# recipe (below: bump it when the way of building changes): an unchanged key
# reuses the cached kernel, a changed one rebuilds (incrementally, in
# CACHE/build/debug-kernel). The first build took 15 min 43 s on a 2-core
# machine of this project's kind (25 CPU-minutes; 2026-11-24).
set -euo pipefail

cache=${1:?usage: build-debug-kernel.sh CACHE}
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/debug.config
tarball=/usr/src/linux-source-6.12.tar.xz
suffix=-vcanbus-debug

log() { echo "debug-kernel: $*" >&2; }

[ -e "$tarball" ] || { log "install linux-source-6.12"; exit 1; }
version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
recipe=1
key=$(printf '%s\n' "$version" "$recipe" | cat - "$fragment" | sha256sum | cut -c1-16)

src=$cache/src/full/linux-source-6.12
obj=$cache/build/debug-kernel

# The release comes from the source's Makefile: 6.12.N-vcanbus-debug.
release() {
	local v p s
	v=$(sed -n 's/^VERSION = //p' "$src/Makefile")
	p=$(sed -n 's/^PATCHLEVEL = //p' "$src/Makefile")
	s=$(sed -n 's/^SUBLEVEL = //p' "$src/Makefile")
	echo "$v.$p.$s$suffix"
}

if [ -e "$src/Makefile" ]; then
	rel=$(release)
	if [ "$(cat "$cache/kernels/$rel/.ready" 2>/dev/null)" = "$key" ]; then
		echo "$rel"
		exit 0
	fi
fi

if [ "$(cat "$src/.version" 2>/dev/null)" != "$version" ]; then
	log "extracting the full $tarball (1.7 GB)"
	rm -rf "$src" "$obj"
	mkdir -p "$cache/src/full"
	tar -xJf "$tarball" -C "$cache/src/full"
	echo "$version" > "$src/.version"
fi
rel=$(release)

start=$(date +%s)
log "building Linux $rel with lockdep, KASAN, kmemleak and UBSAN"
log "(the first build takes about 15 minutes on 2 cores; log: $obj/build.log)"
mkdir -p "$obj"
kmake() {
	make -C "$src" O="$obj" ARCH=x86_64 LOCALVERSION="$suffix" \
		KBUILD_BUILD_USER=vcanbus KBUILD_BUILD_HOST=vcanbus "$@"
}
{
	kmake KCONFIG_ALLCONFIG="$fragment" allnoconfig
	kmake olddefconfig
} > "$obj/config.log" 2>&1 || { cat "$obj/config.log" >&2; exit 1; }

# allnoconfig drops silently what lacks a dependency: name each such line.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=n)	want="# ${line%=n} is not set" ;;
	CONFIG_*)	want=$line ;;
	*)		continue ;;
	esac
	if ! grep -qxF -- "$want" "$obj/.config"; then
		log "debug.config: '$line' did not survive olddefconfig (got: $(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo unset))"
		bad=1
	fi
done < "$fragment"
[ "$bad" = 0 ] || exit 1

if ! kmake -j"$(nproc)" bzImage modules > "$obj/build.log" 2>&1; then
	tail -n 40 "$obj/build.log" >&2
	log "build failed; full log: $obj/build.log"
	exit 1
fi

dir=$cache/kernels/$rel
rm -rf "$dir"
mkdir -p "$dir/root"
kmake INSTALL_MOD_PATH="$dir/root" modules_install > "$obj/install.log" 2>&1 ||
	{ cat "$obj/install.log" >&2; exit 1; }
cp "$obj/arch/x86/boot/bzImage" "$dir/vmlinuz"
ln -s "root/lib/modules/$rel" "$dir/modules"
ln -s "$obj" "$dir/kdir"
echo "$key" > "$dir/.ready"
log "built $rel in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
echo "$rel"
