#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: everything "make check" proves, counted together:
#   lint (checkpatch --strict; W=1 and sparse per kernel), driver and userspace unit
#   tests on the host, dkms builds, a test of the VM runner itself, and the
#   selftests in QEMU per kernel (6.1, 6.12 and the newest Debian kernel).
# Ends with the line "N passed, N failed" over all of them.
# KERNELS and TESTS (environment) narrow the VM part.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"

kernels=${KERNELS:-$VCB_KERNELS}
VCB_RESULTS=$(mktemp)
export VCB_RESULTS
trap 'rm -f "$VCB_RESULTS"' EXIT

"$VCB_VM/deps.sh" || { echo "0 passed, 1 failed"; exit 1; }

# tap_results PREFIX LOG: each "ok N what" / "not ok N what" line of LOG
# is a result named "PREFIX: what".
tap_results() {
	local line
	while IFS= read -r line; do
		case $line in
		"not ok "*)	line=${line#not ok }; result FAIL "$1: ${line#[0-9]* }" ;;
		"ok "*)		line=${line#ok }; result PASS "$1: ${line#[0-9]* }" ;;
		esac
	done < <(grep -E '^(not )?ok ' "$2" || true)
}

echo "== lint"
"$VCB_VM/lint.sh" checkpatch
"$VCB_VM/lint.sh" sparse $kernels

echo "== userspace unit tests"
if ! make -s -C "$VCB_TOP/userspace" check > "$VCB_TOP/build/unit.log" 2>&1; then
	cat "$VCB_TOP/build/unit.log"
	result FAIL "userspace/unit" "make -C userspace check failed"
fi
tap_results userspace "$VCB_TOP/build/unit.log"

echo "== driver unit tests on the host"
# driver/frame.c against the bit-level reference, which checks itself first
# against published frames and canbusload -e.
if python3 "$VCB_TOP/selftests/lib/canbits.py" --selftest > "$VCB_TOP/build/canbits.log" 2>&1; then
	result PASS "unit: canbits.py reference self-test"
else
	tail -n 20 "$VCB_TOP/build/canbits.log"
	result FAIL "unit: canbits.py reference self-test"
fi
make -s -C "$VCB_TOP/selftests" unit > "$VCB_TOP/build/unit-driver.log" 2>&1
tap_results unit "$VCB_TOP/build/unit-driver.log"
if ! grep -q '^ok ' "$VCB_TOP/build/unit-driver.log" ||
   grep -q '^not ok' "$VCB_TOP/build/unit-driver.log"; then
	cat "$VCB_TOP/build/unit-driver.log"
	grep -q '^ok \|^not ok' "$VCB_TOP/build/unit-driver.log" ||
		result FAIL "unit: driver unit tests" "no result"
fi

echo "== dkms"
"$VCB_VM/check-dkms.sh" $kernels

echo "== the VM runner on a host that has the guest kernel's package installed"
# The guest's root already holds a module folder of the guest kernel's
# release: modprobe must still find the module the runner built. One kernel
# is enough: initramfs-init does the same for every one.
read -r first _ <<< "$kernels"
"$VCB_VM/run.sh" --decoy-moddir --kernels "$first" --tests module

echo "== selftests in QEMU"
"$VCB_VM/run.sh" --kernels "$kernels" --tests "${TESTS:-}"

summary
