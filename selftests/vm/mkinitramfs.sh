#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KERNELDIR
#
# Builds KERNELDIR/initramfs.gz for a kernel unpacked by fetch-kernel.sh:
# static busybox, the guest's /init, and the modules that init needs to mount
# the host's root over virtio-9p as an overlay, in load order and
# decompressed (busybox insmod does not read .ko.xz).
set -euo pipefail

kdir=${1:?usage: mkinitramfs.sh KERNELDIR}
here=$(cd "$(dirname "$0")" && pwd)
rel=$(basename "$(readlink -f "$kdir/modules")")
out=$kdir/initramfs.gz

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q static; then
	busybox=/bin/busybox
fi
[ -x "$busybox" ] || { echo "mkinitramfs: no busybox: install busybox-static" >&2; exit 1; }

# Rebuilt when /init or this recipe changed, by content: clones of the tree
# that share the cache may hold different versions of them.
key=$(cat "$here/initramfs-init" "$0" | sha256sum | cut -c1-16)
if [ -e "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/modules" "$tmp/proc" "$tmp/sys" "$tmp/dev"
cp "$busybox" "$tmp/bin/busybox"
cp "$here/initramfs-init" "$tmp/init"
chmod 755 "$tmp/init"

# modprobe prints "insmod PATH" for each module to load, dependencies first,
# and "builtin NAME" for what the kernel has built in (the debug kernel has
# them all built in: the list stays empty).
: > "$tmp/modules/order"
base=$(readlink -f "$kdir/modules")
base=${base%/lib/modules/"$rel"}
for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -d "$base" -S "$rel" --show-depends "$m"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
	name=$(basename "$ko")
	case $name in
	*.xz)	xz -dc "$ko" > "$tmp/modules/${name%.xz}"; name=${name%.xz} ;;
	*.zst)	zstd -qdc "$ko" > "$tmp/modules/${name%.zst}"; name=${name%.zst} ;;
	*)	cp "$ko" "$tmp/modules/$name" ;;
	esac
	echo "$name" >> "$tmp/modules/order"
done

(cd "$tmp" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$key" > "$out.key"
