#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fault confinement in wire timing: exact error counters, states, error
# frames and statistics; selftests/lib/errors.py says what is checked.
exec python3 "$(dirname "$0")/../lib/errors.py"
