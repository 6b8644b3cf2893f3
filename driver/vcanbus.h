/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcanbus: CAN controllers on an emulated, shared CAN bus.
 *
 * Objects: a bus (an emulated wire, a configfs group under
 * /sys/kernel/config/vcanbus/) holds nodes (each a candev, a configfs group
 * inside its bus).
 */
#ifndef _VCANBUS_H
#define _VCANBUS_H

#include <linux/configfs.h>

#include "compat.h"

#define VCANBUS_NAME "vcanbus"

/* configfs.c APIs: */
int vcanbus_configfs_init(void);
void vcanbus_configfs_exit(void);

#endif /* _VCANBUS_H */
