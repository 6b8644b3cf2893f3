#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-corosync.sh CACHE DEST
#
# Unpacks Debian's corosync package (the daemon, for the corosync bridge
# test in the guest) into DEST: DEST/usr/sbin/corosync. Unpacked with
# dpkg-deb, never installed: installing it would start a cluster daemon on
# the host. Its libraries are ordinary packages (deps.sh). The .deb is
# kept in CACHE/debs and reused when the archive cannot be reached; the
# version follows the archive at every run. Nothing to unpack (no package,
# no network, no cached .deb) is not an error: the test then skips, saying
# why.
set -euo pipefail

usage="usage: fetch-corosync.sh CACHE DEST"
cache=${1:?$usage}
dest=${2:?$usage}
log() { echo "fetch-corosync: $*" >&2; }

ver=$(apt-cache policy corosync 2>/dev/null | awk '/Candidate:/ { print $2 }')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	log "apt knows no corosync package: the corosync test will skip"
	exit 0
fi
[ -x "$dest/usr/sbin/corosync" ] && [ "$(cat "$dest/version" 2>/dev/null)" = "$ver" ] &&
	exit 0
mkdir -p "$cache/debs"
deb=$(ls "$cache"/debs/corosync_"${ver//:/%3a}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	# As root, apt's download sandbox user cannot write here: no sandbox.
	if ! (cd "$cache/debs" && apt-get -qq download -o APT::Sandbox::User=root \
		"corosync=$ver" >&2); then
		log "cannot download corosync $ver: the corosync test will skip"
		exit 0
	fi
	deb=$(ls "$cache"/debs/corosync_"${ver//:/%3a}"_*.deb | head -n 1)
fi
rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
echo "$ver" > "$dest/version"
log "corosync $ver unpacked in $dest"
