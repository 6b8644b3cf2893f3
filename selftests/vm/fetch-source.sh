#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-source.sh CACHE
#
# Takes the few kernel source files the project uses at build time from
# Debian's linux-source-6.12 package into CACHE/src/ and prints that folder:
# the kselftest harness (tools/testing/selftests/kselftest{,_harness}.h) and
# checkpatch.pl with its data files. Nothing of them is copied into the tree.
set -euo pipefail

cache=${1:?usage: fetch-source.sh CACHE}
tarball=$(ls -1 /usr/src/linux-source-6.12.tar.xz 2>/dev/null || true)
[ -n "$tarball" ] || { echo "fetch-source: install linux-source-6.12" >&2; exit 1; }

dir=$cache/src/linux-source-6.12
stamp=$dir/.stamp
if [ -e "$stamp" ] && [ "$stamp" -nt "$tarball" ]; then
	echo "$dir"
	exit 0
fi
files=(
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
)
echo "fetch-source: extracting ${files[*]} from $tarball" >&2
rm -rf "$dir"
mkdir -p "$cache/src"
tar -xJf "$tarball" -C "$cache/src" "${files[@]/#/linux-source-6.12/}"
touch "$stamp"
echo "$dir"
