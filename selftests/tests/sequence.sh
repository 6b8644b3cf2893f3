#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# can-utils' own check of ordering: two cansequence senders on qa and qb at
# once, cansequence receivers (which quit at the first wrong sequence
# number) for both streams on qc and for the other sender's stream on qa
# and qb; every node receives exactly all frames, and every receiver ends
# having read its whole stream in sequence. Twice: with the bus's delivery
# NAPI in softirq (the default) and in a kernel thread (threaded 1), where
# it runs on any CPU.
. "$(dirname "$0")/../lib/tap.sh"

frames=20000
bus=$CFS/seqtest
rmem=$(sysctl -n net.core.rmem_default)
pids=()

cleanup() {
	kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	sysctl -qw net.core.rmem_default="$rmem"
	rmdir "$bus"/* "$bus" 2>/dev/null
	rmmod vcanbus 2>/dev/null
}
trap cleanup EXIT

plan 26
modprobe vcanbus
# cansequence keeps the default receive buffer: make it deep enough that a
# receiver descheduled in a slow guest does not lose frames in its socket.
sysctl -qw net.core.rmem_default=$((16 << 20))

# receive NODE ID: a cansequence receiver in the background; it ends after
# the last frame of its stream, or at the first wrong sequence number.
receive() {
	cansequence -r --quit=1 --loop=$frames -i "$2" "$1" > "/tmp/seq-$1-$2.log" 2>&1 &
	pids+=($!)
}
# round THREADED: a new bus, its delivery threaded or not, and the run.
round() {
	mkdir "$bus"
	echo instant > "$bus/timing"
	refused "threaded refuses what is no boolean" "Invalid argument" \
		write "$bus/threaded" maybe
	check "threaded $1" write "$bus/threaded" "$1"
	expect_eq "threaded reads $1" "$1" "$(cat "$bus/threaded")"
	# Threaded, the bus's NAPI has a kernel thread, napi/<bus>-<id>.
	expect_eq "delivery threads" "$1" "$(pgrep -c '^napi/seqtest-')"
	for n in qa qb qc; do
		mkdir "$bus/$n"
		ip link set "$n" up
	done
	echo "# delivery threaded: $1"

	receive qc 0x10
	receive qc 0x20
	receive qa 0x20
	receive qb 0x10
	check "receivers bound" await_rcv qa qb qc

	cansequence -p -i 0x10 --loop=$frames qa > /dev/null &
	sa=$!
	cansequence -p -i 0x20 --loop=$frames qb > /dev/null &
	sb=$!
	wait $sa
	expect_eq "sender on qa done" 0 $?
	wait $sb
	expect_eq "sender on qb done" 0 $?

	check "qc received all $((2 * frames))" await bash -c \
		"[ \$(cat /sys/class/net/qc/statistics/rx_packets) = $((2 * frames)) ]"
	check "qa received all of qb's" await bash -c \
		"[ \$(cat /sys/class/net/qa/statistics/rx_packets) = $frames ]"
	check "qb received all of qa's" await bash -c \
		"[ \$(cat /sys/class/net/qb/statistics/rx_packets) = $frames ]"
	expect_eq "bus frames" $((2 * frames)) "$(cat "$bus/frames")"
	# Each receiver read every frame of its stream in sequence and ended.
	ended=0
	for p in "${pids[@]}"; do
		await bash -c "! kill -0 $p 2>/dev/null" && wait "$p" && ended=$((ended + 1))
	done
	pids=()
	expect_eq "all 4 receivers read their $frames frames in sequence" 4 $ended
	[ $ended = 4 ] || sed 's/^/# /' /tmp/seq-*.log
	check "no sequence error reported" bash -c "! grep -il 'sequence' /tmp/seq-*.log"
	rm -f /tmp/seq-*.log
	rmdir "$bus"/q? "$bus"
}

round 0
round 1
finish
