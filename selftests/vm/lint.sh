#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh checkpatch | sparse SERIES...
#
# checkpatch: checkpatch.pl --strict (from linux-source) over driver/.
# sparse:     a clean rebuild of the module per kernel with W=1 and C=1,
#             with the sparse of build-sparse.sh; any compiler or sparse
#             warning fails, and so does a kernel that refuses that sparse.
# Each prints one result line per check into VCB_RESULTS (or a summary).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

what=${1:?usage: lint.sh checkpatch|sparse [SERIES...]}
shift
results_begin
"$VCB_VM/deps.sh"

case $what in
checkpatch)
	src=$("$VCB_VM/fetch-source.sh" "$VCANBUS_CACHE")
	# Clean is exit status 0 and no report (checkpatch exits 1 when it
	# reports anything, and also when it cannot run).
	rc=0
	out=$(cd "$VCB_TOP" && perl "$src/scripts/checkpatch.pl" --no-tree \
		--strict --terse --show-types -f driver/*.c driver/*.h 2>&1) || rc=$?
	reports=$(grep -cE 'ERROR|WARNING|CHECK' <<< "$out" || true)
	if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then
		echo "$out"
		result FAIL "lint/checkpatch --strict" \
			"$reports reports, exit status $rc"
	else
		result PASS "lint/checkpatch --strict"
	fi
	;;
sparse)
	mkdir -p "$VCB_TOP/build"
	if ! sparse=$("$VCB_VM/build-sparse.sh" "$VCANBUS_CACHE"); then
		result FAIL "lint/sparse" "no sparse: build-sparse.sh failed"
		results_end
		exit 0
	fi
	for series in ${*:-$VCB_KERNELS}; do
		if ! rel=$(kernel_rel "$series"); then
			result FAIL "lint/$series: W=1 and sparse" "cannot fetch the $series kernel"
			continue
		fi
		log=$VCB_TOP/build/lint-$rel.log
		rm -rf "$VCB_TOP/build/kmod/$rel"
		# Since 7.0 the kernel tries the checker first and, when it
		# fails, builds without it, saying so in a make warning.
		if ! build_module "$rel" C=1 CHECK="$sparse" > "$log" 2>&1; then
			cat "$log"
			result FAIL "lint/$rel: W=1 and sparse" "build failed"
		elif grep -E 'warning:|error:|not available or not up to date' "$log"; then
			result FAIL "lint/$rel: W=1 and sparse" "warnings"
		else
			result PASS "lint/$rel: W=1 and sparse"
		fi
	done
	;;
*)
	echo "lint.sh: unknown check '$what'" >&2
	exit 2
	;;
esac
results_end
