// SPDX-License-Identifier: GPL-2.0
/*
 * Wire timing: a frame occupies the bus for exactly the time it takes on
 * a real wire, and the nodes with pending frames arbitrate by identifier.
 *
 * The bus clock is CLOCK_MONOTONIC. A frame starts when the bus is idle
 * (the previous frame's end plus the intermission) and the frame has been
 * queued, or, after a stall, when the bus resumes; it ends start + its bits
 * at the sender's bit rates (frame.c). An hrtimer fires at the end of the
 * frame and completes it: every receiver gets it, and the echo, with the
 * end of frame as timestamp. If the host runs late, the timer completes
 * every frame whose end has passed, in order, each with its exact bus time.
 *
 * At each idle point, the frames that were pending by then contend: each
 * running node offers one (by its tx_order) and the lowest arbitration
 * field wins (bus.c: vcanbus_arbitration_key); equal fields go by arrival.
 * Every other node that offered a frame lost arbitration and counts it.
 *
 * All under bus->lock, taken with bottom halves disabled: the timer is a
 * soft hrtimer, its callback runs in softirq context.
 */
#include <linux/can/dev.h>
#include <linux/hrtimer.h>
#include <linux/timekeeping.h>

#include "frame.h"
#include "vcanbus.h"

/* One bit at @bt, in ns: exact, as the clock runs at a whole ns per tq. */
static u64 vcanbus_bit_ns(const struct vcanbus_node *node,
			  const struct can_bittiming *bt)
{
	return div_u64((u64)bt->brp * can_bit_time(bt) * NSEC_PER_SEC,
		       node->can.clock.freq);
}

/* The time @skb from @tx takes on the wire, SOF to EOF. */
static u64 vcanbus_wire_ns(const struct vcanbus_node *tx,
			   const struct sk_buff *skb)
{
	bool fd = can_is_canfd_skb(skb);
	struct vcanbus_frame_bits bits;
	struct canfd_frame cf;
	u64 ns;

	/* The ESI bit on the wire is the sender's state, as in rx_skb. */
	memcpy(&cf, skb->data, fd ? CANFD_MTU : CAN_MTU);
	if (fd) {
		cf.flags &= ~CANFD_ESI;
		if (tx->can.state >= CAN_STATE_ERROR_PASSIVE)
			cf.flags |= CANFD_ESI;
	}
	vcanbus_frame_bits(&cf, fd,
			   !(tx->can.ctrlmode & CAN_CTRLMODE_FD_NON_ISO), &bits);
	ns = bits.nominal * vcanbus_bit_ns(tx, &tx->can.bittiming);
	if (bits.data)
		ns += bits.data * vcanbus_bit_ns(tx, &tx->can.data_bittiming);
	return ns;
}

/*
 * The winner of the arbitration at the next idle point, or NULL when no
 * frame is pending; @startp: when its frame starts.
 */
static struct vcanbus_node *vcanbus_wire_arbitrate(struct vcanbus_bus *bus,
						   ktime_t *startp,
						   struct sk_buff **skbp)
{
	struct vcanbus_node *node, *winner = NULL;
	ktime_t first = KTIME_MAX, start;
	struct sk_buff *skb, *best = NULL;
	u64 key, best_key = 0;

	/* The bus starts the next frame when idle and a frame is there. */
	list_for_each_entry(node, &bus->nodes, bus_list) {
		skb = node->running ? skb_peek(&node->txq) : NULL;
		if (skb && vcanbus_skb_cb(skb)->queued < first)
			first = vcanbus_skb_cb(skb)->queued;
	}
	if (first == KTIME_MAX)
		return NULL;
	start = max(bus->wire.idle_at, first);

	list_for_each_entry(node, &bus->nodes, bus_list) {
		node->contending = node->running ?
				   vcanbus_node_next_tx(node, start) : NULL;
		skb = node->contending;
		if (!skb)
			continue;
		key = vcanbus_arbitration_key(skb);
		if (!best || key < best_key ||
		    (key == best_key &&
		     vcanbus_skb_cb(skb)->seq < vcanbus_skb_cb(best)->seq)) {
			best = skb;
			best_key = key;
			winner = node;
		}
	}
	*startp = start;
	*skbp = best;
	return winner;
}

/*
 * After an arbitration: the nodes that offered a frame and lost count it,
 * if the winner's frame did go on the wire (@started).
 */
static void vcanbus_wire_settle(struct vcanbus_bus *bus,
				struct vcanbus_node *winner, bool started)
{
	struct vcanbus_node *node;

	list_for_each_entry(node, &bus->nodes, bus_list) {
		if (started && node->contending && node != winner)
			node->can.can_stats.arbitration_lost++;
		node->contending = NULL;
	}
}

/* Puts the next frame on the idle bus, if any. */
static void vcanbus_wire_start(struct vcanbus_bus *bus)
{
	struct vcanbus_wire *wire = &bus->wire;
	struct vcanbus_node *tx;
	struct sk_buff *skb;
	ktime_t start;

	tx = vcanbus_wire_arbitrate(bus, &start, &skb);
	if (!tx)
		return;
	/* No frame goes on the wire that a receiver has no room for. */
	if (!vcanbus_deliverable(bus, tx, can_is_canfd_skb(skb))) {
		vcanbus_wire_settle(bus, tx, false);
		WRITE_ONCE(bus->stalled, true);
		return;
	}
	vcanbus_wire_settle(bus, tx, true);
	WRITE_ONCE(bus->stalled, false);
	__skb_unlink(skb, &tx->txq);
	wire->tx = tx;
	wire->skb = skb;
	wire->busy = true;
	wire->end = ktime_add_ns(start, vcanbus_wire_ns(tx, skb));
	wire->idle_at = ktime_add_ns(wire->end, VCANBUS_INTERMISSION_BITS *
				     vcanbus_bit_ns(tx, &tx->can.bittiming));
}

/* The frame on the wire has ended: completes it, unless it was cut. */
static void vcanbus_wire_finish(struct vcanbus_bus *bus)
{
	struct vcanbus_wire *wire = &bus->wire;

	wire->busy = false;
	if (wire->skb)
		vcanbus_complete(bus, wire->tx, wire->skb,
				 ktime_mono_to_real(wire->end));
	wire->skb = NULL;
	wire->tx = NULL;
}

static enum hrtimer_restart vcanbus_wire_timer(struct hrtimer *timer)
{
	struct vcanbus_bus *bus = container_of(timer, struct vcanbus_bus,
					       wire.timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	ktime_t now = ktime_get();

	spin_lock(&bus->lock);
	/* Catch up: every frame that has ended by now, in order. */
	while (bus->wire.busy && bus->wire.end <= now) {
		vcanbus_wire_finish(bus);
		vcanbus_wire_start(bus);
	}
	if (bus->wire.busy) {
		hrtimer_set_expires(timer, bus->wire.end);
		ret = HRTIMER_RESTART;
	}
	spin_unlock(&bus->lock);
	return ret;
}

/**
 * vcanbus_wire_run() - start the next frame if the bus is idle
 * @bus: the bus, its lock held
 */
void vcanbus_wire_run(struct vcanbus_bus *bus)
{
	struct vcanbus_wire *wire = &bus->wire;

	lockdep_assert_held(&bus->lock);

	if (wire->busy)
		return;
	/* A bus that stalled resumes now, not back in time. */
	if (READ_ONCE(bus->stalled))
		wire->idle_at = max(wire->idle_at, ktime_get());
	vcanbus_wire_start(bus);
	if (wire->busy)
		hrtimer_start(&wire->timer, wire->end, HRTIMER_MODE_ABS_SOFT);
}

/* @node stops while its frame is on the wire: the frame is cut off. */
void vcanbus_wire_abort(struct vcanbus_bus *bus, struct vcanbus_node *node)
{
	struct vcanbus_wire *wire = &bus->wire;

	lockdep_assert_held(&bus->lock);

	if (wire->tx != node || !wire->skb)
		return;
	node->ndev->stats.tx_errors++;
	node->ndev->stats.tx_aborted_errors++;
	kfree_skb(wire->skb);
	wire->skb = NULL;
	wire->tx = NULL;
	/* The bus stays busy until the timer: the wire time is spent. */
}

void vcanbus_wire_init(struct vcanbus_bus *bus)
{
	hrtimer_init(&bus->wire.timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	bus->wire.timer.function = vcanbus_wire_timer;
}

/* The bus is going away; it has no nodes any more. */
void vcanbus_wire_exit(struct vcanbus_bus *bus)
{
	hrtimer_cancel(&bus->wire.timer);
}
