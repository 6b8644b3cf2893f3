// SPDX-License-Identifier: GPL-2.0
/*
 * The bus: picks the next frame among the nodes' mailboxes and completes it,
 * delivering it to every receiving node and the echo to its sender, in one
 * order for the whole bus.
 *
 * Everything here runs under bus->lock, which is only ever taken with
 * bottom halves disabled (xmit, NAPI poll, process context with _bh).
 */
#include <linux/can/dev.h>
#include <linux/can/length.h>
#include <linux/can/skb.h>

#include "vcanbus.h"

/* Numbers for the frames whose clones share a headroom (compat.h). */
static atomic_t vcanbus_skb_numbers = ATOMIC_INIT(0);

void vcanbus_bus_init(struct vcanbus_bus *bus)
{
	spin_lock_init(&bus->lock);
	INIT_LIST_HEAD(&bus->nodes);
	vcanbus_bus_set_timing(bus, VCANBUS_TIMING_WIRE);
	vcanbus_wire_init(bus);
}

/*
 * A new timing, with its default for full receive queues unless the user
 * chose one: in instant timing the bus holds back (nothing is lost, the
 * senders slow down: vcan with a bus); in wire timing it keeps its pace
 * and a receiver that cannot keep up overruns, as a controller does.
 */
void vcanbus_bus_set_timing(struct vcanbus_bus *bus, enum vcanbus_timing timing)
{
	bus->timing = timing;
	if (!bus->rx_overflow_set)
		bus->rx_overflow = timing == VCANBUS_TIMING_WIRE ?
				   VCANBUS_RX_OVERRUN : VCANBUS_RX_HOLD;
}

/*
 * The arbitration field as it goes on the wire, as a number: the lower wins.
 * ISO 11898-1 bit order: 11 base ID bits, then RTR (base format) or SRR
 * (always recessive, extended format), IDE, the 18 ID extension bits and
 * RTR (extended format), and last FDF, where a Classical frame beats an FD
 * frame with the same identifier. Base-format frames have no extension
 * bits: the IDE bit decides before them.
 */
u64 vcanbus_arbitration_key(const struct sk_buff *skb)
{
	canid_t id = ((const struct canfd_frame *)skb->data)->can_id;
	u64 rtr = !!(id & CAN_RTR_FLAG);
	u64 fdf = can_is_canfd_skb(skb);

	if (id & CAN_EFF_FLAG)
		return (u64)((id & CAN_EFF_MASK) >> 18) << 22 | 1ULL << 21 |
		       1ULL << 20 | (u64)(id & 0x3ffff) << 2 | rtr << 1 | fdf;
	return (u64)(id & CAN_SFF_MASK) << 22 | rtr << 21 | fdf;
}

/*
 * The node's mailbox that would go out next, by its tx_order, among those
 * filled by @by (KTIME_MAX: all).
 */
struct sk_buff *vcanbus_node_next_tx(struct vcanbus_node *node, ktime_t by)
{
	struct sk_buff *skb, *best;

	best = skb_peek(&node->txq);
	if (!best || vcanbus_skb_cb(best)->queued > by)
		return NULL;
	if (node->tx_order == VCANBUS_TX_FIFO)
		return best;

	/* Lowest first; the queue is in arrival order, so ties keep it. */
	skb_queue_walk(&node->txq, skb) {
		if (vcanbus_skb_cb(skb)->queued > by)
			break;
		if (vcanbus_arbitration_key(skb) < vcanbus_arbitration_key(best))
			best = skb;
	}
	return best;
}

/*
 * Instant timing: of the frames each node would send next, the one that
 * arrived first.
 */
static struct vcanbus_node *vcanbus_bus_next(struct vcanbus_bus *bus,
					     struct sk_buff **skbp)
{
	struct vcanbus_node *node, *winner = NULL;
	struct sk_buff *skb, *best = NULL;

	list_for_each_entry(node, &bus->nodes, bus_list) {
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

/* Does @rx take a frame from @tx off the bus? */
static bool vcanbus_receives(const struct vcanbus_node *rx,
			     const struct vcanbus_node *tx, bool fd)
{
	if (!vcanbus_node_on_bus(rx))
		return false;
	if (rx == tx && !(rx->can.ctrlmode & CAN_CTRLMODE_LOOPBACK))
		return false;
	/* A node without FD does not take FD frames. */
	return !fd || (rx->can.ctrlmode & CAN_CTRLMODE_FD);
}

/*
 * Is there room for the frame in the queue of each node that receives it
 * (its sender needs two places: echo and, in loopback mode, RX)? When
 * receivers overrun, only the sender's echo needs a place: a controller
 * reports a completed transmission whatever its RX FIFO holds.
 */
static bool vcanbus_deliverable(struct vcanbus_bus *bus,
				struct vcanbus_node *tx, bool fd)
{
	struct vcanbus_node *rx;

	if (bus->rx_overflow == VCANBUS_RX_OVERRUN)
		return skb_queue_len_lockless(&tx->rxq) < VCANBUS_RXQ_LEN;
	list_for_each_entry(rx, &bus->nodes, bus_list) {
		unsigned int need = (rx == tx) ? 2 : 1;

		if ((rx == tx || vcanbus_receives(rx, tx, fd)) &&
		    skb_queue_len_lockless(&rx->rxq) + need > VCANBUS_RXQ_LEN)
			return false;
	}
	return true;
}

/**
 * vcanbus_bus_room() - may @skb from @tx go now, or must the bus stall?
 * @bus: the bus, its lock held
 * @tx: the sender
 * @skb: its frame
 *
 * Without room, the bus is marked stalled. A receiver's NAPI poll makes
 * room without the bus lock and then looks at @bus->stalled
 * (vcanbus_bus_kick()): either it sees the bus stalled and runs it again,
 * or the second look here, after the marking, sees the room. The full
 * barriers on both sides make one of the two certain, so the bus never
 * stays stopped with room in every queue.
 *
 * Return: true if the frame may go; false if the bus stays stalled.
 */
bool vcanbus_bus_room(struct vcanbus_bus *bus, struct vcanbus_node *tx,
		      const struct sk_buff *skb)
{
	bool fd = can_is_canfd_skb(skb);

	if (vcanbus_deliverable(bus, tx, fd))
		return true;
	WRITE_ONCE(bus->stalled, true);
	smp_mb();	/* pairs with smp_mb() in vcanbus_bus_kick() */
	if (!vcanbus_deliverable(bus, tx, fd))
		return false;
	WRITE_ONCE(bus->stalled, false);
	return true;
}

/**
 * vcanbus_wire_frame() - the frame as @tx's controller puts it on the wire
 * @tx: the sender
 * @skb: its frame as the stack gave it
 * @f: what the wire carries of it, zeros elsewhere (past the length, in
 *     padding and reserved bytes): a Classical frame's DLC 9..15 (len8_dlc)
 *     only from a node in cc-len8-dlc mode and a remote frame's no data; a
 *     CAN FD frame's length rounded up to a DLC's (zero padding, as
 *     controllers send it), FDF, the requested BRS and ESI from @tx's error
 *     state.
 */
void vcanbus_wire_frame(const struct vcanbus_node *tx,
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

/*
 * The frame for @rx: @wire as @rx's controller gives it to its driver (a
 * DLC 9..15 only in cc-len8-dlc mode). When those are the bytes of the
 * sender's skb, as they nearly always are, @rx gets a clone of it (much
 * cheaper than a new skb), else a new skb with them.
 *
 * Either way it names the sending node as the interface the frame first
 * appeared on, whatever the frame's history before it reached the bus
 * (can-gw may have put it on the sender), so that can-gw's "not back to
 * where it came from" rule depends neither on a frame's content nor on the
 * kernel; and it starts a new can-gw hop count, as a frame through vxcan
 * does (compat.h). The clone's other fields are made those of a received
 * frame.
 */
static struct sk_buff *vcanbus_rx_skb(struct vcanbus_node *rx,
				      const struct vcanbus_node *tx,
				      struct sk_buff *tx_skb,
				      const union vcanbus_frame *wire,
				      bool wire_is_skb)
{
	bool fd = can_is_canfd_skb(tx_skb);
	bool drop_dlc = !fd && wire->cc.len8_dlc &&
			!(rx->can.ctrlmode & CAN_CTRLMODE_CC_LEN8_DLC);
	int iif = tx->ndev->ifindex;
	struct sk_buff *skb;

	if (wire_is_skb && !drop_dlc && vcanbus_skb_may_clone_as(tx_skb, iif)) {
		skb = skb_clone(tx_skb, GFP_ATOMIC);
		if (!skb)
			return NULL;
		/* What the host gave it (skb extensions too) stays behind. */
		skb_scrub_packet(skb, !net_eq(dev_net(tx->ndev),
					      dev_net(rx->ndev)));
		skb->dev = rx->ndev;
		skb->pkt_type = PACKET_BROADCAST;
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		skb->priority = 0;	/* the sender's socket's, not the bus's */
		skb->mark = 0;
	} else if (fd) {
		struct canfd_frame *cfd;

		skb = alloc_canfd_skb(rx->ndev, &cfd);
		if (!skb)
			return NULL;
		memcpy(cfd, &wire->fd, CANFD_MTU);
	} else {
		struct can_frame *cf;

		skb = alloc_can_skb(rx->ndev, &cf);
		if (!skb)
			return NULL;
		memcpy(cf, &wire->cc, CAN_MTU);
		if (drop_dlc)
			cf->len8_dlc = 0;
	}
	if (vcanbus_skb_set_origin(skb, iif)) {
		kfree_skb(skb);
		return NULL;
	}
	return skb;
}

void vcanbus_complete(struct vcanbus_bus *bus, struct vcanbus_node *tx,
		      struct sk_buff *skb, ktime_t end)
{
	struct net_device_stats *stats = &tx->ndev->stats;
	bool fd = can_is_canfd_skb(skb);
	union vcanbus_frame wire;
	struct vcanbus_node *rx;
	bool wire_is_skb;

	vcanbus_wire_frame(tx, skb, &wire);
	wire_is_skb = !memcmp(&wire, skb->data, fd ? CANFD_MTU : CAN_MTU);
	vcanbus_skb_number_shared(skb, &vcanbus_skb_numbers);
	list_for_each_entry(rx, &bus->nodes, bus_list) {
		struct sk_buff *rx_skb;

		if (!vcanbus_receives(rx, tx, fd) ||
		    !vcanbus_wire_in_sync(bus, rx, tx, skb))
			continue;
		/* Overrun: the frame is lost to it alone (never its echo). */
		if (bus->rx_overflow == VCANBUS_RX_OVERRUN &&
		    skb_queue_len_lockless(&rx->rxq) >= VCANBUS_RXQ_LEN) {
			vcanbus_err_rx_overflow(rx, end);
			continue;
		}
		rx->rx_overrun = false;
		rx_skb = vcanbus_rx_skb(rx, tx, skb, &wire, wire_is_skb);
		if (!rx_skb) {
			rx->ndev->stats.rx_dropped++;
			continue;
		}
		rx_skb->tstamp = end;
		vcanbus_skb_cb(rx_skb)->echo = false;
		vcanbus_node_queue_rx(rx, rx_skb);
	}

	stats->tx_packets++;
	stats->tx_bytes += can_skb_get_data_len(skb);
	bus->stats.frames++;

	/* The echo, as can_get_echo_skb() would give it, but in bus order. */
	if (skb->pkt_type == PACKET_LOOPBACK) {
		skb->pkt_type = PACKET_BROADCAST;
		skb->tstamp = end;
		vcanbus_skb_cb(skb)->echo = true;
		vcanbus_node_queue_rx(tx, skb);
	} else {
		consume_skb(skb);
	}

	vcanbus_node_wake(tx);
}

/**
 * vcanbus_bus_run() - complete frames until the mailboxes are empty
 * @bus: the bus, its lock held
 *
 * Stops when a frame's receiver has no room: vcanbus_bus_kick() from that
 * receiver's NAPI poll runs it again.
 */
void vcanbus_bus_run(struct vcanbus_bus *bus)
{
	struct vcanbus_node *tx;
	struct sk_buff *skb;

	lockdep_assert_held(&bus->lock);

	if (bus->timing == VCANBUS_TIMING_WIRE) {
		vcanbus_wire_run(bus);
		return;
	}
	while ((tx = vcanbus_bus_next(bus, &skb))) {
		if (!vcanbus_bus_room(bus, tx, skb))
			return;
		__skb_unlink(skb, &tx->txq);
		vcanbus_complete(bus, tx, skb, ktime_get_real());
	}
	WRITE_ONCE(bus->stalled, false);
}

/* Restart a stalled bus; called by a NAPI poll that made room. */
void vcanbus_bus_kick(struct vcanbus_bus *bus)
{
	smp_mb();	/* the room made, then the look: vcanbus_bus_room() */
	if (!READ_ONCE(bus->stalled))
		return;
	spin_lock_bh(&bus->lock);
	vcanbus_bus_run(bus);
	spin_unlock_bh(&bus->lock);
}
