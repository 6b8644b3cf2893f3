#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Chaos under traffic: selftests/lib/chaos.py says what it does and checks.
# VCB_CHAOS_SECONDS (default 30; "make check-debug" runs 600) bounds it,
# VCB_CHAOS_SEED (default 1) fixes the controller's choices.
seconds=${VCB_CHAOS_SECONDS:-30}
seed=${VCB_CHAOS_SEED:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$(dirname "$0")/../lib/chaos.py" "$seed" "$seconds" "$work"
