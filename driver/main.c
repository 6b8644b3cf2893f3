// SPDX-License-Identifier: GPL-2.0
/*
 * vcanbus: module init and exit, in dependency order.
 */
#include <linux/module.h>

#include "vcanbus.h"

static unsigned int nodes;
module_param(nodes, uint, 0444);
MODULE_PARM_DESC(nodes, "Create bus0 with this many nodes vcan0.. at load (default 0)");

static int __init vcanbus_init(void)
{
	int err;

	err = vcanbus_wire_module_init();
	if (err)
		return err;
	err = vcanbus_configfs_init(nodes);
	if (err)
		vcanbus_wire_module_exit();
	return err;
}

static void __exit vcanbus_exit(void)
{
	vcanbus_configfs_exit();
	vcanbus_wire_module_exit();
}

module_init(vcanbus_init);
module_exit(vcanbus_exit);

MODULE_DESCRIPTION("Virtual CAN controllers on an emulated shared CAN bus");
MODULE_LICENSE("GPL");
