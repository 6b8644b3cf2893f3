# SPDX-License-Identifier: GPL-2.0
# Shared by the host-side scripts: paths, the results file and its summary.
# shellcheck shell=bash

VCB_VM=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VCB_TOP=$(cd "$VCB_VM/../.." && pwd)
VCANBUS_CACHE=${VCANBUS_CACHE:-${HOME:-/var/cache}/.cache/vcanbus}
export VCANBUS_CACHE
# The kernel series every check runs on when KERNELS does not narrow them.
VCB_KERNELS="6.1 6.12 newest"

# Results: one line per check, "PASS|FAIL|SKIP <name> [detail]".
VCB_RESULTS=${VCB_RESULTS:-}

result() {
	local status=$1 name=$2
	shift 2
	printf '%s %s %s\n' "$status" "$name" "$*" >> "$VCB_RESULTS"
	case $status in
	FAIL)	printf 'not ok %s %s\n' "$name" "$*" ;;
	SKIP)	printf 'skip   %s %s\n' "$name" "$*" ;;
	*)	[ -n "${VCB_VERBOSE:-}" ] && printf 'ok     %s\n' "$name" ;;
	esac
	return 0
}

# results_begin / results_end: a script that also runs on its own (not under
# check.sh) keeps its results in a file of its own and prints the summary
# at the end; under check.sh both do nothing. "results_end quiet" only
# cleans up.
results_begin() {
	VCB_STANDALONE=
	[ -n "$VCB_RESULTS" ] && return
	VCB_STANDALONE=1
	VCB_RESULTS=$(mktemp)
}

results_end() {
	local rc=0
	[ -n "$VCB_STANDALONE" ] || return 0
	[ "${1:-}" = quiet ] || summary || rc=$?
	rm -f "$VCB_RESULTS"
	return $rc
}

# Prints the skips, then the closing line; exits non-zero on any failure.
summary() {
	local pass fail skip
	pass=$(grep -c '^PASS ' "$VCB_RESULTS" || true)
	fail=$(grep -c '^FAIL ' "$VCB_RESULTS" || true)
	skip=$(grep -c '^SKIP ' "$VCB_RESULTS" || true)
	if [ "$skip" -gt 0 ]; then
		echo "skipped (not counted as passed):"
		sed -n 's/^SKIP /  /p' "$VCB_RESULTS"
	fi
	if [ "$fail" -gt 0 ]; then
		echo "failed:"
		sed -n 's/^FAIL /  /p' "$VCB_RESULTS"
	fi
	# The closing line is always exactly "N passed, N failed" (CI reads it).
	[ "$skip" -eq 0 ] || echo "$skip skipped"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# kernel_rel SERIES: fetches or builds (once) and prints the kernel release;
# SERIES is 6.1, 6.12 or newest (Debian's: fetch-kernel.sh) or debug
# (build-debug-kernel.sh).
kernel_rel() {
	if [ "$1" = debug ]; then
		"$VCB_VM/build-debug-kernel.sh" "$VCANBUS_CACHE"
	else
		"$VCB_VM/fetch-kernel.sh" "$1" "$VCANBUS_CACHE"
	fi
}

kernel_dir() {
	echo "$VCANBUS_CACHE/kernels/$1"
}

# build_module REL [MAKE ARGS]: builds vcanbus.ko for REL into build/kmod/REL.
build_module() {
	local rel=$1
	shift
	make -s -C "$VCB_TOP" module KDIR="$(kernel_dir "$rel")/kdir" "$@"
}
