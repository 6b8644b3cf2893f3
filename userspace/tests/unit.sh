#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# unit.sh OUT: the systemd unit as "make install" writes it, for an install
# under a temporary prefix: systemd-analyze verify must find nothing in it
# (a bad directive is only a warning there, so any output fails). TAP.
set -eu
out=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "TAP version 13"
echo "1..1"
make -s OUT="$out" install PREFIX="$dir" UNITDIR="$dir/units"
report=$(systemd-analyze verify --man=no "$dir/units/vcanbridge@.service" 2>&1) || true
if [ -z "$report" ] && grep -q "^ExecStart=$dir/bin/vcanbridge " "$dir/units/vcanbridge@.service"; then
	echo "ok 1 - systemd unit: installed with its prefix, verified clean"
else
	echo "not ok 1 - systemd unit: installed with its prefix, verified clean"
	echo "$report" | sed 's/^/# /'
	exit 1
fi
