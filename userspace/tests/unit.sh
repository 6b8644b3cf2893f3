#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# unit.sh OUT: the systemd unit and generator as "make install" writes them,
# for an install under a temporary prefix. TAP.
#  1. systemd-analyze verify finds nothing in the unit (a bad directive is
#     only a warning there, so any output fails), ExecStart has the prefix;
#  2. the generator writes, per /etc/default/vcanbridge-<interface>, the
#     IPAddressAllow= of its options: exact drop-ins for a hub with
#     --allow, a unicast peer, a group open to anyone; none for a hub on
#     loopback (localhost is the unit's) or a name that does not resolve
#     (said why).
set -eu
out=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "TAP version 13"
echo "1..2"
fail=0
make -s OUT="$out" install PREFIX="$dir" UNITDIR="$dir/units" GENDIR="$dir/gen"
report=$(systemd-analyze verify --man=no "$dir/units/vcanbridge@.service" 2>&1) || true
if [ -z "$report" ] && grep -q "^ExecStart=$dir/bin/vcanbridge " "$dir/units/vcanbridge@.service"; then
	echo "ok 1 - systemd unit: installed with its prefix, verified clean"
else
	echo "not ok 1 - systemd unit: installed with its prefix, verified clean"
	echo "$report" | sed 's/^/# /'
	fail=1
fi

mkdir "$dir/default" "$dir/normal"
echo 'VCANBRIDGE_OPTS="--tcp-listen 10.0.0.3:20000 --allow 10.0.0.0/24 --allow fd00::/8"' \
	> "$dir/default/vcanbridge-vcan0"
printf '# a comment\nVCANBRIDGE_OPTS=--udp cannelloni,peer=10.0.0.2\n' > "$dir/default/vcanbridge-vcan1"
echo "VCANBRIDGE_OPTS='--udp pycan'" > "$dir/default/vcanbridge-vcan2"
echo 'VCANBRIDGE_OPTS="--tcp-listen 20000"' > "$dir/default/vcanbridge-vcan3"
echo 'VCANBRIDGE_OPTS="--tcp-connect nosuch.invalid:20000"' > "$dir/default/vcanbridge-vcan4"
said=$(VCANBRIDGE_DEFAULTS="$dir/default" "$dir/gen/vcanbridge-generator" \
	"$dir/normal" "$dir/early" "$dir/late" 2>&1 </dev/null) || true
got=$(cd "$dir/normal" && for f in */*; do echo "$f: $(grep '^IPAddressAllow=' "$f")"; done)
want="vcanbridge@vcan0.service.d/50-ip-allow.conf: IPAddressAllow=10.0.0.0/24 fd00::/8
vcanbridge@vcan1.service.d/50-ip-allow.conf: IPAddressAllow=10.0.0.2/32
vcanbridge@vcan2.service.d/50-ip-allow.conf: IPAddressAllow=any"
if [ "$got" = "$want" ] && echo "$said" | grep -q "vcanbridge@vcan4: IPAddressAllow left at localhost: .*nosuch.invalid"; then
	echo "ok 2 - systemd generator: IPAddressAllow= from each interface's options"
else
	echo "not ok 2 - systemd generator: IPAddressAllow= from each interface's options"
	printf 'got:\n%s\nwant:\n%s\nsaid: %s\n' "$got" "$want" "$said" | sed 's/^/# /'
	fail=1
fi
exit $fail
