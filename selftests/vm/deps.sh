#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: installs the Debian packages the build and the tests need, when
# they are missing. Cheap when everything is there (dpkg-query only), so every
# entry point calls it.
set -euo pipefail

# libcpg-dev: vcanbridge --cpg. The other lib* of corosync's: the libraries
# of its daemon, which fetch-corosync.sh unpacks (not installs) for the
# corosync bridge test.
# libssl-dev: the newest kernel's build folder is made from its source
# (kdir-from-source.sh), whose sign-file needs it. sparse is built from
# Debian's newer source (build-sparse.sh): Debian 12's cannot read 7.x.
pkgs=(
	gcc gcc-12 make libc6-dev bc flex bison libelf-dev libssl-dev dwarves
	kmod cpio xz-utils zstd file
	qemu-system-x86 busybox-static
	linux-source-6.12 dkms
	can-utils iproute2 libsocketcan-dev libmnl-dev libmsgpack-dev libsystemd-dev systemd
	libcpg-dev libcfg7 libcmap4 libknet1 libnozzle1 libquorum5 libstatgrab10
	libvotequorum8
	pkg-config clang
	python3 python3-can python3-msgpack
	gnuplot-nox
	coreutils procps util-linux
)

missing=()
for p in "${pkgs[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
