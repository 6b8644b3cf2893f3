// SPDX-License-Identifier: GPL-2.0
/*
 * Instant timing: a frame is on the bus the moment it is queued, the
 * frames of all nodes in the order they were queued (each node offering
 * its next by its tx_order), as vcan does with a bus's one order. No bit
 * times, no arbitration, no errors: nothing to cut or to restart.
 *
 * Under bus->lock, like the rest of the bus.
 */
#include "vcanbus.h"

/*
 * Of the frames each node with a full mailbox would send next, the one
 * that arrived first.
 */
static struct vcanbus_node *vcanbus_instant_next(struct vcanbus_bus *bus,
						 struct sk_buff **skbp)
{
	struct vcanbus_node *node, *winner = NULL;
	struct sk_buff *skb, *best = NULL;

	list_for_each_entry(node, &bus->pending, pend_list) {
		if (!vcanbus_node_on_bus(node))
			continue;
		skb = vcanbus_node_next_tx(node, KTIME_MAX);
		if (skb && (!best ||
			    vcanbus_skb_cb(skb)->seq < vcanbus_skb_cb(best)->seq)) {
			best = skb;
			winner = node;
		}
	}
	*skbp = best;
	return winner;
}

/* Completes frames until the mailboxes are empty or a receiver is full. */
static void vcanbus_instant_run(struct vcanbus_bus *bus, ktime_t now)
{
	struct vcanbus_delivery d;
	struct vcanbus_node *tx, *rx;
	struct sk_buff *skb;

	while ((tx = vcanbus_instant_next(bus, &skb))) {
		if (!vcanbus_bus_room(bus, tx, skb))
			return;
		vcanbus_node_unlink_tx(tx, skb);
		vcanbus_delivery_begin(&d, tx, skb, ktime_get_real());
		list_for_each_entry(rx, &bus->running, run_list)
			if (vcanbus_receives(rx, tx, d.format))
				vcanbus_deliver(bus, &d, rx);
		vcanbus_delivery_end(bus, &d);
	}
	WRITE_ONCE(bus->stalled, false);
}

const struct vcanbus_timing_ops vcanbus_instant_ops = {
	.run	= vcanbus_instant_run,
};
