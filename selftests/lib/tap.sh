# SPDX-License-Identifier: GPL-2.0
#
# TAP for the shell selftests, in the kselftest format the runner counts:
#   plan N; ok "what"; fail "what" "why"; skip "what" "why"; check "what" CMD...
#   finish (prints the totals, exits 1 on any failure, else 0).
# shellcheck shell=bash

_tap_n=0 _tap_pass=0 _tap_fail=0 _tap_skip=0

plan() { echo "TAP version 13"; echo "1..$1"; }

ok() {
	_tap_n=$((_tap_n + 1)) _tap_pass=$((_tap_pass + 1))
	echo "ok $_tap_n $1"
}

fail() {
	_tap_n=$((_tap_n + 1)) _tap_fail=$((_tap_fail + 1))
	echo "not ok $_tap_n $1"
	[ -n "${2:-}" ] && echo "# $2"
	return 0
}

skip() {
	_tap_n=$((_tap_n + 1)) _tap_skip=$((_tap_skip + 1))
	echo "ok $_tap_n $1 # SKIP ${2:-}"
}

# check WHAT CMD...: ok when CMD succeeds; its output is shown on failure.
check() {
	local what=$1 output
	shift
	if output=$("$@" 2>&1); then
		ok "$what"
	else
		fail "$what" "command: $* -> $(echo "$output" | tail -n 5 | tr '\n' ' ')"
	fi
}

# refused WHAT ERROR CMD...: CMD must fail with ERROR (strerror text) in
# its message, e.g. refused "bad value" "Invalid argument" write FILE VALUE.
refused() {
	local what=$1 error=$2 output
	shift 2
	if output=$("$@" 2>&1); then
		fail "$what" "command succeeded: $*"
	elif [[ $output != *"$error"* ]]; then
		fail "$what" "expected '$error', got: $output"
	else
		ok "$what"
	fi
}

# write FILE VALUE: one write(2) of VALUE, its error message on failure.
write() {
	(printf '%s' "$2" > "$1") 2>&1 | sed 's/.*: //' >&2
	return "${PIPESTATUS[0]}"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "expected '$2', got '$3'"
	fi
}

# await CMD...: polls CMD every 50 ms until it succeeds (10 s at most):
# a bounded wait for a condition, never a fixed sleep.
await() {
	for _ in $(seq 200); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# await_rcv DEV...: until each DEV has a bound CAN socket (a candump
# started); filtered sockets are in rcvlist_sff/_eff/_fil, not rcvlist_all.
await_rcv() {
	local dev
	for dev in "$@"; do
		await grep -q " $dev " /proc/net/can/rcvlist_all \
			/proc/net/can/rcvlist_sff /proc/net/can/rcvlist_eff \
			/proc/net/can/rcvlist_fil || return 1
	done
}

# kernel_at_least MAJOR MINOR: is the running kernel that release or later?
# For what the kernel's CAN stack changed: a test asserts the exact
# behaviour of the kernel it runs on.
kernel_at_least() {
	local rel major minor
	rel=$(uname -r)
	major=${rel%%.*}
	minor=${rel#*.}
	minor=${minor%%[!0-9]*}
	[ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }
}

# netdevs REGEX: the netdevs of this namespace whose whole name matches.
netdevs() {
	local d names=()
	for d in /sys/class/net/*; do
		[[ ${d##*/} =~ ^($1)$ ]] && names+=("${d##*/}")
	done
	echo "${names[*]}"
}

finish() {
	echo "# Totals: pass:$_tap_pass fail:$_tap_fail xfail:0 xpass:0 skip:$_tap_skip error:0"
	[ "$_tap_fail" -eq 0 ]
	exit $?
}

CFS=/sys/kernel/config/vcanbus
