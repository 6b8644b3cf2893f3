#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: what "make run" shows: a bus (wire timing, the default) with two
# nodes made in configfs, set up with ip link like any CAN controller,
# candump on one node showing what cansend and cangen write on the other,
# with the bus's own count of frames, bits and busy time. VCB_MODULE: a .ko to insmod
# instead of "modprobe vcanbus".
set -eu
cfs=/sys/kernel/config/vcanbus

say() { printf '\n$ %s\n' "$*"; "$@"; }

if [ -n "${VCB_MODULE:-}" ]; then
	modprobe can-dev
	insmod "$VCB_MODULE"
else
	modprobe vcanbus
fi
modprobe can-raw
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config

say mkdir "$cfs/bus0"
say cat "$cfs/bus0/timing"
say mkdir "$cfs/bus0/vcan0" "$cfs/bus0/vcan1"
# Wire timing: every node on the bus runs at the same bit rate.
say ip link set vcan0 type can bitrate 250000
say ip link set vcan1 type can bitrate 250000
say ip link set vcan0 up
say ip link set vcan1 up
say ip -details link show vcan0

printf '\n$ candump -t A vcan1 > /tmp/vcan1.log &   (shown below)\n'
candump -t A -n 7 vcan1 > /tmp/vcan1.log &
dump=$!
# Start sending once candump's socket is bound.
for _ in $(seq 100); do grep -q ' vcan1 ' /proc/net/can/rcvlist_all && break; sleep 0.05; done
say cansend vcan0 123#DEADBEEF
say cansend vcan0 1F334455#1122334455667788
say cansend vcan0 042#R
say cangen vcan0 -n 4 -I i -L 4 -D i -g 1
wait "$dump"
printf '\n$ cat /tmp/vcan1.log   (candump on vcan1)\n'
cat /tmp/vcan1.log

say ip -statistics link show vcan0
say grep . "$cfs/bus0/frames" "$cfs/bus0/bits" "$cfs/bus0/busy_ns"

rmdir "$cfs/bus0/vcan1" "$cfs/bus0/vcan0" "$cfs/bus0"
rmmod vcanbus
