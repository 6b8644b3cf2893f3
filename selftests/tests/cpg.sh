#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vcanbridge --cpg: three hosts, each with its own corosync, one order of
# frames; a corosync killed and started again. selftests/lib/cpg.py says
# what is checked.
exec python3 "$(dirname "$0")/../lib/cpg.py"
