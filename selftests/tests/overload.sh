#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Buses whose frames cost more CPU than their time on the wire (lone nodes
# retrying at 1/8 Mbit/s, a bus-off storm): the machine stays responsive;
# selftests/lib/overload.py says how.
exec python3 "$(dirname "$0")/../lib/overload.py"
