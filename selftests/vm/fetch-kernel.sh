#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh SERIES CACHE
#
# Puts Debian's current kernel image and headers of SERIES into
# CACHE/kernels/<release>/ and prints <release>. SERIES is
#   6.1      linux-image-amd64 of Debian 12 (6.1.0-NN-amd64)
#   6.12     linux-image-6.12-amd64 of Debian 12 (6.12.N+deb12-amd64)
#   newest   the highest linux-image-amd64 of Debian's stable and
#            stable-backports (7.3.N+deb13-amd64 in November 2026), through a
#            private apt configuration in CACHE/apt (debian-apt.sh)
# The version is resolved from the meta-package at every run, never
# hard-coded, so updates are picked up. The packages are unpacked with
# dpkg-deb, not installed: the host's /boot and its initramfs are left alone,
# and an unpacked kernel is reused by every later run without a download.
#
# Where the headers cannot build a module on this host (Debian 13's kbuild
# tools need a newer glibc, their config names gcc-14), the kernel's own
# linux-source package is prepared instead (kdir-from-source.sh).
#
# Layout of CACHE/kernels/<release>/:
#   root/        the unpacked packages (boot/ or usr/lib/modules/, usr/src/)
#   vmlinuz      the kernel to boot
#   kdir         the tree to build modules against: the headers, or
#   kbuild/      the external-module build folder made from linux-source
#   config.diff  (kbuild/ only) how its .config differs from Debian's
#   modules      /lib/modules/<release> of the guest
# CACHE/kernels/.newest names the release "newest" resolved to last: it is
# used when the archive cannot be reached.
set -euo pipefail

usage="usage: fetch-kernel.sh 6.1|6.12|newest CACHE"
series=${1:?$usage}
cache=${2:?$usage}
here=$(cd "$(dirname "$0")" && pwd)

log() { echo "fetch-kernel: $*" >&2; }

case $series in
6.1|newest)	meta=linux-image-amd64 ;;
6.12)		meta=linux-image-6.12-amd64 ;;
*)		log "unknown kernel series '$series' (want 6.1, 6.12 or newest)"
		exit 2 ;;
esac

# The newest kernel comes from suites the host does not use: the host's own
# apt must not learn of them.
if [ "$series" = newest ]; then
	. "$here/debian-apt.sh"
	dapt_init "$cache"
	acache() { dapt_cache "$@"; }
	aget() { dapt_get "$@"; }
else
	acache() { apt-cache "$@"; }
	aget() { apt-get "$@"; }
fi

# The image package the meta-package (of version $pin) points at, e.g.
# linux-image-6.1.0-56-amd64; nothing when the lists do not know it.
resolve() {
	{ acache depends "$meta$pin" 2>/dev/null || true; } |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -n 1
}

# The newest kernel cached for SERIES, for a run without the archive.
cached_release() {
	if [ "$series" = newest ]; then
		cat "$cache/kernels/.newest" 2>/dev/null || true
	else
		ls -1 "$cache/kernels" 2>/dev/null | grep "^$series[.-]" |
			sort -V | tail -n 1 || true
	fi
}

pin=
if [ "$series" = newest ]; then
	dapt_update || log "cannot refresh the lists of Debian's stable suites"
	# Backports are never apt's candidate: name the version.
	version=$(dapt_highest "$meta")
	pin=${version:+=$version}
	image=
	[ -z "$version" ] || image=$(resolve)
else
	image=$(resolve)
	if [ -z "$image" ]; then
		log "updating apt's package lists to resolve $meta"
		apt-get update -qq >&2 || true
		image=$(resolve)
	fi
fi
if [ -z "$image" ]; then
	# No package lists and no network: fall back to the newest cached kernel.
	rel=$(cached_release)
	if [ -n "$rel" ] && [ -e "$cache/kernels/$rel/.ready" ]; then
		log "cannot resolve $meta; using cached $rel"
		echo "$rel"
		exit 0
	fi
	log "cannot resolve $meta and nothing is cached"
	exit 1
fi

rel=${image#linux-image-}
dir=$cache/kernels/$rel
if [ -e "$dir/.ready" ]; then
	[ "$series" = newest ] && echo "$rel" > "$cache/kernels/.newest"
	echo "$rel"
	exit 0
fi

# Since Debian 13 linux-image-<release> is empty and depends on the kernel
# (linux-binary-), its modules (linux-modules-) and modules.builtin and
# config (linux-base-); before, it held them itself.
parts=$(acache depends "$image$pin" |
	sed -n "s/^ *Depends: \(linux-\(binary\|modules\|base\)-$rel\)\$/\1/p")
headers=linux-headers-$rel
deps=$(acache depends "$headers$pin" |
       sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p')
pkgs=("$image" $parts "$headers" $deps)
log "downloading ${pkgs[*]}"
mkdir -p "$cache/debs"
(cd "$cache/debs" && aget download -q "${pkgs[@]/%/$pin}" >&2)

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/root"
for pkg in "${pkgs[@]}"; do
	deb=$(ls -1t "$cache/debs/${pkg}_"*.deb | head -n 1)
	dpkg-deb -x "$deb" "$dir.tmp/root"
done
image_version=$(dpkg-deb -f "$(ls -1t "$cache/debs/${image}_"*.deb | head -n 1)" Version)

# Debian 12 is merged-/usr, but older packages ship /lib: find the modules.
moddir=$(find "$dir.tmp/root" -maxdepth 4 -type d -path "*/lib/modules/$rel" | head -n 1)
[ -n "$moddir" ] || { log "no modules directory in $image"; exit 1; }
moddir=${moddir#"$dir.tmp/"}
ln -s "$moddir" "$dir.tmp/modules"
# The kernel is in /boot (Debian 12) or beside its modules (Debian 13).
for f in "root/boot/vmlinuz-$rel" "$moddir/vmlinuz" ""; do
	[ -n "$f" ] || { log "no kernel image in ${pkgs[*]}"; exit 1; }
	[ -e "$dir.tmp/$f" ] && break
done
ln -s "$f" "$dir.tmp/vmlinuz"
# modules.dep is written by the package's postinst, which dpkg-deb skips.
depmod -b "$dir.tmp/${moddir%/lib/modules/"$rel"}" "$rel"
# The headers' Makefile includes the common headers by their installed,
# absolute path: point it at the unpacked copy.
sed -i "s|/usr/src/|$dir/root/usr/src/|" "$dir.tmp/root/usr/src/linux-headers-$rel/Makefile"
rm -f "$cache/debs/"*.deb
rm -rf "$dir"
mv "$dir.tmp" "$dir"

# probe_vermagic KDIR: builds a module that does nothing against KDIR, as a
# user's "make -C KDIR M=..." would, and prints its vermagic; fails when the
# build fails or warns (a compiler other than the kernel's is a warning).
probe_vermagic() {
	local t rc=0
	t=$(mktemp -d)
	printf '%s\n' '#include <linux/module.h>' 'MODULE_DESCRIPTION("probe");' \
		'MODULE_LICENSE("GPL");' > "$t/probe.c"
	echo 'obj-m := probe.o' > "$t/Kbuild"
	if make -C "$1" M="$t" modules > "$t/log" 2>&1 && ! grep -qi warning "$t/log"; then
		modinfo -F vermagic "$t/probe.ko"
	else
		rc=1
	fi
	rm -rf "$t"
	return $rc
}

# A module built here must carry the image's own vermagic, or the kernel
# refuses it: compare with one of the image's modules.
ref=$(find "$dir/$moddir/kernel" -name '*.ko*' -print -quit)
want=$(modinfo -F vermagic "$ref")
kdir=root/usr/src/linux-headers-$rel
if [ "$(probe_vermagic "$dir/$kdir" || true)" != "$want" ]; then
	src=linux-source-$(echo "$image_version" | cut -d. -f1,2)
	log "the headers of $rel cannot build a module here: preparing $src $image_version instead"
	(cd "$cache/debs" && aget download -q "$src=$image_version" >&2)
	"$here/kdir-from-source.sh" "$(ls -1t "$cache/debs/${src}_"*.deb | head -n 1)" \
		"$dir/$kdir" "$rel" "$dir/kbuild"
	rm -f "$cache/debs/"*.deb
	diff <(grep '^CONFIG_' "$dir/$kdir/.config" | sort) \
	     <(grep '^CONFIG_' "$dir/kbuild/.config" | sort) > "$dir/config.diff" || true
	kdir=kbuild
	got=$(probe_vermagic "$dir/$kdir" || true)
	if [ "$got" != "$want" ]; then
		log "a module built against $dir/$kdir: vermagic '$got', the image's: '$want'"
		exit 1
	fi
fi
ln -sfn "$kdir" "$dir/kdir"
touch "$dir/.ready"
[ "$series" = newest ] && echo "$rel" > "$cache/kernels/.newest"
log "unpacked $rel into $dir"
echo "$rel"
