#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs vcanbridge's libFuzzer targets and reports them as TAP lines.
#
#   run.sh OUT SECONDS smoke|merge TARGET...
#
# Each $OUT/fuzz_TARGET runs for SECONDS on a copy of fuzz/corpus/TARGET, so
# that a smoke run leaves the tree alone; its output is in $OUT/fuzz_TARGET.log
# and a crashing input in $OUT/fuzz_TARGET-crash-*. In merge mode the inputs
# it found that reach new code are then merged into fuzz/corpus/TARGET.
set -euo pipefail

usage() {
	echo "usage: $0 OUT SECONDS smoke|merge TARGET..." >&2
	exit 2
}

[ $# -ge 4 ] || usage
case $3 in smoke|merge) ;; *) usage ;; esac
[[ $2 =~ ^[0-9]+$ ]] || usage

# OUT may be relative to where we were called from; the corpus is relative
# to userspace/, the parent of this script's directory.
out=$(cd "$1" && pwd)
secs=$2
mode=$3
shift 3
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..$#"
n=0
failed=0
for t in "$@"; do
	n=$((n + 1))
	log=$out/fuzz_$t.log
	corpus=$tmp/$t
	mkdir -p "$corpus"
	if [ -d "fuzz/corpus/$t" ]; then
		cp -R "fuzz/corpus/$t/." "$corpus/"
	fi
	start=$(date +%s)
	if "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4200 -print_final_stats=1 \
		-artifact_prefix="$out/fuzz_$t-" "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		echo "ok $n fuzz $t: ${runs:-?} runs in $(($(date +%s) - start)) s, no crash"
	else
		failed=$((failed + 1))
		echo "not ok $n fuzz $t: crash (see $log)"
		tail -n 30 "$log" | sed 's/^/# /'
		continue
	fi
	if [ "$mode" = merge ]; then
		mkdir -p "fuzz/corpus/$t"
		if ! "$out/fuzz_$t" -merge=1 "fuzz/corpus/$t" "$corpus" >>"$log" 2>&1; then
			failed=$((failed + 1))
			echo "# fuzz $t: merge into fuzz/corpus/$t failed (see $log)"
		fi
	fi
done
[ "$failed" -eq 0 ]
