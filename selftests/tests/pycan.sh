#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# python-can (Debian's python3-can, socketcan interface) on vcanbus nodes:
# a sender sees its own echo (is_rx False) with the receivers' timestamp, a
# receiver gets the exact frame, Classical base and extended, and CAN FD with
# 64 bytes and bitrate switch between FD nodes; a node without FD does not
# take the FD frame off the bus. The python side is pycan_peer.py.
. "$(dirname "$0")/../lib/tap.sh"

plan 25
py=/usr/bin/python3
peer=$(dirname "$0")/pycan_peer.py
bus=$CFS/pycantest

cleanup() {
	rmdir "$bus"/* "$bus" 2>/dev/null
	rmmod vcanbus 2>/dev/null
}
trap cleanup EXIT

check "python-can importable" $py -c "import can"
modprobe vcanbus
check "mkdir bus with pa pb pc" mkdir "$bus" "$bus/pa" "$bus/pb" "$bus/pc"
write "$bus/timing" instant
ip link set pa up
ip link set pb up

# expect_lines WHAT OUTPUT EXPECTED...: one result per expected line.
expect_lines() {
	local what=$1 out=$2 i=1
	shift 2
	for want in "$@"; do
		expect_eq "$what: line $i" "$want" "$(sed -n "${i}p" <<< "$out")"
		i=$((i + 1))
	done
	expect_eq "$what: no more lines" "" "$(sed -n "${i},\$p" <<< "$out")"
}

out=$($py "$peer" classic pa pb 2>&1)
expect_eq "python-can Classical exchange exit status" 0 $?
expect_lines "Classical" "$out" \
	"pa echo id=123 ext=0 fd=0 brs=0 esi=0 rx=0 data=DEADBEEF01020304" \
	"pb rx id=123 ext=0 fd=0 brs=0 esi=0 rx=1 data=DEADBEEF01020304" \
	"pb stamps-equal=1" \
	"pa echo id=1ABCDEF0 ext=1 fd=0 brs=0 esi=0 rx=0 data=CAFE" \
	"pb rx id=1ABCDEF0 ext=1 fd=0 brs=0 esi=0 rx=1 data=CAFE" \
	"pb stamps-equal=1"

for n in pa pb; do
	ip link set "$n" down
	ip link set "$n" type can bitrate 500000 dbitrate 2000000 fd on
	ip link set "$n" up
done
check "pa and pb are FD" bash -c "ip -d link show pa | grep -q 'dbitrate 2000000' &&
	ip -d link show pb | grep -q 'dbitrate 2000000'"
ip link set pc up
fd64=$($py -c 'print(bytes(range(64)).hex().upper())')
out=$($py "$peer" fd pa pb --classic-only pc 2>&1)
expect_eq "python-can FD exchange exit status" 0 $?
expect_lines "FD" "$out" \
	"pa echo id=2AA ext=0 fd=1 brs=1 esi=0 rx=0 data=$fd64" \
	"pb rx id=2AA ext=0 fd=1 brs=1 esi=0 rx=1 data=$fd64" \
	"pb stamps-equal=1" \
	"pa echo id=7EE ext=0 fd=0 brs=0 esi=0 rx=0 data=AA55" \
	"pb rx id=7EE ext=0 fd=0 brs=0 esi=0 rx=1 data=AA55" \
	"pb stamps-equal=1" \
	"pc rx id=7EE ext=0 fd=0 brs=0 esi=0 rx=1 data=AA55"
expect_eq "pc (no FD) got only the marker" 1 "$(cat /sys/class/net/pc/statistics/rx_packets)"
expect_eq "pb rx_bytes: 8 + 2 + 64 + 2" 76 "$(cat /sys/class/net/pb/statistics/rx_bytes)"
expect_eq "pa tx_packets" 4 "$(cat /sys/class/net/pa/statistics/tx_packets)"

check "rmdir pa pb pc and the bus" rmdir "$bus/pa" "$bus/pb" "$bus/pc" "$bus"
trap - EXIT
check "rmmod vcanbus" rmmod vcanbus
finish
