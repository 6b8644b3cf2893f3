// SPDX-License-Identifier: GPL-2.0
/*
 * The configfs tree: /sys/kernel/config/vcanbus/<bus>/<node>.
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "vcanbus.h"

struct vcanbus_bus_cfg {
	struct config_group group;
};

static void vcanbus_bus_release(struct config_item *item)
{
	kfree(container_of(to_config_group(item), struct vcanbus_bus_cfg, group));
}

static struct configfs_item_operations vcanbus_bus_item_ops = {
	.release	= vcanbus_bus_release,
};

static const struct config_item_type vcanbus_bus_type = {
	.ct_item_ops	= &vcanbus_bus_item_ops,
	.ct_owner	= THIS_MODULE,
};

static struct config_group *vcanbus_make_bus(struct config_group *group,
					     const char *name)
{
	struct vcanbus_bus_cfg *bus;

	bus = kzalloc(sizeof(*bus), GFP_KERNEL);
	if (!bus)
		return ERR_PTR(-ENOMEM);
	config_group_init_type_name(&bus->group, name, &vcanbus_bus_type);
	return &bus->group;
}

static struct configfs_group_operations vcanbus_root_group_ops = {
	.make_group	= vcanbus_make_bus,
};

static const struct config_item_type vcanbus_root_type = {
	.ct_group_ops	= &vcanbus_root_group_ops,
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem vcanbus_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= VCANBUS_NAME,
			.ci_type	= &vcanbus_root_type,
		},
	},
};

int vcanbus_configfs_init(void)
{
	config_group_init(&vcanbus_subsys.su_group);
	mutex_init(&vcanbus_subsys.su_mutex);
	return configfs_register_subsystem(&vcanbus_subsys);
}

void vcanbus_configfs_exit(void)
{
	configfs_unregister_subsystem(&vcanbus_subsys);
}
