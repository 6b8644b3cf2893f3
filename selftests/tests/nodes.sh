#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nodes are candevs made in configfs: creation, names, attributes and their
# refusals, can-dev's netlink (bitrate, FD, modes), cansend -> candump, the
# module parameter "nodes".
. "$(dirname "$0")/../lib/tap.sh"

plan 52
modprobe vcanbus
bus=$CFS/nodestest

check "mkdir bus" mkdir "$bus"
check "mkdir node na" mkdir "$bus/na"
check "mkdir node nb" mkdir "$bus/nb"
check "node is a CAN netdev" bash -c "ip -d link show na | grep -q 'link/can'"
expect_eq "ifindex attribute" "$(cat /sys/class/net/na/ifindex)" "$(cat "$bus/na/ifindex")"
check "ECHO flag set" bash -c "ip link show na | grep -q 'ECHO'"
check "up at once (preset bitrate)" ip link set na up
check "preset bitrate 500000" bash -c "ip -d link show na | grep -q 'bitrate 500000 sample-point 0.875'"
refused "bitrate refused while up" "Device or resource busy" \
	ip link set na type can bitrate 250000
ip link set na down
check "bitrate 250000 set" ip link set na type can bitrate 250000
check "ip -d shows bitrate 250000" bash -c "ip -d link show na | grep -q 'bitrate 250000'"
check "FD on with dbitrate" ip link set na type can bitrate 500000 dbitrate 4000000 fd on
check "ip -d shows dbitrate 4000000" bash -c "ip -d link show na | grep -q 'dbitrate 4000000'"
expect_eq "FD mtu" 72 "$(cat /sys/class/net/na/mtu)"
check "modes accepted" ip link set na type can loopback on listen-only on \
	one-shot on presume-ack on berr-reporting on fd-non-iso on cc-len8-dlc on
check "ip -d shows the modes" bash -c "ip -d link show na | grep -q \
'<LOOPBACK,LISTEN-ONLY,ONE-SHOT,BERR-REPORTING,FD,FD-NON-ISO,PRESUME-ACK,CC-LEN8-DLC>'"
check "modes off, FD off" ip link set na type can loopback off listen-only off \
	one-shot off presume-ack off berr-reporting off fd-non-iso off cc-len8-dlc off fd off
# The MTU follows the FD mode; other values are refused (6.1 needs the
# driver's ndo_change_mtu for that). Up to 6.18 "mtu 72" switches FD on
# (can_change_mtu), from 6.19 on only "fd on" does.
expect_eq "FD off: mtu 16" 16 "$(cat /sys/class/net/na/mtu)"
check "mtu 100 refused" bash -c "! ip link set na mtu 100 2>/dev/null"
if kernel_at_least 6 19; then
	check "mtu 72 refused (6.19 and later)" bash -c "! ip link set na mtu 72 2>/dev/null"
	check "... FD stays off" bash -c "! ip -d link show na | grep -q '<FD>'"
else
	check "mtu 72 switches FD on (up to 6.18)" ip link set na mtu 72
	check "... FD is on" bash -c "ip -d link show na | grep -q '<FD>' && ip link set na mtu 16"
fi
expect_eq "mtu 16 again, FD off" "16 0" \
	"$(cat /sys/class/net/na/mtu) $(ip -d link show na | grep -c '<FD>')"
check "restart-ms accepted" ip link set na type can restart-ms 100
check "ip -d shows restart-ms" bash -c "ip -d link show na | grep -q 'restart-ms 100'"

# tx_mailboxes / tx_order / timing: good values, bad values, busy.
check "tx_mailboxes 8" write "$bus/na/tx_mailboxes" 8
for bad in 0 65 abc -1 " "; do
	refused "tx_mailboxes '$bad' refused" "Invalid argument" \
		write "$bus/na/tx_mailboxes" "$bad"
done
expect_eq "tx_mailboxes unchanged by refusals" 8 "$(cat "$bus/na/tx_mailboxes")"
check "tx_order priority" write "$bus/na/tx_order" priority
refused "tx_order 'lifo' refused" "Invalid argument" write "$bus/na/tx_order" lifo
expect_eq "tx_order unchanged" priority "$(cat "$bus/na/tx_order")"
ip link set na up
refused "tx_mailboxes busy while up" "Device or resource busy" \
	write "$bus/na/tx_mailboxes" 4
refused "tx_order busy while up" "Device or resource busy" write "$bus/na/tx_order" fifo
refused "timing busy while a node is up" "Device or resource busy" write "$bus/timing" instant
expect_eq "default timing" wire "$(cat "$bus/timing")"
refused "timing 'fast' refused" "Invalid argument" write "$bus/timing" fast
refused "timing 'wire' busy while a node is up" "Device or resource busy" write "$bus/timing" wire

# Names: invalid, too long, taken in the namespace.
refused "name with % refused" "Invalid argument" mkdir "$bus/n%d"
refused "16-char name refused" "Invalid argument" mkdir "$bus/abcdefghijklmnop"
refused "taken netdev name refused" "File exists" mkdir "$bus/lo"
check "nothing left of refused names" bash -c "[ \$(ls -d $bus/*/ | wc -l) = 2 ]"
refused "bus with nodes refuses rmdir" "Directory not empty" rmdir "$bus"
ip link del na 2>/dev/null
check "ip link del leaves the node" test -e /sys/class/net/na

# A frame from na reaches nb (candump bound before cansend: await its socket).
ip link set nb up
candump -n 1 -L nb > /tmp/nodes.dump &
dump=$!
await_rcv nb
cansend na 123#DEADBEEF
wait $dump
check "candump on nb shows cansend on na" grep -q 'nb 123#DEADBEEF' /tmp/nodes.dump

check "rmdir node na" rmdir "$bus/na"
check "netdev na gone" test ! -e /sys/class/net/na
rmdir "$bus/nb" "$bus"

check "modprobe nodes=3 after rmmod" bash -c "rmmod vcanbus && modprobe vcanbus nodes=3"
expect_eq "bus0 has vcan0..2" "vcan0 vcan1 vcan2" "$(cd "$CFS/bus0" && echo vcan*)"
refused "parameter nodes refuse rmdir" "Operation not permitted" rmdir "$CFS/bus0/vcan0"
rmmod vcanbus
finish
