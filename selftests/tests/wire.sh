#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Wire timing: exact frame spacing and arbitration against the bit-level
# reference; selftests/lib/wire.py says how. VCB_WIRE_SEED (default 1)
# fixes the random frames.
exec python3 "$(dirname "$0")/../lib/wire.py"
