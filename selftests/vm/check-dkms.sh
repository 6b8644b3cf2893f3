#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-dkms.sh SERIES...: "dkms add" and "dkms build" of the tree's
# dkms.conf against each cached kernel's headers, in a private dkms and
# source tree (the host's /usr/src and /var/lib/dkms are not touched).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

results_begin
"$VCB_VM/deps.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$VCB_TOP/dkms.conf")
src=$tmp/src/vcanbus-$ver
mkdir -p "$src" "$tmp/dkms"
cp -r "$VCB_TOP/dkms.conf" "$VCB_TOP/Kbuild" "$VCB_TOP/driver" "$src/"
dkms=(dkms --dkmstree "$tmp/dkms" --sourcetree "$tmp/src")
if ! "${dkms[@]}" add -m vcanbus -v "$ver" > "$tmp/add.log" 2>&1; then
	cat "$tmp/add.log"
	result FAIL "dkms/add" "dkms add failed"
	results_end
	exit 1
fi
for series in ${*:-$VCB_KERNELS}; do
	if ! rel=$(kernel_rel "$series"); then
		result FAIL "dkms/$series: dkms build" "cannot fetch the $series kernel"
		continue
	fi
	kdir=$(readlink -f "$(kernel_dir "$rel")/kdir")
	# dkms compresses the module as the kernel's own modules are, where
	# that kernel is installed on this host (6.12's: vcanbus.ko.xz).
	if "${dkms[@]}" build -m vcanbus -v "$ver" -k "$rel" \
			--kernelsourcedir "$kdir" > "$tmp/build.log" 2>&1 &&
	   compgen -G "$tmp/dkms/vcanbus/$ver/$rel/x86_64/module/vcanbus.ko*" > /dev/null; then
		result PASS "dkms/$rel: dkms build"
	else
		cat "$tmp/build.log"
		find "$tmp/dkms" -name make.log -exec tail -n 20 {} \;
		result FAIL "dkms/$rel: dkms build" "see the log above"
	fi
done
results_end
