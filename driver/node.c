// SPDX-License-Identifier: GPL-2.0
/*
 * A node: the candev. Bit timing, modes and restart through can-dev's
 * netlink (ip link ... type can ...), transmit into the bus; what it
 * receives goes to the stack through the bus's delivery (rx.c).
 */
#include <linux/can/skb.h>
#include <linux/ethtool.h>
#include <linux/module.h>
#include <net/net_namespace.h>

#include "vcanbus.h"

/*
 * An emulated controller with the bit-timing ranges of the common CAN FD
 * IP cores, so that "bitrate" and "dbitrate" from 10 kbit/s to 1 and
 * 8 Mbit/s are computed by can-dev as on hardware. Its clock is 40 MHz,
 * as theirs, where it cannot be an XL controller; where it can, 160 MHz,
 * as Bosch's X_CAN and can-dev's dummy_can have: at 40 MHz a 20 Mbit/s XL
 * data phase would be 2 time quanta, less than any bit can be, and 10
 * Mbit/s 4, too few for a sample point or PWM symbols. The presets below
 * are the same bit timings with either clock (a 25 ns time quantum).
 */
#if VCANBUS_HAVE_CAN_XL
#define VCANBUS_CLOCK_HZ	160000000
#else
#define VCANBUS_CLOCK_HZ	40000000
#endif
/* The clock over 40 MHz: 1 or 4. */
#define VCANBUS_CLOCK_SCALE	(VCANBUS_CLOCK_HZ / 40000000)
/* The bit rate limit, a CAN SIC XL transceiver's (as dummy_can's). */
#define VCANBUS_XL_BITRATE_MAX	20000000

/*
 * The prescalers' ranges scale with the clock, so that time quanta span
 * the same 25 ns (or less) ... 12.8 us at either: the bit rates down to
 * about 200 bit/s that the tests use stay possible at 160 MHz.
 */
static const struct can_bittiming_const vcanbus_bittiming_const = {
	.name		= VCANBUS_NAME,
	.tseg1_min	= 2,	/* time quanta */
	.tseg1_max	= 256,
	.tseg2_min	= 1,
	.tseg2_max	= 128,
	.sjw_max	= 128,
	.brp_min	= 1,
	.brp_max	= 512 * VCANBUS_CLOCK_SCALE,
	.brp_inc	= 1,
};

static const struct can_bittiming_const vcanbus_data_bittiming_const = {
	.name		= VCANBUS_NAME,
	.tseg1_min	= 1,	/* time quanta */
	.tseg1_max	= 32,
	.tseg2_min	= 1,
	.tseg2_max	= 16,
	.sjw_max	= 16,
	.brp_min	= 1,
	.brp_max	= 32 * VCANBUS_CLOCK_SCALE,
	.brp_inc	= 1,
};

/*
 * The XL data phase: 10 Mbit/s is 16 time quanta of 6.25 ns at brp 1,
 * 20 Mbit/s 8. The PWM symbol fields (in minimum time quanta, one clock
 * cycle each) are 6 bits wide, as X_CAN's; can-dev checks the rest
 * (a symbol at most 200 ns, PWMS < PWML, symbols dividing the bit).
 */
static const struct can_bittiming_const vcanbus_xl_bittiming_const = {
	.name		= VCANBUS_NAME,
	.tseg1_min	= 1,	/* time quanta */
	.tseg1_max	= 64,
	.tseg2_min	= 1,
	.tseg2_max	= 32,
	.sjw_max	= 32,
	.brp_min	= 1,
	.brp_max	= 32,
	.brp_inc	= 1,
};

static const struct can_tdc_const vcanbus_xl_tdc_const = {
	.tdcv_min	= 0,
	.tdcv_max	= 127,	/* manual mode too */
	.tdco_min	= 0,
	.tdco_max	= 127,
	.tdcf_min	= 0,
	.tdcf_max	= 127,
};

#if VCANBUS_HAVE_CAN_XL
static const struct can_pwm_const vcanbus_pwm_const = {
	.pwms_min	= 1,
	.pwms_max	= 63,
	.pwml_min	= 2,
	.pwml_max	= 63,
	.pwmo_min	= 0,
	.pwmo_max	= 63,
};
#endif

static const struct vcanbus_xl_consts vcanbus_xl_consts = {
	.data_bittiming	= &vcanbus_xl_bittiming_const,
	.tdc		= &vcanbus_xl_tdc_const,
#if VCANBUS_HAVE_CAN_XL
	.pwm		= &vcanbus_pwm_const,
#endif
};

/*
 * Preset timing, so that "ip link set <node> up" works at once:
 * 500 kbit/s = 40 MHz / (1 + 69 + 10) tq, sample point 87.5 %, and for
 * FD 2 Mbit/s = 40 MHz / (1 + 15 + 4) tq, sample point 80 % (a 160 MHz
 * clock divided by 4 first). XL has none: can-dev takes "xl on" only
 * with an XL data bit rate in the same request.
 */
static const struct can_bittiming vcanbus_default_bittiming = {
	.bitrate	= 500000,
	.sample_point	= 875,	/* tenths of a percent */
	.tq		= 25,	/* ns */
	.prop_seg	= 34,
	.phase_seg1	= 35,
	.phase_seg2	= 10,
	.sjw		= 1,
	.brp		= VCANBUS_CLOCK_SCALE,
};

static const struct can_bittiming vcanbus_default_data_bittiming = {
	.bitrate	= 2000000,
	.sample_point	= 800,
	.tq		= 25,
	.prop_seg	= 7,
	.phase_seg1	= 8,
	.phase_seg2	= 4,
	.sjw		= 1,
	.brp		= VCANBUS_CLOCK_SCALE,
};

/*
 * @tq time quanta at @bt, in ns: exact at 40 MHz (25 ns per quantum) and,
 * at 160 MHz, for every bit rate that is a whole ns per bit (10 kbit/s ...
 * 20 Mbit/s as people use them); else the fraction of a ns is dropped.
 */
static u64 vcanbus_tq_ns(const struct vcanbus_node *node,
			 const struct can_bittiming *bt, u32 tq)
{
	return div_u64((u64)bt->brp * tq * NSEC_PER_SEC, node->can.clock.freq);
}

/* The bit times of the node's bit timing, as it comes up. */
static void vcanbus_node_set_bit_times(struct vcanbus_node *node)
{
	const struct can_bittiming *nbt = &node->can.bittiming;
	const struct can_bittiming *dbt = vcanbus_data_bittiming(&node->can);
	struct vcanbus_bit_times *bt = &node->bt;

	bt->nominal = vcanbus_tq_ns(node, nbt, can_bit_time(nbt));
	bt->nominal_sp = vcanbus_tq_ns(node, nbt, CAN_SYNC_SEG +
				       nbt->prop_seg + nbt->phase_seg1);
	bt->data = 0;
	bt->data_sp = 0;
	if (node->can.ctrlmode & CAN_CTRLMODE_FD) {
		bt->data = vcanbus_tq_ns(node, dbt, can_bit_time(dbt));
		bt->data_sp = vcanbus_tq_ns(node, dbt, CAN_SYNC_SEG +
					    dbt->prop_seg + dbt->phase_seg1);
	}
	/*
	 * The XL data phase. With transceiver mode switching, a bit is
	 * PWM symbols, which can-dev makes divide the same bit time.
	 */
	bt->xl = 0;
	if (node->can.ctrlmode & VCANBUS_CTRLMODE_XL) {
		dbt = vcanbus_xl_bittiming(&node->can);
		bt->xl = vcanbus_tq_ns(node, dbt, can_bit_time(dbt));
	}
}

/**
 * vcanbus_node_tx_frame() - the frame as @tx's controller puts it on the wire
 * @tx: the sender
 * @skb: its frame as the stack gave it
 * @f: what the wire carries of it, zeros elsewhere (past the length, in
 *     padding and reserved bytes): a Classical frame's DLC 9..15 (len8_dlc)
 *     only from a node in cc-len8-dlc mode and a remote frame's no data; a
 *     CAN FD frame's length rounded up to a DLC's (zero padding, as
 *     controllers send it), FDF, the requested BRS and ESI from @tx's error
 *     state.
 */
void vcanbus_node_tx_frame(const struct vcanbus_node *tx,
			   const struct sk_buff *skb, union vcanbus_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (can_is_canfd_skb(skb)) {
		const struct canfd_frame *cfd = (struct canfd_frame *)skb->data;

		f->fd.can_id = cfd->can_id;
		f->fd.len = can_fd_dlc2len(can_fd_len2dlc(cfd->len));
		f->fd.flags = CANFD_FDF | (cfd->flags & CANFD_BRS);
		if (tx->can.state >= CAN_STATE_ERROR_PASSIVE)
			f->fd.flags |= CANFD_ESI;
		memcpy(f->fd.data, cfd->data, cfd->len);
	} else {
		const struct can_frame *cf = (struct can_frame *)skb->data;

		f->cc.can_id = cf->can_id;
		can_frame_set_cc_len(&f->cc, can_get_cc_dlc(cf, tx->can.ctrlmode),
				     tx->can.ctrlmode);
		if (!(cf->can_id & CAN_RTR_FLAG))
			memcpy(f->cc.data, cf->data, cf->len);
	}
}

/* What no controller can put on the wire; can-dev checked the length. */
static bool vcanbus_tx_invalid(struct vcanbus_node *node, struct sk_buff *skb)
{
	const struct canfd_frame *cfd = (struct canfd_frame *)skb->data;

	/*
	 * An XL frame from an XL controller, with the flags and fields an XL
	 * frame has (RRS is always 0 in a data frame). can-dev lets XL
	 * frames from packet sockets through whatever the modes (6.2 and
	 * later); where it has no XL, no node is an XL controller.
	 */
	if (can_is_canxl_skb(skb)) {
		const struct canxl_frame *cxl = (struct canxl_frame *)skb->data;

		return !(node->can.ctrlmode & VCANBUS_CTRLMODE_XL) ||
		       (cxl->prio & ~(CANXL_PRIO_MASK | VCANBUS_CANXL_VCID_MASK)) ||
		       (cxl->flags & ~(CANXL_XLF | CANXL_SEC));
	}
	if (!can_is_can_skb(skb) && !can_is_canfd_skb(skb))
		return true;
	if (cfd->can_id & CAN_ERR_FLAG)
		return true;
	if (can_is_canfd_skb(skb))
		return !(node->can.ctrlmode & CAN_CTRLMODE_FD) ||
		       (cfd->can_id & CAN_RTR_FLAG);
	return false;
}

static netdev_tx_t vcanbus_node_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct vcanbus_node *node = netdev_priv(ndev);

	if (can_dev_dropped_skb(ndev, skb))
		return NETDEV_TX_OK;
	if (vcanbus_tx_invalid(node, skb)) {
		ndev->stats.tx_dropped++;
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	/* Keep it as the echo skb: owned by the sending socket, unshared. */
	skb = can_create_echo_skb(skb);
	if (!skb) {
		ndev->stats.tx_dropped++;
		return NETDEV_TX_OK;
	}
	skb->dev = ndev;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb_tx_timestamp(skb);

	vcanbus_node_post_tx(node, skb);
	return NETDEV_TX_OK;
}

static int vcanbus_node_open(struct net_device *ndev)
{
	struct vcanbus_node *node = netdev_priv(ndev);
	struct vcanbus_bus *bus = node->bus;
	int err;

	/* open_candev() checks the FD data bit rate, not the XL one. */
	if (node->can.ctrlmode & VCANBUS_CTRLMODE_XL) {
		const struct can_bittiming *xbt = vcanbus_xl_bittiming(&node->can);

		if (xbt->bitrate < node->can.bittiming.bitrate) {
			netdev_err(ndev, "incorrect/missing XL data bit-timing\n");
			return -EINVAL;
		}
	}
	err = open_candev(ndev);
	if (err)
		return err;

	vcanbus_node_set_bit_times(node);
	vcanbus_bus_lock_bh(bus);
	vcanbus_err_reset(node);
	node->running = true;
	list_add_tail(&node->run_list, &bus->running);
	vcanbus_bus_unlock_bh(bus);
	netif_start_queue(ndev);
	return 0;
}

/*
 * Frames still in the mailboxes never reach the bus: aborted, counted as
 * errors (the node stops) or as dropped (a restart after bus-off, as
 * can-dev's can_flush_echo_skb() counts them). The one on the wire, if
 * any, is cut off first.
 */
static void vcanbus_node_abort_tx(struct vcanbus_node *node, bool restart)
{
	struct net_device_stats *stats = &node->ndev->stats;
	struct sk_buff *skb;

	lockdep_assert_held(&node->bus->lock);

	/* Its frames posted but not yet taken are in its mailboxes after. */
	vcanbus_bus_take_inbox(node->bus);
	vcanbus_bus_cut(node->bus, node);
	list_del_init(&node->pend_list);
	while ((skb = __skb_dequeue(&node->txq))) {
		if (restart)
			stats->tx_dropped++;
		else
			stats->tx_errors++;
		stats->tx_aborted_errors++;
		kfree_skb(skb);
	}
}

/*
 * The queue goes again when a mailbox is free and the node is not
 * bus-off (during a bus-off recovery sequence, frames wait in it).
 */
void vcanbus_node_wake(struct vcanbus_node *node)
{
	struct vcanbus_bus *bus = node->bus;

	lockdep_assert_held(&bus->lock);

	if (!node->running || node->can.state == CAN_STATE_BUS_OFF)
		return;
	/* Its xmit stops the queue under inbox_lock (vcanbus_node_post_tx()). */
	spin_lock(&bus->inbox_lock);
	if (netif_queue_stopped(node->ndev) &&
	    node->posted + skb_queue_len(&node->txq) < node->tx_mailboxes)
		netif_wake_queue(node->ndev);
	spin_unlock(&bus->inbox_lock);
}

static int vcanbus_node_stop(struct net_device *ndev)
{
	struct vcanbus_node *node = netdev_priv(ndev);
	struct vcanbus_bus *bus = node->bus;

	netif_stop_queue(ndev);
	vcanbus_bus_lock_bh(bus);
	node->running = false;
	list_del_init(&node->run_list);
	list_del_init(&node->crowd_list);
	list_del_init(&node->recover_list);
	list_del_init(&node->count_list);
	vcanbus_node_abort_tx(node, false);
	node->can.state = CAN_STATE_STOPPED;
	/* The bus may have waited for room in this node's queue. */
	vcanbus_bus_run(bus);
	vcanbus_bus_unlock_bh(bus);

	/* Nothing is queued to it any more: deliver nothing after close. */
	vcanbus_rx_node_down(node);
	close_candev(ndev);
	return 0;
}

static const struct net_device_ops vcanbus_netdev_ops = {
	.ndo_open	= vcanbus_node_open,
	.ndo_stop	= vcanbus_node_stop,
	.ndo_start_xmit	= vcanbus_node_xmit,
	.ndo_change_mtu	= vcanbus_change_mtu,
};

static const struct ethtool_ops vcanbus_ethtool_ops = {
	.get_ts_info	= ethtool_op_get_ts_info,
};

/* Timing takes effect with the next frame; nothing to program. */
static int vcanbus_node_set_bittiming(struct net_device *ndev)
{
	return 0;
}

static int vcanbus_node_set_mode(struct net_device *ndev, enum can_mode mode)
{
	struct vcanbus_node *node = netdev_priv(ndev);

	int err = 0;

	if (mode != CAN_MODE_START)
		return -EOPNOTSUPP;

	/*
	 * Restart (manual or restart-ms): what the mailboxes held is dropped,
	 * then error active with counters cleared. restart-ms's work may
	 * come after ndo_stop has stopped the node: that stays stopped.
	 */
	vcanbus_bus_lock_bh(node->bus);
	if (node->running) {
		vcanbus_node_abort_tx(node, true);
		vcanbus_err_reset(node);
		vcanbus_bus_restart(node->bus, node);
		vcanbus_node_wake(node);
		/* A bus that stalled on room in this node's queue goes on. */
		vcanbus_bus_run(node->bus);
	} else {
		err = -ENETDOWN;
	}
	vcanbus_bus_unlock_bh(node->bus);
	return err;
}

static int vcanbus_node_get_berr_counter(const struct net_device *ndev,
					 struct can_berr_counter *bec)
{
	struct vcanbus_node *node = netdev_priv(ndev);

	/* Errors happen in wire timing only; instant keeps them at 0. */
	vcanbus_bus_lock_bh(node->bus);
	bec->txerr = node->tec;
	bec->rxerr = node->rec;
	vcanbus_bus_unlock_bh(node->bus);
	return 0;
}

static void vcanbus_node_setup(struct vcanbus_node *node)
{
	struct net_device *ndev = node->ndev;

	ndev->netdev_ops = &vcanbus_netdev_ops;
	ndev->ethtool_ops = &vcanbus_ethtool_ops;
	/* Echo on completion, by the driver, as hardware does. */
	ndev->flags |= IFF_ECHO;

	node->can.clock.freq = VCANBUS_CLOCK_HZ;
	node->can.bittiming_const = &vcanbus_bittiming_const;
	node->can.bittiming = vcanbus_default_bittiming;
	node->can.do_set_bittiming = vcanbus_node_set_bittiming;
	vcanbus_setup_data_bittiming(&node->can, &vcanbus_data_bittiming_const,
				     &vcanbus_default_data_bittiming,
				     vcanbus_node_set_bittiming);
	node->can.do_set_mode = vcanbus_node_set_mode;
	node->can.do_get_berr_counter = vcanbus_node_get_berr_counter;
	node->can.ctrlmode_supported = CAN_CTRLMODE_LOOPBACK |
		CAN_CTRLMODE_LISTENONLY | CAN_CTRLMODE_ONE_SHOT |
		CAN_CTRLMODE_BERR_REPORTING | CAN_CTRLMODE_FD |
		CAN_CTRLMODE_PRESUME_ACK | CAN_CTRLMODE_FD_NON_ISO |
		CAN_CTRLMODE_CC_LEN8_DLC | VCANBUS_CTRLMODES_XL;
	vcanbus_setup_xl(&node->can, &vcanbus_xl_consts);
	if (VCANBUS_HAVE_CAN_XL)
		node->can.bitrate_max = VCANBUS_XL_BITRATE_MAX;

	node->tx_mailboxes = VCANBUS_TX_MAILBOXES;
	node->tx_order = VCANBUS_TX_FIFO;
	INIT_LIST_HEAD(&node->run_list);
	INIT_LIST_HEAD(&node->pend_list);
	INIT_LIST_HEAD(&node->crowd_list);
	INIT_LIST_HEAD(&node->recover_list);
	INIT_LIST_HEAD(&node->count_list);
	INIT_LIST_HEAD(&node->ready_list);
	skb_queue_head_init(&node->txq);
}

/**
 * vcanbus_node_create() - a new candev on @bus
 * @bus: the bus it is attached to
 * @name: the netdev's name (and the configfs directory's)
 * @net: the network namespace to register it in
 *
 * Return: the node, registered and attached, or an ERR_PTR: -EINVAL for a
 * name that is no valid netdev name, -EEXIST when it is taken in @net.
 */
struct vcanbus_node *vcanbus_node_create(struct vcanbus_bus *bus,
					 const char *name, struct net *net)
{
	struct vcanbus_node *node;
	struct net_device *ndev;
	int err;

	/* A "%d" would make the kernel pick the name: refuse it. */
	if (!dev_valid_name(name) || strchr(name, '%'))
		return ERR_PTR(-EINVAL);

	ndev = alloc_candev(sizeof(*node), 0);
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	node = netdev_priv(ndev);
	node->ndev = ndev;
	node->bus = bus;
	node->rxq.slot = kcalloc(VCANBUS_RXQ_SIZE, sizeof(*node->rxq.slot),
				 GFP_KERNEL);
	if (!node->rxq.slot) {
		err = -ENOMEM;
		goto err_free;
	}
	strscpy(ndev->name, name, IFNAMSIZ);
	dev_net_set(ndev, net);
	vcanbus_node_setup(node);
	config_group_init_type_name(&node->group, name, &vcanbus_node_type);

	/*
	 * On the bus before it can be opened, so that its first frame finds
	 * it there; until then it neither sends nor receives.
	 */
	vcanbus_bus_lock_bh(bus);
	list_add_tail(&node->bus_list, &bus->nodes);
	vcanbus_bus_unlock_bh(bus);

	err = register_candev(ndev);
	if (err)
		goto err_unlist;
	return node;

err_unlist:
	vcanbus_bus_lock_bh(bus);
	list_del(&node->bus_list);
	vcanbus_bus_unlock_bh(bus);
	kfree(node->rxq.slot);
err_free:
	free_candev(ndev);
	return ERR_PTR(err);
}

/* Undoes vcanbus_node_create() but for the memory: see vcanbus_node_free(). */
void vcanbus_node_destroy(struct vcanbus_node *node)
{
	struct vcanbus_bus *bus = node->bus;

	/* Closes it first if it is up: nothing is queued to it after this. */
	unregister_candev(node->ndev);

	vcanbus_bus_lock_bh(bus);
	list_del(&node->bus_list);
	vcanbus_bus_unlock_bh(bus);
}

/* The configfs item's release: the last reference to the node is gone. */
void vcanbus_node_free(struct vcanbus_node *node)
{
	kfree(node->rxq.slot);
	free_candev(node->ndev);
}
