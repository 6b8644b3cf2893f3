#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: what "make run" shows. Loads vcanbus (VCB_MODULE: a .ko to insmod
# instead of "modprobe vcanbus"), makes a bus and shows the configfs tree.
set -eu
cfs=/sys/kernel/config/vcanbus

if [ -n "${VCB_MODULE:-}" ]; then
	modprobe can-dev
	insmod "$VCB_MODULE"
else
	modprobe vcanbus
fi
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config

echo "\$ mkdir $cfs/bus0"
mkdir "$cfs/bus0"
echo "\$ find $cfs"
find "$cfs"
rmdir "$cfs/bus0"
rmmod vcanbus
