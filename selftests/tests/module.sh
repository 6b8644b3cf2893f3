#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's life: modprobe registers /sys/kernel/config/vcanbus, a bus
# can be made and removed there, rmmod takes the tree away again.
. "$(dirname "$0")/../lib/tap.sh"

plan 7
check "modprobe vcanbus" modprobe vcanbus
check "configfs subsystem registered" test -d "$CFS"
check "mkdir makes a bus" mkdir "$CFS/modtest"
check "rmmod refused while a bus exists" bash -c "! rmmod vcanbus 2>/dev/null"
check "rmdir removes the bus" rmdir "$CFS/modtest"
check "rmmod vcanbus" rmmod vcanbus
check "configfs subsystem gone" test ! -e "$CFS"
finish
