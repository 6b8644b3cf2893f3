// SPDX-License-Identifier: GPL-2.0
/*
 * The configfs tree:
 *
 *   /sys/kernel/config/vcanbus/		mkdir <bus>
 *   /sys/kernel/config/vcanbus/<bus>/		mkdir <node>; timing; statistics
 *						frames, bits, busy_ns, arbitration_lost,
 *						errors; bit_error_ppm, seed (fault
 *						injection)
 *   /sys/kernel/config/vcanbus/<bus>/<node>/	ifindex, tx_mailboxes, tx_order,
 *						rx_hold, bus_off (fault injection)
 *
 * A node is created in the network namespace of the process that makes its
 * directory. Values that cannot change while a node is up answer -EBUSY,
 * values out of range -EINVAL; a refused write changes nothing.
 */
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "vcanbus.h"

static struct vcanbus_bus *to_vcanbus_bus(struct config_item *item)
{
	return container_of(to_config_group(item), struct vcanbus_bus, group);
}

static struct vcanbus_node *to_vcanbus_node(struct config_item *item)
{
	return container_of(to_config_group(item), struct vcanbus_node, group);
}

/* Finds @buf (one word, an optional newline) in @names; -EINVAL if absent. */
static int vcanbus_parse_word(const char *buf, const char *const *names,
			      unsigned int count)
{
	int i = __sysfs_match_string(names, count, buf);

	return i < 0 ? -EINVAL : i;
}

/* ---- node attributes ---- */

/*
 * Takes RTNL (which serialises ndo_open/ndo_stop) for a change that is only
 * allowed while the node is down: 0 with RTNL held, or -EBUSY without it.
 */
static int vcanbus_node_lock_down(struct vcanbus_node *node)
{
	rtnl_lock();
	if (netif_running(node->ndev)) {
		rtnl_unlock();
		return -EBUSY;
	}
	return 0;
}

static ssize_t vcanbus_node_ifindex_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_vcanbus_node(item)->ndev->ifindex));
}

static ssize_t vcanbus_node_tx_mailboxes_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", to_vcanbus_node(item)->tx_mailboxes);
}

static ssize_t vcanbus_node_tx_mailboxes_store(struct config_item *item,
					       const char *page, size_t len)
{
	struct vcanbus_node *node = to_vcanbus_node(item);
	unsigned int n;
	int err;

	err = kstrtouint(page, 0, &n);
	if (err)
		return err;
	if (n < 1 || n > VCANBUS_TX_MAILBOXES_MAX)
		return -EINVAL;

	err = vcanbus_node_lock_down(node);
	if (err)
		return err;
	node->tx_mailboxes = n;
	rtnl_unlock();
	return len;
}

static const char *const vcanbus_tx_order_names[] = {
	[VCANBUS_TX_FIFO]	= "fifo",
	[VCANBUS_TX_PRIORITY]	= "priority",
};

static ssize_t vcanbus_node_tx_order_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n",
			  vcanbus_tx_order_names[to_vcanbus_node(item)->tx_order]);
}

static ssize_t vcanbus_node_tx_order_store(struct config_item *item,
					   const char *page, size_t len)
{
	struct vcanbus_node *node = to_vcanbus_node(item);
	int order, err;

	order = vcanbus_parse_word(page, vcanbus_tx_order_names,
				   ARRAY_SIZE(vcanbus_tx_order_names));
	if (order < 0)
		return order;

	err = vcanbus_node_lock_down(node);
	if (err)
		return err;
	node->tx_order = order;
	rtnl_unlock();
	return len;
}

static ssize_t vcanbus_node_rx_hold_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_vcanbus_node(item)->rx_hold));
}

static ssize_t vcanbus_node_rx_hold_store(struct config_item *item,
					  const char *page, size_t len)
{
	bool hold;
	int err;

	err = kstrtobool(page, &hold);
	if (err)
		return err;
	vcanbus_node_set_rx_hold(to_vcanbus_node(item), hold);
	return len;
}

static ssize_t vcanbus_node_bus_off_show(struct config_item *item, char *page)
{
	struct vcanbus_node *node = to_vcanbus_node(item);

	return sysfs_emit(page, "%d\n",
			  READ_ONCE(node->can.state) == CAN_STATE_BUS_OFF);
}

/* Fault injection: "1" puts a running node bus-off; restart brings it back. */
static ssize_t vcanbus_node_bus_off_store(struct config_item *item,
					  const char *page, size_t len)
{
	struct vcanbus_node *node = to_vcanbus_node(item);
	bool off;
	int err;

	err = kstrtobool(page, &off);
	if (err)
		return err;
	if (!off)
		return -EINVAL;		/* leaving bus-off is a restart */
	vcanbus_bus_lock_bh(node->bus);
	if (!node->running)
		err = -ENETDOWN;
	else if (node->can.state != CAN_STATE_BUS_OFF)
		vcanbus_err_force_bus_off(node);
	/* The bus may have stalled on room in this node's queue. */
	if (!err)
		vcanbus_bus_run(node->bus);
	vcanbus_bus_unlock_bh(node->bus);
	return err ?: len;
}

CONFIGFS_ATTR_RO(vcanbus_node_, ifindex);
CONFIGFS_ATTR(vcanbus_node_, tx_mailboxes);
CONFIGFS_ATTR(vcanbus_node_, tx_order);
CONFIGFS_ATTR(vcanbus_node_, rx_hold);
CONFIGFS_ATTR(vcanbus_node_, bus_off);

static struct configfs_attribute *vcanbus_node_attrs[] = {
	&vcanbus_node_attr_ifindex,
	&vcanbus_node_attr_tx_mailboxes,
	&vcanbus_node_attr_tx_order,
	&vcanbus_node_attr_rx_hold,
	&vcanbus_node_attr_bus_off,
	NULL,
};

static void vcanbus_node_release(struct config_item *item)
{
	vcanbus_node_free(to_vcanbus_node(item));
}

static struct configfs_item_operations vcanbus_node_item_ops = {
	.release	= vcanbus_node_release,
};

const struct config_item_type vcanbus_node_type = {
	.ct_item_ops	= &vcanbus_node_item_ops,
	.ct_attrs	= vcanbus_node_attrs,
	.ct_owner	= THIS_MODULE,
};

/* ---- bus attributes ---- */

static const char *const vcanbus_timing_names[] = {
	[VCANBUS_TIMING_INSTANT]	= "instant",
	[VCANBUS_TIMING_WIRE]		= "wire",
};

static ssize_t vcanbus_bus_timing_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n",
			  vcanbus_timing_names[to_vcanbus_bus(item)->timing]);
}

/*
 * Applies a setting that needs every node of @bus down: -EBUSY if one is up.
 * Nodes open, stop, join and leave only under RTNL and the bus lock, so with
 * both held no node comes up while @set runs.
 */
static ssize_t vcanbus_bus_set_down(struct vcanbus_bus *bus,
				    void (*set)(struct vcanbus_bus *bus, int value),
				    int value, size_t len)
{
	struct vcanbus_node *node;
	ssize_t ret = len;

	rtnl_lock();
	vcanbus_bus_lock_bh(bus);
	list_for_each_entry(node, &bus->nodes, bus_list) {
		if (node->running) {
			ret = -EBUSY;
			break;
		}
	}
	if (ret > 0)
		set(bus, value);
	vcanbus_bus_unlock_bh(bus);
	rtnl_unlock();
	return ret;
}

static void vcanbus_bus_store_timing(struct vcanbus_bus *bus, int timing)
{
	vcanbus_bus_set_timing(bus, timing);
}

static ssize_t vcanbus_bus_timing_store(struct config_item *item,
					const char *page, size_t len)
{
	struct vcanbus_bus *bus = to_vcanbus_bus(item);
	int timing;

	timing = vcanbus_parse_word(page, vcanbus_timing_names,
				    ARRAY_SIZE(vcanbus_timing_names));
	if (timing < 0)
		return timing;
	return vcanbus_bus_set_down(bus, vcanbus_bus_store_timing, timing, len);
}

static const char *const vcanbus_rx_overflow_names[] = {
	[VCANBUS_RX_HOLD]	= "hold",
	[VCANBUS_RX_OVERRUN]	= "overrun",
};

static ssize_t vcanbus_bus_rx_overflow_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n", vcanbus_rx_overflow_names
			  [READ_ONCE(to_vcanbus_bus(item)->rx_overflow)]);
}

/* Under vcanbus_bus_set_down(): the receivers it applies to are all down. */
static void vcanbus_bus_set_rx_overflow(struct vcanbus_bus *bus, int policy)
{
	bus->rx_overflow = policy;
	bus->rx_overflow_set = true;
}

static ssize_t vcanbus_bus_rx_overflow_store(struct config_item *item,
					     const char *page, size_t len)
{
	struct vcanbus_bus *bus = to_vcanbus_bus(item);
	int policy;

	policy = vcanbus_parse_word(page, vcanbus_rx_overflow_names,
				    ARRAY_SIZE(vcanbus_rx_overflow_names));
	if (policy < 0)
		return policy;
	return vcanbus_bus_set_down(bus, vcanbus_bus_set_rx_overflow, policy, len);
}

/* Bus statistics: one u64 each, read under the lock. */
static ssize_t vcanbus_bus_stat_show(struct config_item *item, char *page,
				     size_t offset)
{
	struct vcanbus_bus *bus = to_vcanbus_bus(item);
	u64 value;

	vcanbus_bus_lock_bh(bus);
	value = *(u64 *)((char *)&bus->stats + offset);
	vcanbus_bus_unlock_bh(bus);
	return sysfs_emit(page, "%llu\n", value);
}

static ssize_t vcanbus_bus_frames_show(struct config_item *item, char *page)
{
	return vcanbus_bus_stat_show(item, page,
				     offsetof(struct vcanbus_bus_stats, frames));
}

static ssize_t vcanbus_bus_bits_show(struct config_item *item, char *page)
{
	return vcanbus_bus_stat_show(item, page,
				     offsetof(struct vcanbus_bus_stats, bits));
}

static ssize_t vcanbus_bus_busy_ns_show(struct config_item *item, char *page)
{
	return vcanbus_bus_stat_show(item, page,
				     offsetof(struct vcanbus_bus_stats, busy_ns));
}

static ssize_t vcanbus_bus_arbitration_lost_show(struct config_item *item, char *page)
{
	return vcanbus_bus_stat_show(item, page,
				     offsetof(struct vcanbus_bus_stats, arbitration_lost));
}

static ssize_t vcanbus_bus_errors_show(struct config_item *item, char *page)
{
	return vcanbus_bus_stat_show(item, page,
				     offsetof(struct vcanbus_bus_stats, errors));
}

static ssize_t vcanbus_bus_slipped_ns_show(struct config_item *item, char *page)
{
	return vcanbus_bus_stat_show(item, page,
				     offsetof(struct vcanbus_bus_stats, slipped_ns));
}

CONFIGFS_ATTR_RO(vcanbus_bus_, frames);
CONFIGFS_ATTR_RO(vcanbus_bus_, bits);
CONFIGFS_ATTR_RO(vcanbus_bus_, busy_ns);
CONFIGFS_ATTR_RO(vcanbus_bus_, arbitration_lost);
CONFIGFS_ATTR_RO(vcanbus_bus_, errors);
CONFIGFS_ATTR_RO(vcanbus_bus_, slipped_ns);

static ssize_t vcanbus_bus_bit_error_ppm_show(struct config_item *item,
					      char *page)
{
	return sysfs_emit(page, "%u\n",
			  READ_ONCE(to_vcanbus_bus(item)->wire.bit_error_ppm));
}

/* Fault injection: bit errors per million bits on the wire, 0..1000000. */
static ssize_t vcanbus_bus_bit_error_ppm_store(struct config_item *item,
					       const char *page, size_t len)
{
	struct vcanbus_bus *bus = to_vcanbus_bus(item);
	u32 ppm;
	int err;

	err = kstrtou32(page, 0, &ppm);
	if (err)
		return err;
	if (ppm > 1000000)
		return -EINVAL;
	vcanbus_bus_lock_bh(bus);
	bus->wire.bit_error_ppm = ppm;
	vcanbus_bus_unlock_bh(bus);
	return len;
}

static ssize_t vcanbus_bus_seed_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_vcanbus_bus(item)->wire.seed));
}

/* Restarts the bit-error sequence from @seed: the same errors again. */
static ssize_t vcanbus_bus_seed_store(struct config_item *item,
				      const char *page, size_t len)
{
	struct vcanbus_bus *bus = to_vcanbus_bus(item);
	u32 seed;
	int err;

	err = kstrtou32(page, 0, &seed);
	if (err)
		return err;
	vcanbus_bus_lock_bh(bus);
	vcanbus_wire_set_seed(bus, seed);
	vcanbus_bus_unlock_bh(bus);
	return len;
}

static ssize_t vcanbus_bus_threaded_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n",
			  vcanbus_rx_threaded(to_vcanbus_bus(item)));
}

/*
 * The bus's delivery NAPI in a kernel thread ("napi/<bus>-<id>") instead
 * of the softirq of the CPU that completed the frame; at any time.
 */
static ssize_t vcanbus_bus_threaded_store(struct config_item *item,
					  const char *page, size_t len)
{
	bool threaded;
	int err;

	err = kstrtobool(page, &threaded);
	if (err)
		return err;
	err = vcanbus_rx_set_threaded(to_vcanbus_bus(item), threaded);
	return err ?: len;
}

CONFIGFS_ATTR(vcanbus_bus_, timing);
CONFIGFS_ATTR(vcanbus_bus_, rx_overflow);
CONFIGFS_ATTR(vcanbus_bus_, bit_error_ppm);
CONFIGFS_ATTR(vcanbus_bus_, seed);
CONFIGFS_ATTR(vcanbus_bus_, threaded);

static struct configfs_attribute *vcanbus_bus_attrs[] = {
	&vcanbus_bus_attr_timing,
	&vcanbus_bus_attr_rx_overflow,
	&vcanbus_bus_attr_frames,
	&vcanbus_bus_attr_bits,
	&vcanbus_bus_attr_busy_ns,
	&vcanbus_bus_attr_arbitration_lost,
	&vcanbus_bus_attr_errors,
	&vcanbus_bus_attr_slipped_ns,
	&vcanbus_bus_attr_bit_error_ppm,
	&vcanbus_bus_attr_seed,
	&vcanbus_bus_attr_threaded,
	NULL,
};

static struct config_group *vcanbus_bus_make_node(struct config_group *group,
						  const char *name)
{
	struct vcanbus_node *node;

	node = vcanbus_node_create(to_vcanbus_bus(&group->cg_item), name,
				   current->nsproxy->net_ns);
	return IS_ERR(node) ? ERR_CAST(node) : &node->group;
}

static void vcanbus_bus_drop_node(struct config_group *group,
				  struct config_item *item)
{
	vcanbus_node_destroy(to_vcanbus_node(item));
	config_item_put(item);
}

static void vcanbus_bus_release(struct config_item *item)
{
	struct vcanbus_bus *bus = to_vcanbus_bus(item);

	/* No node is left, but the end of a cut-off frame may be pending. */
	vcanbus_bus_exit(bus);
	kfree(bus);
}

static struct configfs_item_operations vcanbus_bus_item_ops = {
	.release	= vcanbus_bus_release,
};

static struct configfs_group_operations vcanbus_bus_group_ops = {
	.make_group	= vcanbus_bus_make_node,
	.drop_item	= vcanbus_bus_drop_node,
};

static const struct config_item_type vcanbus_bus_type = {
	.ct_item_ops	= &vcanbus_bus_item_ops,
	.ct_group_ops	= &vcanbus_bus_group_ops,
	.ct_attrs	= vcanbus_bus_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct vcanbus_bus *vcanbus_bus_alloc(const char *name)
{
	struct vcanbus_bus *bus;

	bus = kzalloc(sizeof(*bus), GFP_KERNEL);
	if (!bus)
		return NULL;
	if (vcanbus_bus_init(bus, name)) {
		kfree(bus);
		return NULL;
	}
	config_group_init_type_name(&bus->group, name, &vcanbus_bus_type);
	return bus;
}

static struct config_group *vcanbus_make_bus(struct config_group *group,
					     const char *name)
{
	struct vcanbus_bus *bus = vcanbus_bus_alloc(name);

	return bus ? &bus->group : ERR_PTR(-ENOMEM);
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

/*
 * The bus and nodes of the "nodes" module parameter. They are the
 * module's, not the user's: they cannot be removed with rmdir and go away
 * with the module (unloading is refused while user-made directories exist).
 */
static struct vcanbus_bus *vcanbus_param_bus;
static struct vcanbus_node **vcanbus_param_nodes;
static unsigned int vcanbus_param_count;

static void vcanbus_param_destroy(void)
{
	while (vcanbus_param_count) {
		struct vcanbus_node *node = vcanbus_param_nodes[--vcanbus_param_count];

		configfs_unregister_group(&node->group);
		vcanbus_node_destroy(node);
		config_item_put(&node->group.cg_item);
	}
	kfree(vcanbus_param_nodes);
	vcanbus_param_nodes = NULL;
	if (vcanbus_param_bus) {
		configfs_unregister_group(&vcanbus_param_bus->group);
		config_item_put(&vcanbus_param_bus->group.cg_item);
		vcanbus_param_bus = NULL;
	}
}

static int vcanbus_param_create(unsigned int nodes)
{
	char name[IFNAMSIZ];
	int err;

	vcanbus_param_nodes = kcalloc(nodes, sizeof(*vcanbus_param_nodes), GFP_KERNEL);
	vcanbus_param_bus = vcanbus_bus_alloc("bus0");
	if (!vcanbus_param_nodes || !vcanbus_param_bus) {
		kfree(vcanbus_param_bus);
		vcanbus_param_bus = NULL;
		err = -ENOMEM;
		goto err_destroy;
	}
	err = configfs_register_group(&vcanbus_subsys.su_group, &vcanbus_param_bus->group);
	if (err) {
		kfree(vcanbus_param_bus);
		vcanbus_param_bus = NULL;
		goto err_destroy;
	}

	while (vcanbus_param_count < nodes) {
		struct vcanbus_node *node;

		snprintf(name, sizeof(name), "vcan%u", vcanbus_param_count);
		node = vcanbus_node_create(vcanbus_param_bus, name, &init_net);
		if (IS_ERR(node)) {
			err = PTR_ERR(node);
			goto err_destroy;
		}
		err = configfs_register_group(&vcanbus_param_bus->group, &node->group);
		if (err) {
			vcanbus_node_destroy(node);
			config_item_put(&node->group.cg_item);
			goto err_destroy;
		}
		vcanbus_param_nodes[vcanbus_param_count++] = node;
	}
	return 0;

err_destroy:
	pr_err("%s: cannot create bus0 with %u nodes: %d\n", VCANBUS_NAME, nodes, err);
	vcanbus_param_destroy();
	return err;
}

int vcanbus_configfs_init(unsigned int nodes)
{
	int err;

	config_group_init(&vcanbus_subsys.su_group);
	mutex_init(&vcanbus_subsys.su_mutex);
	err = configfs_register_subsystem(&vcanbus_subsys);
	if (err)
		return err;
	if (nodes) {
		err = vcanbus_param_create(nodes);
		if (err)
			goto err_unregister_subsystem;
	}
	return 0;

err_unregister_subsystem:
	configfs_unregister_subsystem(&vcanbus_subsys);
	return err;
}

void vcanbus_configfs_exit(void)
{
	vcanbus_param_destroy();
	configfs_unregister_subsystem(&vcanbus_subsys);
}
