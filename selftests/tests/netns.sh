#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nodes and network namespaces: a node is made in the namespace of the
# process that makes its directory, "ip link set ... netns" moves it and it
# stays on its bus, deleting a namespace gives its nodes back to the initial
# one (can-dev's netns_refund), where they still work and rmdir removes them.
. "$(dirname "$0")/../lib/tap.sh"

plan 38
modprobe vcanbus
bus=$CFS/nstest
bus2=$CFS/nstest2
nsx=vcb-nsx
nsy=vcb-nsy
tmp=$(mktemp -d)

cleanup() {
	jobs -p | xargs -r kill 2>/dev/null
	ip netns del "$nsx" 2>/dev/null
	ip netns del "$nsy" 2>/dev/null
	# Refunded nodes come back to the initial namespace asynchronously.
	for _ in $(seq 100); do
		rmdir "$bus"/* "$bus2"/* 2>/dev/null
		rmdir "$bus" "$bus2" 2>/dev/null
		[ -e "$bus" ] || [ -e "$bus2" ] || break
		sleep 0.05
	done
	rmmod vcanbus 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# in_ns NS CMD...: CMD in network namespace NS ("" is the initial one).
in_ns() {
	local ns=$1
	shift
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

# xfer TXNS TX RXNS RX FRAME: cansend FRAME on TX, prints what candump on RX
# got ("RX ID#DATA"), nothing if no frame came within 5 s.
xfer() {
	local txns=$1 tx=$2 rxns=$3 rx=$4 frame=$5 pid
	in_ns "$rxns" candump -n 1 -T 5000 -L "$rx" > "$tmp/dump" &
	pid=$!
	in_ns "$rxns" bash -c ". $(dirname "$0")/../lib/tap.sh; await_rcv $rx"
	in_ns "$txns" cansend "$tx" "$frame"
	wait "$pid"
	cut -d' ' -f2- "$tmp/dump"
}

check "mkdir bus" mkdir "$bus"
# Instant timing: a node alone on its bus still sends (no ACK needed).
echo instant > "$bus/timing"
check "ip netns add $nsx" ip netns add "$nsx"
check "ip netns add $nsy" ip netns add "$nsy"

# "ip netns exec" unshares the mount namespace and mounts a fresh sysfs on
# /sys, which has no configfs mounted at /sys/kernel/config: the vcanbus
# tree is not there. nsenter --net keeps the mount namespace (and configfs)
# and changes only the network namespace, which is what mkdir needs.
if ip netns exec "$nsx" test -d "$CFS"; then
	echo "# ip netns exec sees $CFS"
else
	echo "# ip netns exec does not see $CFS: using nsenter --net"
fi

# A node is born in the namespace of the mkdir.
check "mkdir node nx in $nsx" nsenter --net="/run/netns/$nsx" mkdir "$bus/nx"
check "nx is in $nsx" ip -n "$nsx" link show nx
check "nx is not in the initial netns" bash -c "! ip link show nx 2>/dev/null"
expect_eq "ifindex attribute is nx's in $nsx" \
	"$(ip netns exec "$nsx" cat /sys/class/net/nx/ifindex)" "$(cat "$bus/nx/ifindex")"

# A node moved to another namespace stays on its bus.
check "mkdir node n0" mkdir "$bus/n0"
check "mkdir node ny" mkdir "$bus/ny"
check "mkdir node nz" mkdir "$bus/nz"
check "ip link set ny netns $nsy" ip link set ny netns "$nsy"
check "ip link set nz netns $nsy" ip link set nz netns "$nsy"
check "ny is in $nsy" ip -n "$nsy" link show ny
check "ny left the initial netns" test ! -e /sys/class/net/ny
ip link set n0 up
ip -n "$nsx" link set nx up
ip -n "$nsy" link set ny up
expect_eq "$nsy/ny -> n0" "n0 123#DEADBEEF" "$(xfer "$nsy" ny "" n0 123#DEADBEEF)"
expect_eq "n0 -> $nsy/ny" "ny 456#0102030405060708" \
	"$(xfer "" n0 "$nsy" ny 456#0102030405060708)"
expect_eq "$nsy/ny -> $nsx/nx" "nx 1ABCDEF0#CAFE" \
	"$(xfer "$nsy" ny "$nsx" nx 1ABCDEF0#CAFE)"
expect_eq "$nsx/nx -> $nsy/ny" "ny 7FF#" "$(xfer "$nsx" nx "$nsy" ny 7FF#)"

# A node in another namespace: rmdir still removes it there.
check "ip link set n0 netns $nsx" ip link set n0 netns "$nsx"
check "rmdir n0 while in $nsx" rmdir "$bus/n0"
check "n0 gone from $nsx" bash -c "! ip -n $nsx link show n0 2>/dev/null"
check "mkdir node n0 again" mkdir "$bus/n0"
ip link set n0 up

# Deleting ny's namespace refunds ny and nz; nz's name is taken by then
# (a node of another bus), so it comes back under a name of the kernel's.
mkdir "$bus2"
echo instant > "$bus2/timing"
check "mkdir nz on another bus" mkdir "$bus2/nz"
nz_index=$(cat "$bus/nz/ifindex")
check "ip netns del $nsy" ip netns del "$nsy"
check "ny back in the initial netns" await test -e /sys/class/net/ny
nz_name=$(ip -o link show | awk -F': ' -v i="$nz_index" '$1 == i { print $2 }')
for _ in $(seq 100); do
	[ -n "$nz_name" ] && break
	sleep 0.05
	nz_index=$(cat "$bus/nz/ifindex")
	nz_name=$(ip -o link show | awk -F': ' -v i="$nz_index" '$1 == i { print $2 }')
done
check "nz back renamed dev<N> ($nz_name)" bash -c "[[ '$nz_name' =~ ^dev[0-9]+$ ]]"
check "ny is up again" ip link set ny up
ip link set "$nz_name" up
expect_eq "refunded ny -> n0" "n0 321#11223344" "$(xfer "" ny "" n0 321#11223344)"
expect_eq "n0 -> refunded ny" "ny 654#AA" "$(xfer "" n0 "" ny 654#AA)"
expect_eq "refunded nz ($nz_name) -> $nsx/nx" "nx 0AA#55" \
	"$(xfer "" "$nz_name" "$nsx" nx 0AA#55)"
# nz of the other bus does not hear it: the first frame candump on it shows
# is the one nz sends itself after it (its local echo).
ip link set nz up
candump -n 1 -T 5000 -L nz > "$tmp/dump" &
pid=$!
await_rcv nz
cansend "$nz_name" 0AA#55
cansend nz 0BB#66
wait "$pid"
expect_eq "nz of the other bus is not on this bus" "nz 0BB#66" "$(cut -d' ' -f2- "$tmp/dump")"

check "rmdir refunded ny" rmdir "$bus/ny"
check "netdev ny gone" test ! -e /sys/class/net/ny
check "rmdir renamed nz" rmdir "$bus/nz"
check "netdev $nz_name gone" test ! -e "/sys/class/net/$nz_name"

# The last namespace goes with a node up in it: back, then removed.
check "ip netns del $nsx" ip netns del "$nsx"
check "nx back in the initial netns" await test -e /sys/class/net/nx
rmdir "$bus/nx" "$bus/n0" "$bus2/nz" "$bus2" "$bus"
expect_eq "no node netdev left" "" \
	"$(netdevs 'n[0xyz]')"
trap - EXIT
cleanup
finish
