#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vcanbridge between network namespaces, over UDP (python-can's and
# cannelloni's formats) and TCP (cannelloni's protocol), with python-can as
# a peer; selftests/lib/bridge.py says what is checked.
exec python3 "$(dirname "$0")/../lib/bridge.py"
