// SPDX-License-Identifier: GPL-2.0
/*
 * The bus core: the nodes' mailboxes, the room in their receive queues and
 * the delivery of a completed frame to every receiving node and of its
 * echo to its sender, in one order for the whole bus. When a frame goes
 * and how it ends is the timing's (instant.c, wire.c), which calls in here.
 *
 * Everything here runs under bus->lock, which is only ever taken with
 * bottom halves disabled (xmit, NAPI poll, process context with _bh), but
 * for the senders' posting of frames, which takes only bus->inbox_lock.
 */
#include <linux/can/dev.h>
#include <linux/can/length.h>
#include <linux/can/skb.h>

#include "vcanbus.h"

/* Numbers for the frames whose clones share a headroom (compat.h). */
static atomic_t vcanbus_skb_numbers = ATOMIC_INIT(0);

/*
 * A holder of the bus lock runs the bus at most this many times more for
 * frames posted meanwhile, then hands that to a work: a sender on another
 * CPU that keeps posting does not keep it in bottom-half context for ever.
 */
#define VCANBUS_HANDOFF_RUNS	16

static void vcanbus_bus_run_work(struct work_struct *work)
{
	struct vcanbus_bus *bus = container_of(work, struct vcanbus_bus,
					       run_work);

	vcanbus_bus_lock_bh(bus);
	vcanbus_bus_run(bus);
	vcanbus_bus_unlock_bh(bus);
}

int vcanbus_bus_init(struct vcanbus_bus *bus, const char *name)
{
	int err = vcanbus_rx_init(bus, name);

	if (err)
		return err;
	spin_lock_init(&bus->lock);
	INIT_LIST_HEAD(&bus->nodes);
	INIT_LIST_HEAD(&bus->running);
	INIT_LIST_HEAD(&bus->pending);
	INIT_LIST_HEAD(&bus->crowded);
	spin_lock_init(&bus->inbox_lock);
	__skb_queue_head_init(&bus->inbox);
	INIT_WORK(&bus->run_work, vcanbus_bus_run_work);
	vcanbus_bus_set_timing(bus, VCANBUS_TIMING_WIRE);
	vcanbus_wire_init(bus);
	return 0;
}

/*
 * The bus goes; it has no nodes, so nothing is posted any more, and once
 * the wire's timer and work are stopped nothing queues the run work.
 */
void vcanbus_bus_exit(struct vcanbus_bus *bus)
{
	vcanbus_wire_exit(bus);
	cancel_work_sync(&bus->run_work);
	WARN_ON_ONCE(!skb_queue_empty(&bus->inbox));
	vcanbus_rx_exit(bus);
}

void vcanbus_bus_lock_bh(struct vcanbus_bus *bus)
	__acquires(&bus->lock)
{
	spin_lock_bh(&bus->lock);
}

/*
 * Runs the bus for frames posted without its lock (vcanbus_node_post_tx()),
 * unless another CPU holds it: then that one does when it lets it go. The
 * poster marks them handed off, then tries the lock; a holder lets the
 * lock go, then looks at the mark: the full barrier on both sides between
 * the two makes either the try succeed or the look see the mark.
 */
static void vcanbus_bus_run_handed_off(struct vcanbus_bus *bus)
{
	unsigned int runs;

	for (runs = 0; runs < VCANBUS_HANDOFF_RUNS; runs++) {
		smp_mb();	/* the lock let go or the mark set, then the look */
		if (!READ_ONCE(bus->handed_off) || !spin_trylock(&bus->lock))
			return;
		vcanbus_bus_run(bus);
		spin_unlock(&bus->lock);
	}
	if (READ_ONCE(bus->handed_off))
		queue_work(system_highpri_wq, &bus->run_work);
}

/* Releases the bus lock, bottom halves disabled; runs what was handed off. */
void vcanbus_bus_unlock(struct vcanbus_bus *bus)
	__releases(&bus->lock)
{
	spin_unlock(&bus->lock);
	vcanbus_bus_run_handed_off(bus);
}

void vcanbus_bus_unlock_bh(struct vcanbus_bus *bus)
	__releases(&bus->lock)
{
	vcanbus_bus_unlock(bus);
	local_bh_enable();
}

/**
 * vcanbus_node_post_tx() - a frame from @node's xmit for a mailbox
 * @node: the sender; its queue is stopped when its mailboxes are full
 * @skb: the frame
 *
 * It is numbered and timed in the order the senders post. It runs the bus
 * unless another CPU holds its lock: a sender does not wait while another
 * completes frames, the holder takes its frame over.
 */
void vcanbus_node_post_tx(struct vcanbus_node *node, struct sk_buff *skb)
{
	struct vcanbus_bus *bus = node->bus;

	spin_lock(&bus->inbox_lock);
	vcanbus_skb_cb(skb)->seq = bus->seq++;
	vcanbus_skb_cb(skb)->queued = ktime_get();
	__skb_queue_tail(&bus->inbox, skb);
	/* The bus changes txq under its lock alone; it wakes under this. */
	if (++node->posted + skb_queue_len_lockless(&node->txq) >=
	    node->tx_mailboxes)
		netif_stop_queue(node->ndev);
	spin_unlock(&bus->inbox_lock);

	WRITE_ONCE(bus->handed_off, true);
	vcanbus_bus_run_handed_off(bus);
}

/**
 * vcanbus_bus_take_inbox() - the posted frames into their mailboxes
 * @bus: the bus, its lock held
 *
 * Return: the time now, read with the inbox locked: a frame posted later
 * than this take was queued later than that.
 */
ktime_t vcanbus_bus_take_inbox(struct vcanbus_bus *bus)
{
	struct vcanbus_node *node;
	struct sk_buff *skb;
	ktime_t now;

	lockdep_assert_held(&bus->lock);

	/* A post after this either is taken below or sets it again. */
	WRITE_ONCE(bus->handed_off, false);
	spin_lock(&bus->inbox_lock);
	while ((skb = __skb_dequeue(&bus->inbox))) {
		node = netdev_priv(skb->dev);
		node->posted--;
		vcanbus_node_queue_tx(node, skb);
	}
	now = ktime_get();
	spin_unlock(&bus->inbox_lock);
	return now;
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
	bus->ops = timing == VCANBUS_TIMING_WIRE ? &vcanbus_wire_ops :
						   &vcanbus_instant_ops;
	if (!bus->rx_overflow_set)
		bus->rx_overflow = timing == VCANBUS_TIMING_WIRE ?
				   VCANBUS_RX_OVERRUN : VCANBUS_RX_HOLD;
}

/*
 * The arbitration field as it goes on the wire, as a number: the lower wins.
 * ISO 11898-1 bit order: 11 base ID bits (an XL frame's priority), then
 * RTR (base format; RRS, always dominant, in FD and XL frames) or SRR
 * (always recessive, extended format), IDE, the 18 ID extension bits and
 * RTR (extended format), FDF and last XLF (base format only): on the same
 * identifier a Classical data frame beats an FD frame, which beats an XL
 * frame. Base-format frames have no extension bits: the IDE bit decides
 * before them. Bits: base ID 33..23, RTR/SRR 22, IDE 21, ID extension
 * 20..3, RTR 2, FDF 1, XLF 0.
 */
u64 vcanbus_arbitration_key(const struct sk_buff *skb)
{
	enum vcanbus_format format = vcanbus_skb_format(skb);
	canid_t id = ((const struct canfd_frame *)skb->data)->can_id;
	u64 fdf = format != VCANBUS_CC, xlf = format == VCANBUS_XL;
	u64 rtr;

	if (xlf)
		return (u64)(id & CANXL_PRIO_MASK) << 23 | fdf << 1 | xlf;
	rtr = !!(id & CAN_RTR_FLAG);
	if (id & CAN_EFF_FLAG)
		return (u64)((id & CAN_EFF_MASK) >> 18) << 23 | 1ULL << 22 |
		       1ULL << 21 | (u64)(id & 0x3ffff) << 3 | rtr << 2 |
		       fdf << 1;
	return (u64)(id & CAN_SFF_MASK) << 23 | rtr << 22 | fdf << 1;
}

/* A frame goes into a mailbox of @node's. */
void vcanbus_node_queue_tx(struct vcanbus_node *node, struct sk_buff *skb)
{
	if (skb_queue_empty(&node->txq))
		list_add_tail(&node->pend_list, &node->bus->pending);
	__skb_queue_tail(&node->txq, skb);
}

/* A frame leaves @node's mailboxes: completed, given up or aborted. */
void vcanbus_node_unlink_tx(struct vcanbus_node *node, struct sk_buff *skb)
{
	__skb_unlink(skb, &node->txq);
	if (skb_queue_empty(&node->txq))
		list_del_init(&node->pend_list);
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
 * Does @rx take a frame from @tx off the bus? Only a node with fd on
 * takes FD frames, only one with xl on XL frames; every node Classical
 * ones, as every CAN controller reads them (also an XL controller with fd
 * off, "XL-only": it only sends no Classical frames).
 */
bool vcanbus_receives(const struct vcanbus_node *rx,
		      const struct vcanbus_node *tx, enum vcanbus_format format)
{
	if (!vcanbus_node_on_bus(rx))
		return false;
	if (rx == tx && !(rx->can.ctrlmode & CAN_CTRLMODE_LOOPBACK))
		return false;
	switch (format) {
	case VCANBUS_FD:
		return rx->can.ctrlmode & CAN_CTRLMODE_FD;
	case VCANBUS_XL:
		return rx->can.ctrlmode & VCANBUS_CTRLMODE_XL;
	default:
		return true;
	}
}

/*
 * Is there room for the frame in the queue of each node that receives it
 * (its sender needs two places: echo and, in loopback mode, RX)? When
 * receivers overrun, only the sender's echo needs a place: a controller
 * reports a completed transmission whatever its RX FIFO holds.
 */
static bool vcanbus_deliverable(struct vcanbus_bus *bus,
				struct vcanbus_node *tx,
				enum vcanbus_format format)
{
	struct vcanbus_node *rx, *tmp;
	unsigned int len;

	if (bus->rx_overflow == VCANBUS_RX_OVERRUN)
		return vcanbus_rxq_len(&tx->rxq) < VCANBUS_RXQ_LEN;
	/* Only a crowded node can lack room (vcanbus_node_crowded()). */
	list_for_each_entry_safe(rx, tmp, &bus->crowded, crowd_list) {
		len = vcanbus_rxq_len(&rx->rxq);
		if (len + 2 <= VCANBUS_RXQ_LEN) {
			list_del_init(&rx->crowd_list);	/* its poll made room */
			continue;
		}
		if (rx == tx ? len + 2 > VCANBUS_RXQ_LEN :
		    vcanbus_receives(rx, tx, format) &&
		    len + 1 > VCANBUS_RXQ_LEN)
			return false;
	}
	return true;
}

/*
 * @node's receive queue holds @len entries now: if that leaves no room
 * for two more, it goes on the bus's crowded list (until its poll has
 * made room and vcanbus_deliverable() sees it).
 */
void vcanbus_node_crowded(struct vcanbus_node *node, unsigned int len)
{
	lockdep_assert_held(&node->bus->lock);

	if (len + 2 > VCANBUS_RXQ_LEN && list_empty(&node->crowd_list))
		list_add_tail(&node->crowd_list, &node->bus->crowded);
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
	enum vcanbus_format format = vcanbus_skb_format(skb);

	if (vcanbus_deliverable(bus, tx, format))
		return true;
	WRITE_ONCE(bus->stalled, true);
	smp_mb();	/* pairs with smp_mb() in vcanbus_bus_kick() */
	if (!vcanbus_deliverable(bus, tx, format))
		return false;
	WRITE_ONCE(bus->stalled, false);
	return true;
}

/* A frame completed at @end: what every receiver's copy is made from. */
void vcanbus_delivery_begin(struct vcanbus_delivery *d,
			    struct vcanbus_node *tx, struct sk_buff *skb,
			    ktime_t end)
{
	d->tx = tx;
	d->skb = skb;
	d->end = end;
	d->format = vcanbus_skb_format(skb);
	d->rx_skb = NULL;
}

/*
 * The skb every receiver's own is cloned from (by its NAPI poll): the
 * frame as the sender's controller put it on the wire
 * (vcanbus_node_tx_frame()), made for the first receiver. When those are
 * the bytes of the sender's skb, as they nearly always are, it is a clone
 * of that (much cheaper than a new skb), else a new skb with them.
 *
 * Either way it names the sending node as the interface the frame first
 * appeared on, whatever the frame's history before it reached the bus
 * (can-gw may have put it on the sender), so that can-gw's "not back to
 * where it came from" rule depends neither on a frame's content nor on the
 * kernel; and it starts a new can-gw hop count, as a frame through vxcan
 * does (compat.h). Its other fields are made those of a received frame.
 * Nothing changes it after this: the receivers' polls clone it at once.
 * NULL without memory.
 */
static struct sk_buff *vcanbus_delivery_rx_skb(struct vcanbus_delivery *d)
{
	struct sk_buff *tx_skb = d->skb, *skb;
	int iif = d->tx->ndev->ifindex;
	union vcanbus_frame wire;

	if (d->rx_skb)
		return d->rx_skb;
	/* An XL frame goes on the wire as it is (vcanbus_tx_invalid()). */
	if (d->format != VCANBUS_XL)
		vcanbus_node_tx_frame(d->tx, tx_skb, &wire);
	/* A cloned skb's headroom is not its own to number (can-gw's clones). */
	if ((d->format == VCANBUS_XL ||
	     !memcmp(&wire, tx_skb->data,
		     d->format == VCANBUS_FD ? CANFD_MTU : CAN_MTU)) &&
	    !skb_cloned(tx_skb) && vcanbus_skb_may_clone_as(tx_skb, iif)) {
		/* Numbered before its clones share its headroom. */
		vcanbus_skb_renumber(tx_skb, &vcanbus_skb_numbers);
		skb = skb_clone(tx_skb, GFP_ATOMIC);
		if (!skb)
			return NULL;
		/* What the host gave it (skb extensions too) stays behind. */
		skb_scrub_packet(skb, false);
		skb->pkt_type = PACKET_BROADCAST;
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		skb->priority = 0;	/* the sender's socket's, not the bus's */
		skb->mark = 0;
	} else if (d->format == VCANBUS_XL) {
		struct canxl_frame *cxl;

		skb = alloc_canxl_skb(d->tx->ndev, &cxl, tx_skb->len -
				      CANXL_HDR_SIZE);
		if (!skb)
			return NULL;
		memcpy(cxl, tx_skb->data, tx_skb->len);
		vcanbus_skb_renumber(skb, &vcanbus_skb_numbers);
	} else if (d->format == VCANBUS_FD) {
		struct canfd_frame *cfd;

		skb = alloc_canfd_skb(d->tx->ndev, &cfd);
		if (!skb)
			return NULL;
		memcpy(cfd, &wire.fd, CANFD_MTU);
		vcanbus_skb_renumber(skb, &vcanbus_skb_numbers);
	} else {
		struct can_frame *cf;

		skb = alloc_can_skb(d->tx->ndev, &cf);
		if (!skb)
			return NULL;
		memcpy(cf, &wire.cc, CAN_MTU);
		vcanbus_skb_renumber(skb, &vcanbus_skb_numbers);
	}
	if (vcanbus_skb_set_origin(skb, iif)) {
		kfree_skb(skb);
		return NULL;
	}
	skb->tstamp = d->end;
	vcanbus_skb_cb(skb)->echo = false;
	vcanbus_skb_cb(skb)->iif = iif;
	d->rx_skb = skb;
	return skb;
}

/*
 * @rx, which receives the frame (vcanbus_receives()), gets it: a reference
 * to the receivers' skb in its queue; its NAPI poll makes its own clone of
 * it, off the bus lock and on its own time.
 */
void vcanbus_deliver(struct vcanbus_bus *bus, struct vcanbus_delivery *d,
		     struct vcanbus_node *rx)
{
	struct sk_buff *skb;

	/* Overrun: the frame is lost to it alone (never its echo). */
	if (bus->rx_overflow == VCANBUS_RX_OVERRUN &&
	    vcanbus_rxq_len(&rx->rxq) >= VCANBUS_RXQ_LEN) {
		vcanbus_err_rx_overflow(rx, d->end);
		return;
	}
	rx->rx_overrun = false;
	skb = vcanbus_delivery_rx_skb(d);
	if (!skb) {
		rx->ndev->stats.rx_dropped++;
		return;
	}
	vcanbus_node_queue_shared(rx, skb_get(skb));
}

/* Every receiver has its copy: the sender's statistics and its echo. */
void vcanbus_delivery_end(struct vcanbus_bus *bus, struct vcanbus_delivery *d)
{
	struct net_device_stats *stats = &d->tx->ndev->stats;
	struct sk_buff *skb = d->skb;

	consume_skb(d->rx_skb);		/* the receivers hold theirs */
	stats->tx_packets++;
	stats->tx_bytes += can_skb_get_data_len(skb);
	bus->stats.frames++;

	/* The echo, as can_get_echo_skb() would give it, but in bus order. */
	if (skb->pkt_type == PACKET_LOOPBACK) {
		skb->pkt_type = PACKET_BROADCAST;
		skb->tstamp = d->end;
		vcanbus_skb_cb(skb)->echo = true;
		vcanbus_node_queue_rx(d->tx, skb);
	} else {
		consume_skb(skb);
	}

	vcanbus_node_wake(d->tx);
}

/**
 * vcanbus_bus_run() - go on with the frames in the mailboxes
 * @bus: the bus, its lock held
 *
 * As far as the timing allows; it stops when a frame's receiver has no
 * room, and vcanbus_bus_kick() from that receiver's NAPI poll runs it
 * again.
 */
void vcanbus_bus_run(struct vcanbus_bus *bus)
{
	ktime_t now = vcanbus_bus_take_inbox(bus);

	bus->ops->run(bus, now);
}

/* @node stops or goes bus-off: a frame of its own on the bus is cut off. */
void vcanbus_bus_cut(struct vcanbus_bus *bus, struct vcanbus_node *node)
{
	lockdep_assert_held(&bus->lock);
	if (bus->ops->cut)
		bus->ops->cut(bus, node);
}

/* @node restarts after bus-off. */
void vcanbus_bus_restart(struct vcanbus_bus *bus, struct vcanbus_node *node)
{
	lockdep_assert_held(&bus->lock);
	if (bus->ops->restart)
		bus->ops->restart(bus, node);
}

/* Restart a stalled bus; called by a NAPI poll that made room. */
void vcanbus_bus_kick(struct vcanbus_bus *bus)
{
	smp_mb();	/* the room made, then the look: vcanbus_bus_room() */
	if (!READ_ONCE(bus->stalled))
		return;
	vcanbus_bus_lock_bh(bus);
	vcanbus_bus_run(bus);
	vcanbus_bus_unlock_bh(bus);
}
