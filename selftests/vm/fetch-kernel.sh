#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh SERIES CACHE
#
# Puts Debian's current kernel image and headers of SERIES (6.1 or 6.12) into
# CACHE/kernels/<release>/ and prints <release>. The version is resolved from
# the series' meta-package, never hard-coded, so security updates are picked
# up. The packages are unpacked with dpkg-deb, not installed: the host's /boot
# and its initramfs are left alone, and an unpacked kernel is reused by every
# later run without a download.
#
# Layout of CACHE/kernels/<release>/:
#   root/      the unpacked packages (boot/, usr/lib/modules/, usr/src/)
#   vmlinuz    the kernel to boot
#   kdir       the headers tree to build modules against
#   modules    /lib/modules/<release> of the guest
set -euo pipefail

series=${1:?usage: fetch-kernel.sh 6.1|6.12 CACHE}
cache=${2:?usage: fetch-kernel.sh 6.1|6.12 CACHE}

case $series in
6.1)	meta=linux-image-amd64 ;;
6.12)	meta=linux-image-6.12-amd64 ;;
*)	echo "fetch-kernel: unknown kernel series '$series' (want 6.1 or 6.12)" >&2
	exit 2 ;;
esac

log() { echo "fetch-kernel: $*" >&2; }

# The image package the meta-package points at, e.g. linux-image-6.1.0-56-amd64.
resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -n 1
}

image=$(resolve)
if [ -z "$image" ]; then
	log "updating apt's package lists to resolve $meta"
	apt-get update -qq >&2 || true
	image=$(resolve)
fi
if [ -z "$image" ]; then
	# No package lists and no network: fall back to the newest cached kernel.
	rel=$(ls -1 "$cache/kernels" 2>/dev/null | grep "^$series[.-]" |
	      sort -V | tail -n 1 || true)
	if [ -n "$rel" ] && [ -e "$cache/kernels/$rel/.ready" ]; then
		log "cannot resolve $meta; using cached $rel"
		echo "$rel"
		exit 0
	fi
	log "cannot resolve $meta with apt-cache and nothing is cached"
	exit 1
fi

rel=${image#linux-image-}
dir=$cache/kernels/$rel
if [ -e "$dir/.ready" ]; then
	echo "$rel"
	exit 0
fi

headers=linux-headers-$rel
deps=$(apt-cache depends "$headers" |
       sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p')
log "downloading $image $headers $deps"
mkdir -p "$cache/debs"
(cd "$cache/debs" && apt-get download -q "$image" "$headers" $deps >&2)

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/root"
for pkg in "$image" "$headers" $deps; do
	deb=$(ls -1t "$cache/debs/${pkg}_"*.deb | head -n 1)
	dpkg-deb -x "$deb" "$dir.tmp/root"
done

# Debian 12 is merged-/usr, but older packages ship /lib: find the modules.
moddir=$(find "$dir.tmp/root" -maxdepth 4 -type d -path "*/lib/modules/$rel" | head -n 1)
[ -n "$moddir" ] || { log "no modules directory in $image"; exit 1; }
ln -s "${moddir#"$dir.tmp/"}" "$dir.tmp/modules"
ln -s "root/boot/vmlinuz-$rel" "$dir.tmp/vmlinuz"
ln -s "root/usr/src/linux-headers-$rel" "$dir.tmp/kdir"
# modules.dep is written by the package's postinst, which dpkg-deb skips.
depmod -b "${moddir%/lib/modules/"$rel"}" "$rel"
# The headers' Makefile includes the common headers by their installed,
# absolute path: point it at the unpacked copy.
sed -i "s|/usr/src/|$dir/root/usr/src/|" "$dir.tmp/root/usr/src/linux-headers-$rel/Makefile"
rm -f "$cache/debs/"*.deb
touch "$dir.tmp/.ready"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
log "unpacked $rel into $dir"
echo "$rel"
