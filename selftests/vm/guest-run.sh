#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh OUT: runs inside the test guest after switch_root (see
# initramfs-init). OUT is the host's result folder, mounted read-write at the
# same path; OUT/env says what to run. For each test it records, in OUT:
#   NAME.tap    the test's output      NAME.rc     its exit status
#   NAME.dmesg  the kernel log while it ran   NAME.secs  how long it took
# and OUT/current names the running test, so the host's watchdog can say
# which one hung. It powers the guest off at the end.
out=$1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
# The tests see OUT/env too (VCB_CHAOS_SECONDS and the like), and OUT
# itself, for logs worth keeping on the host.
export VCB_OUT=$out
set -a
# shellcheck source=/dev/null
. "$out/env"
set +a

poweroff_now() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 30
}
trap poweroff_now EXIT

# The host's /run holds the host's runtime state (netns, pid files): start
# empty. /tmp stays the host's (writable through the overlay): the project
# itself may live there, as in a CI clone.
mount -t tmpfs -o mode=0755 tmpfs /run
# POSIX shared memory, as every booted system has it (systemd mounts it):
# libqb's IPC between corosync and its clients (cpg.sh) keeps its rings
# there, and devtmpfs has no such folder.
mkdir -p /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
modprobe configfs 2>/dev/null
mount -t configfs configfs /sys/kernel/config
ip link set lo up
echo "$(uname -r) $(nproc) CPUs" > "$out/guest-info"

# A kernel with kmemleak (the debug kernel): forget what boot left behind,
# so the scan after the last test reports only what the tests leaked.
kmemleak=/sys/kernel/debug/kmemleak
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e "$kmemleak" ] && echo clear > "$kmemleak"

if [ "$VCB_MODE" = demo ]; then
	cd "$VCB_TOP" && bash selftests/demo.sh
	exit
fi

while read -r name path; do
	echo "$name" > "$out/current"
	dmesg -C
	start=$SECONDS
	(cd "$VCB_TOP" && timeout -k 10 "$VCB_TIMEOUT" "$path") \
		> "$out/$name.tap" 2>&1 < /dev/null
	echo $? > "$out/$name.rc"
	echo $((SECONDS - start)) > "$out/$name.secs"
	dmesg > "$out/$name.dmesg"
	# A test that failed half-way may leave its module behind.
	rmmod vcanbus 2>/dev/null
done < "$out/tests.list"

# kmemleak reports only objects older than 5 s, unreferenced in two scans.
if [ -e "$kmemleak" ]; then
	echo kmemleak > "$out/current"
	sleep 6
	echo scan > "$kmemleak"
	echo scan > "$kmemleak"
	cat "$kmemleak" > "$out/kmemleak.txt"
fi
echo done > "$out/current"
