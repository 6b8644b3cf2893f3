#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lifecycle under traffic: down/up of a receiver and of the sender, rmdir of
# a receiver and of a sender, and rmmod, all while cangen floods the bus. The
# bus must deliver every frame to the receivers that stayed up, count what it
# aborted, leave no netdev behind, and keep working afterwards.
. "$(dirname "$0")/../lib/tap.sh"

plan 48
bus=$CFS/lctest
user=$CFS/lcuser
tmp=$(mktemp -d)
flood=""

cleanup() {
	[ -n "$flood" ] && kill -- "-$flood" 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	rmdir "$bus"/* "$user"/* 2>/dev/null
	rmdir "$bus" "$user" 2>/dev/null
	rmmod vcanbus 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

counter() { cat "/sys/class/net/$1/statistics/$2"; }

# flood_start DEV: cangen floods DEV in its own process group ($flood),
# started again whenever it stops (it exits when DEV goes down).
flood_start() {
	setsid bash -c "while :; do
		cangen $1 -g 0 -I i -L 8 -D i -x -i 2>/dev/null
		sleep 0.01
	done" &
	flood=$!
}

flood_stop() {
	kill -- "-$flood"
	wait "$flood" 2>/dev/null
	flood=""
}

# ---- down/up and rmdir while cangen floods ----

modprobe vcanbus
check "mkdir bus with la lb lc ld" mkdir "$bus" "$bus/la" "$bus/lb" "$bus/lc" "$bus/ld"
# Instant timing: delivery as soon as a frame is sent.
write "$bus/timing" instant
for n in la lb lc ld; do ip link set "$n" up; done
candump -D -L lb > /dev/null 2>&1 &
candump -L lc > /dev/null 2>&1 &
candump -L ld > /dev/null 2>&1 &
dump_ld=$!
await_rcv lb lc ld
flood_start la
check "traffic flows" await bash -c \
	"[ \$(cat /sys/class/net/lc/statistics/rx_packets) -gt 100 ]"
echo "# ${SECONDS}s: flooding"

# cycle WHAT DEV RX: DEV down and up 20 times under traffic, then RX must
# receive more than 100 further frames.
cycle() {
	local what=$1 dev=$2 rx=$3 ok=1 before
	for _ in $(seq 20); do
		ip link set "$dev" down && ip link set "$dev" up || ok=0
	done
	echo "# ${SECONDS}s"
	expect_eq "$what $dev down/up 20 times under traffic" 1 $ok
	before=$(counter "$rx" rx_packets)
	check "$rx receives after $dev's down/up" await bash -c \
		"[ \$(cat /sys/class/net/$rx/statistics/rx_packets) -gt $((before + 100)) ]"
}

cycle receiver lb lb
cycle sender la lc

# The bus's delivery NAPI from softirq to a thread and back, 20 times
# under traffic: lc must still get every frame (counted below).
ok=1
for _ in $(seq 20); do
	write "$bus/threaded" 1 && write "$bus/threaded" 0 || ok=0
done
expect_eq "delivery threaded on/off 20 times under traffic" 1 $ok
before=$(counter lc rx_packets)
check "lc receives after the switches" await bash -c \
	"[ \$(cat /sys/class/net/lc/statistics/rx_packets) -gt $((before + 100)) ]"

echo "# ${SECONDS}s"
check "rmdir receiver ld under traffic" rmdir "$bus/ld"
check "netdev ld gone" test ! -e /sys/class/net/ld
check "ld's configfs directory gone" test ! -e "$bus/ld"
check "candump on ld ended" await bash -c "! kill -0 $dump_ld 2>/dev/null"
before=$(counter lc rx_packets)
check "traffic flows after rmdir ld" await bash -c \
	"[ \$(cat /sys/class/net/lc/statistics/rx_packets) -gt $((before + 100)) ]"

echo "# ${SECONDS}s"
# Stop the traffic for good; lc was up throughout: it got every frame the
# bus completed, all la's.
flood_stop
check "lc delivered all it got" await bash -c "[ \$(cat /sys/class/net/lc/statistics/rx_packets) = \
\$(cat /sys/class/net/la/statistics/tx_packets) ]"
expect_eq "bus frames = la tx_packets" "$(counter la tx_packets)" "$(cat "$bus/frames")"
expect_eq "lc rx_dropped" 0 "$(counter lc rx_dropped)"
expect_eq "lb rx_dropped" 0 "$(counter lb rx_dropped)"
# Every frame la's down/up cycles cut off was aborted and counted as an
# error: la's queue held nothing else.
expect_eq "la tx_errors = tx_aborted_errors" \
	"$(counter la tx_aborted_errors)" "$(counter la tx_errors)"
echo "# la: tx_packets $(counter la tx_packets) tx_aborted_errors $(counter la tx_aborted_errors)" \
	"tx_dropped $(counter la tx_dropped); lb rx_packets $(counter lb rx_packets)"
expect_eq "lb tx_errors tx_aborted_errors" "0 0" \
	"$(counter lb tx_errors) $(counter lb tx_aborted_errors)"

# Known counts: with lc held (its queue empty now), the bus completes
# exactly a queue's length of la's frames and la's 4 mailboxes fill; la
# going down aborts exactly those 4.
tx=$(counter la tx_packets) aborted=$(counter la tx_aborted_errors)
errors=$(counter la tx_errors)
write "$bus/lc/rx_hold" 1
cangen la -g 0 -n 1100 -i > /dev/null 2>&1
check "1024 frames completed, then held back" await bash -c \
	"[ \$(cat /sys/class/net/la/statistics/tx_packets) = $((tx + 1024)) ]"
ip link set la down
expect_eq "la down aborts its 4 full mailboxes, counted as errors" "1024 4 4" \
	"$(($(counter la tx_packets) - tx)) $(($(counter la tx_aborted_errors) - aborted)) $(($(counter la tx_errors) - errors))"
write "$bus/lc/rx_hold" 0
check "lc then gets the 1024" await bash -c "[ \$(cat /sys/class/net/lc/statistics/rx_packets) = \
\$(cat /sys/class/net/la/statistics/tx_packets) ]"

# A sending node removed while it floods.
check "mkdir sender le" mkdir "$bus/le"
ip link set le up
flood_start le
before=$(counter lc rx_packets)
check "le's traffic flows" await bash -c \
	"[ \$(cat /sys/class/net/lc/statistics/rx_packets) -gt $((before + 100)) ]"
check "rmdir sender le under traffic" rmdir "$bus/le"
check "netdev le gone" test ! -e /sys/class/net/le
flood_stop

# The nodes left exchange frames exactly.
ip link set la up
jobs -p | xargs -r kill 2>/dev/null
wait 2>/dev/null
candump -n 1 -T 5000 -L lb > "$tmp/lb" &
p1=$!
candump -n 1 -T 5000 -L lc > "$tmp/lc" &
p2=$!
await_rcv lb lc
cansend la 5A5#0011223344556677
wait $p1 $p2
expect_eq "la -> lb after the storm" "lb 5A5#0011223344556677" "$(cut -d' ' -f2- "$tmp/lb")"
expect_eq "la -> lc after the storm" "lc 5A5#0011223344556677" "$(cut -d' ' -f2- "$tmp/lc")"
candump -n 1 -T 5000 -L la > "$tmp/la" &
p1=$!
await_rcv la
cansend lc 1FFFFFFF#C0FFEE
wait $p1
expect_eq "lc -> la after the storm" "la 1FFFFFFF#C0FFEE" "$(cut -d' ' -f2- "$tmp/la")"

check "rmdir la lb lc and the bus" rmdir "$bus/la" "$bus/lb" "$bus/lc" "$bus"
expect_eq "no netdev of a removed node" "" \
	"$(netdevs 'l[a-e]')"
check "rmmod vcanbus" rmmod vcanbus

echo "# ${SECONDS}s"
# ---- rmmod: refused while a user bus exists, done while frames flow ----

check "modprobe vcanbus nodes=3" modprobe vcanbus nodes=3
check "mkdir a user bus and node" mkdir "$user" "$user/lu"
refused "rmmod refused while a user bus exists" "in use" rmmod vcanbus
check "module still loaded" test -d /sys/module/vcanbus
expect_eq "bus0 unchanged" "vcan0 vcan1 vcan2" "$(cd "$CFS/bus0" && echo vcan*)"
expect_eq "netdevs unchanged" "lu vcan0 vcan1 vcan2" \
	"$(netdevs 'lu|vcan[0-9]+')"
check "rmdir the user bus" rmdir "$user/lu" "$user"

for n in vcan0 vcan1 vcan2; do ip link set "$n" up; done
# rmmod with the delivery's kernel thread polling too.
check "bus0's delivery threaded" write "$CFS/bus0/threaded" 1
candump -L vcan1 > /dev/null 2>&1 &
dump=$!
await_rcv vcan1
cangen vcan0 -g 0 -I i -L 8 -D i -x -i > /dev/null 2>&1 &
gen=$!
check "frames flow vcan0 -> vcan1" await bash -c \
	"[ \$(cat /sys/class/net/vcan1/statistics/rx_packets) -gt 100 ]"
echo "# ${SECONDS}s"
check "rmmod vcanbus while frames flow" rmmod vcanbus
check "module gone" test ! -e /sys/module/vcanbus
expect_eq "no vcan0..2 left" "" "$(netdevs 'vcan[0-9]+')"
check "cangen ended by itself" await bash -c "! kill -0 $gen 2>/dev/null"
check "candump ended by itself" await bash -c "! kill -0 $dump 2>/dev/null"
wait $gen
expect_eq "cangen exit status (write failed)" 1 $?
wait $dump
expect_eq "candump exit status (read failed)" 1 $?
trap - EXIT
cleanup
finish
