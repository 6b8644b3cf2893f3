#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Seeded random input to configfs and to CAN sockets on nodes:
# selftests/lib/fuzz.py says what it does and checks. VCB_FUZZ_SECONDS
# (default 15 per part; "make check-debug" runs 120) bounds it,
# VCB_FUZZ_SEED (default 1) fixes the input.
exec python3 "$(dirname "$0")/../lib/fuzz.py" "${VCB_FUZZ_SEED:-1}" "${VCB_FUZZ_SECONDS:-15}"
