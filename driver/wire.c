// SPDX-License-Identifier: GPL-2.0
/*
 * Wire timing: a frame occupies the bus for exactly the time it takes on
 * a real wire, and the nodes with pending frames arbitrate by identifier.
 *
 * The bus clock is CLOCK_MONOTONIC. A frame starts when the bus is idle
 * (the previous frame's end plus the intermission) and a frame has been
 * queued, or, after a stall, when the bus resumes; it ends start + its bits
 * at the sender's bit rates (frame.c). An hrtimer fires at each start of
 * frame that lies ahead, for the arbitration, and at each end of frame,
 * which completes it: every receiver gets it, and the echo, with the end
 * of frame as timestamp. If the host runs late, the timer completes the
 * frames whose end has passed, in order, each with its exact bus time, at
 * most VCANBUS_WIRE_BUDGET of them per run: the rest wait for its next run
 * (at once), so that softirq work stays bounded, as a NAPI budget bounds a
 * poll. A host that cannot keep up with the wire for long (the frames cost
 * more CPU than their bus time) would leave the bus ever further behind:
 * beyond VCANBUS_WIRE_MAX_LAG_NS the bus clock skips ahead to real time,
 * and the bus counts the time skipped (slipped_ns).
 *
 * At each start of frame, the frames that were pending by then contend:
 * each running node offers one (by its tx_order) and the lowest
 * arbitration field wins (bus.c: vcanbus_arbitration_key); equal fields go
 * by arrival. Every other node that offered a frame lost arbitration and
 * counts it.
 *
 * All under bus->lock, taken with bottom halves disabled: the timer is a
 * soft hrtimer, its callback runs in softirq context.
 */
#include <linux/can/dev.h>
#include <linux/hrtimer.h>
#include <linux/timekeeping.h>

#include "frame.h"
#include "vcanbus.h"

/* CRC delimiter, ACK slot and delimiter, EOF: always at the nominal rate. */
#define VCANBUS_TAIL_BITS	10
/* Error flag and error delimiter after a detected error. */
#define VCANBUS_ERROR_FRAME_BITS	(6 + 8)
/* Where a node at another bit rate loses sync: a few bits after SOF. */
#define VCANBUS_DESYNC_BIT	6
/* Frame ends one run of the timer completes; more wait for its next run. */
#define VCANBUS_WIRE_BUDGET	16
/* How far the bus clock may fall behind real time before it skips ahead. */
#define VCANBUS_WIRE_MAX_LAG_NS	NSEC_PER_SEC

/* One bit at @bt, in ns: exact, as the clock runs at a whole ns per tq. */
static u64 vcanbus_bit_ns(const struct vcanbus_node *node,
			  const struct can_bittiming *bt)
{
	return div_u64((u64)bt->brp * can_bit_time(bt) * NSEC_PER_SEC,
		       node->can.clock.freq);
}

/* The bits @skb from @tx takes on the wire, SOF to EOF. */
static void vcanbus_wire_bits(const struct vcanbus_node *tx,
			      const struct sk_buff *skb,
			      struct vcanbus_frame_bits *bits)
{
	union vcanbus_frame f;

	vcanbus_wire_frame(tx, skb, &f);
	vcanbus_frame_bits(&f.fd, can_is_canfd_skb(skb),
			   !(tx->can.ctrlmode & CAN_CTRLMODE_FD_NON_ISO), bits);
}

/*
 * The time the first @nbits bits of the frame take (all of it: nominal +
 * data bits): up to the data phase and from the CRC delimiter on at the
 * nominal bit rate, the data phase at the data bit rate.
 */
static u64 vcanbus_wire_ns(const struct vcanbus_node *tx,
			   const struct vcanbus_frame_bits *bits, u32 nbits)
{
	u64 nbit = vcanbus_bit_ns(tx, &tx->can.bittiming);
	u32 head = bits->nominal - VCANBUS_TAIL_BITS;
	u32 n = min(nbits, head);
	u64 ns = n * nbit;

	if (nbits > head && bits->data) {
		n = min(nbits - head, bits->data);
		ns += n * vcanbus_bit_ns(tx, vcanbus_data_bittiming(&tx->can));
	}
	if (nbits > head + bits->data)
		ns += (nbits - head - bits->data) * nbit;
	return ns;
}

/*
 * Does @rx take part in @tx's frame at all? Not the sender, not a node that
 * is down or bus-off, and not a Classical-only node facing a CAN FD frame:
 * it ignores it (the protocol exception of FD-capable controllers), with
 * no ACK, no error and no count.
 */
static bool vcanbus_wire_involved(const struct vcanbus_node *rx,
				  const struct vcanbus_node *tx,
				  const struct sk_buff *skb)
{
	return rx != tx && vcanbus_node_may_send(rx) &&
	       (!can_is_canfd_skb(skb) || (rx->can.ctrlmode & CAN_CTRLMODE_FD));
}

/**
 * vcanbus_wire_in_sync() - does @rx sample @tx's frame at its bit rates?
 * @bus: the bus
 * @rx: a receiving node
 * @tx: the sender
 * @skb: the frame
 *
 * A node at another nominal bit rate (or, for a CAN FD frame with BRS, at
 * another data bit rate) than the sender reads garbage: it never receives
 * the frame, and it flags an error (wire.c, errors.c). Always true in
 * instant timing, which has no bit rates.
 */
bool vcanbus_wire_in_sync(const struct vcanbus_bus *bus,
			  const struct vcanbus_node *rx,
			  const struct vcanbus_node *tx,
			  const struct sk_buff *skb)
{
	const struct canfd_frame *cf = (const struct canfd_frame *)skb->data;

	if (bus->timing != VCANBUS_TIMING_WIRE || rx == tx)
		return true;
	if (vcanbus_bit_ns(rx, &rx->can.bittiming) !=
	    vcanbus_bit_ns(tx, &tx->can.bittiming))
		return false;
	return !can_is_canfd_skb(skb) || !(cf->flags & CANFD_BRS) ||
	       vcanbus_bit_ns(rx, vcanbus_data_bittiming(&rx->can)) ==
	       vcanbus_bit_ns(tx, vcanbus_data_bittiming(&tx->can));
}

/*
 * The next start of frame: the bus is idle and some node has a frame
 * ready (KTIME_MAX: none has). A frame the host is late with starts in
 * the past, but never more than VCANBUS_WIRE_MAX_LAG_NS before @now.
 */
static ktime_t vcanbus_wire_next_start(struct vcanbus_bus *bus, ktime_t now)
{
	ktime_t first = KTIME_MAX, start;
	struct vcanbus_node *node;
	struct sk_buff *skb;

	list_for_each_entry(node, &bus->nodes, bus_list) {
		skb = vcanbus_node_may_send(node) ? skb_peek(&node->txq) : NULL;
		if (skb && vcanbus_skb_cb(skb)->queued < first)
			first = vcanbus_skb_cb(skb)->queued;
	}
	if (first == KTIME_MAX)
		return KTIME_MAX;
	start = max(bus->wire.idle_at, first);
	if (ktime_sub(now, start) > VCANBUS_WIRE_MAX_LAG_NS) {
		bus->stats.slipped_ns += ktime_sub(now, start);
		start = now;
	}
	return start;
}

/*
 * The arbitration at start of frame @start: each node offers the frame it
 * would send of those queued by then; the winner, or NULL.
 */
static struct vcanbus_node *vcanbus_wire_arbitrate(struct vcanbus_bus *bus,
						   ktime_t start,
						   struct sk_buff **skbp)
{
	struct vcanbus_node *node, *winner = NULL;
	struct sk_buff *skb, *best = NULL;
	u64 key, best_key = 0;

	list_for_each_entry(node, &bus->nodes, bus_list) {
		node->contending = vcanbus_node_may_send(node) ?
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
		if (started && node->contending && node != winner) {
			node->can.can_stats.arbitration_lost++;
			bus->stats.arbitration_lost++;
		}
		node->contending = NULL;
	}
}

/*
 * How the frame from @tx will end, decided when it starts (all the nodes'
 * states are known then); @err_bit: the bit at which an error is seen.
 */
static enum vcanbus_wire_result
vcanbus_wire_outcome(struct vcanbus_bus *bus, struct vcanbus_node *tx,
		     struct sk_buff *skb, const struct vcanbus_frame_bits *bits,
		     u32 *err_bit)
{
	u32 total = bits->nominal + bits->data;
	struct vcanbus_wire *wire = &bus->wire;
	bool acked = tx->can.ctrlmode & (CAN_CTRLMODE_LOOPBACK |
					 CAN_CTRLMODE_PRESUME_ACK);
	bool desync = false, data_desync = false;
	struct vcanbus_node *rx;

	/* Injected: a bit flips somewhere in the frame (seeded sequence). */
	if (wire->bit_error_ppm &&
	    prandom_u32_state(&wire->rnd) % 1000000 <
	    (u64)wire->bit_error_ppm * total) {
		*err_bit = prandom_u32_state(&wire->rnd) % total;
		return VCANBUS_WIRE_BIT_ERROR;
	}

	list_for_each_entry(rx, &bus->nodes, bus_list) {
		/* A listening node neither acknowledges nor flags errors. */
		if (!vcanbus_wire_involved(rx, tx, skb) ||
		    (rx->can.ctrlmode & CAN_CTRLMODE_LISTENONLY))
			continue;
		if (vcanbus_wire_in_sync(bus, rx, tx, skb)) {
			acked = true;
		} else if (rx->can.state < CAN_STATE_ERROR_PASSIVE) {
			/* Its active error flag destroys the frame. */
			if (vcanbus_bit_ns(rx, &rx->can.bittiming) !=
			    vcanbus_bit_ns(tx, &tx->can.bittiming))
				desync = true;
			else
				data_desync = true;
		}
	}
	if (desync || data_desync) {
		*err_bit = desync ? VCANBUS_DESYNC_BIT :
			   bits->nominal - VCANBUS_TAIL_BITS;
		return VCANBUS_WIRE_FORM_ERROR;
	}
	if (!acked) {
		*err_bit = total - 9;	/* the ACK slot */
		return VCANBUS_WIRE_ACK_ERROR;
	}
	return VCANBUS_WIRE_OK;
}

/*
 * Puts the next frame on the idle bus if its start of frame has come by
 * @now. Returns when the bus needs looking at again: the end of the frame
 * it started, the start of frame ahead, or KTIME_MAX (no frame pending,
 * or the bus stalls for want of room at a receiver).
 */
static ktime_t vcanbus_wire_start(struct vcanbus_bus *bus, ktime_t now)
{
	struct vcanbus_wire *wire = &bus->wire;
	struct vcanbus_frame_bits bits;
	struct vcanbus_node *tx;
	struct sk_buff *skb;
	ktime_t start;
	u32 err_bit;
	u64 ns;

	start = vcanbus_wire_next_start(bus, now);
	if (start > now)
		return start;		/* KTIME_MAX: nothing pending */
	tx = vcanbus_wire_arbitrate(bus, start, &skb);
	/* No frame goes on the wire that a receiver has no room for. */
	if (!vcanbus_bus_room(bus, tx, skb)) {
		vcanbus_wire_settle(bus, tx, false);
		return KTIME_MAX;
	}
	vcanbus_wire_settle(bus, tx, true);
	WRITE_ONCE(bus->stalled, false);

	vcanbus_wire_bits(tx, skb, &bits);
	wire->result = vcanbus_wire_outcome(bus, tx, skb, &bits, &err_bit);
	if (wire->result == VCANBUS_WIRE_OK) {
		ns = vcanbus_wire_ns(tx, &bits, bits.nominal + bits.data);
		bus->stats.bits += bits.nominal + bits.data;
	} else {
		ns = vcanbus_wire_ns(tx, &bits, err_bit + 1) +
		     VCANBUS_ERROR_FRAME_BITS * vcanbus_bit_ns(tx, &tx->can.bittiming);
		bus->stats.bits += err_bit + 1 + VCANBUS_ERROR_FRAME_BITS;
		bus->stats.errors++;
	}
	bus->stats.busy_ns += ns;
	wire->tx = tx;
	wire->skb = skb;
	wire->busy = true;
	wire->end = ktime_add_ns(start, ns);
	wire->idle_at = ktime_add_ns(wire->end, VCANBUS_INTERMISSION_BITS *
				     vcanbus_bit_ns(tx, &tx->can.bittiming));
	return wire->end;
}

/* The frame went through: delivery, and the counters of all involved. */
static void vcanbus_wire_success(struct vcanbus_bus *bus,
				 struct vcanbus_node *tx, struct sk_buff *skb,
				 ktime_t when)
{
	struct vcanbus_node *rx;

	list_for_each_entry(rx, &bus->nodes, bus_list) {
		if (!vcanbus_wire_involved(rx, tx, skb))
			continue;
		if (vcanbus_wire_in_sync(bus, rx, tx, skb))
			vcanbus_err_rx_ok(rx);
		else
			vcanbus_err_rx(rx, true, when);	/* error passive */
	}
	vcanbus_err_tx_ok(tx);
	__skb_unlink(skb, &tx->txq);
	vcanbus_complete(bus, tx, skb, when);
}

/* An error ended the frame: every node saw it; the sender may retry. */
static void vcanbus_wire_failure(struct vcanbus_bus *bus,
				 struct vcanbus_node *tx, struct sk_buff *skb,
				 ktime_t when)
{
	struct vcanbus_wire *wire = &bus->wire;
	struct vcanbus_node *rx;

	/*
	 * Listening nodes too: a node in bus monitoring mode detects errors
	 * as any receiver; it only never drives the bus (no ACK, no flag).
	 */
	list_for_each_entry(rx, &bus->nodes, bus_list) {
		if (!vcanbus_wire_involved(rx, tx, skb))
			continue;
		vcanbus_err_rx(rx, !vcanbus_wire_in_sync(bus, rx, tx, skb), when);
	}
	vcanbus_err_tx(tx, wire->result == VCANBUS_WIRE_ACK_ERROR, when);

	/* One-shot: no retransmission, the frame is given up. */
	if (tx->can.ctrlmode & CAN_CTRLMODE_ONE_SHOT) {
		__skb_unlink(skb, &tx->txq);
		tx->ndev->stats.tx_aborted_errors++;
		kfree_skb(skb);
		vcanbus_node_wake(tx);
	}
}

/* The frame on the wire (or its error frame) has ended. */
static void vcanbus_wire_finish(struct vcanbus_bus *bus)
{
	struct vcanbus_wire *wire = &bus->wire;
	ktime_t when = ktime_mono_to_real(wire->end);
	struct vcanbus_node *node;

	wire->busy = false;
	if (!wire->skb)
		return;			/* cut off: its sender went down */
	if (wire->result == VCANBUS_WIRE_OK)
		vcanbus_wire_success(bus, wire->tx, wire->skb, when);
	else
		vcanbus_wire_failure(bus, wire->tx, wire->skb, when);
	wire->skb = NULL;
	wire->tx = NULL;

	list_for_each_entry(node, &bus->nodes, bus_list)
		if (vcanbus_node_may_send(node))
			vcanbus_err_update_state(node, when);
}

/*
 * Runs the bus up to @now: ends the frame on the wire, arbitrates and
 * starts the next, and so on, ending at most VCANBUS_WIRE_BUDGET frames.
 * Returns when the timer must fire next, KTIME_MAX: not at all.
 */
static ktime_t vcanbus_wire_advance(struct vcanbus_bus *bus, ktime_t now)
{
	struct vcanbus_wire *wire = &bus->wire;
	unsigned int budget = VCANBUS_WIRE_BUDGET;
	ktime_t next;

	for (;;) {
		if (wire->busy) {
			if (wire->end > now)
				return wire->end;
			/*
			 * Budget spent: the next run, right after this one,
			 * does the rest; meanwhile the CPU serves others.
			 */
			if (!budget--)
				return ktime_add_ns(now, 1);
			vcanbus_wire_finish(bus);
		}
		/*
		 * The frame of a sender that went down may end after the bus
		 * went over to instant timing: nothing starts after it then.
		 */
		if (bus->timing != VCANBUS_TIMING_WIRE)
			return KTIME_MAX;
		next = vcanbus_wire_start(bus, now);
		if (!wire->busy)
			return next;
	}
}

static enum hrtimer_restart vcanbus_wire_timer(struct hrtimer *timer)
{
	struct vcanbus_bus *bus = container_of(timer, struct vcanbus_bus,
					       wire.timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	ktime_t now = ktime_get(), next;

	spin_lock(&bus->lock);
	next = vcanbus_wire_advance(bus, now);
	if (next == KTIME_MAX) {
		bus->wire.armed = false;
	} else {
		hrtimer_set_expires(timer, next);
		ret = HRTIMER_RESTART;
	}
	spin_unlock(&bus->lock);
	return ret;
}

/**
 * vcanbus_wire_run() - start the next frame if its time has come
 * @bus: the bus, its lock held
 *
 * Called when a frame was queued or room was made. With a frame on the
 * wire, its end does the rest. A timer armed for a start of frame ahead
 * is taken back, as this frame may start earlier; if its callback runs
 * already, that sees the frame.
 */
void vcanbus_wire_run(struct vcanbus_bus *bus)
{
	struct vcanbus_wire *wire = &bus->wire;
	ktime_t now = ktime_get(), next;

	lockdep_assert_held(&bus->lock);

	if (wire->busy)
		return;
	if (wire->armed) {
		if (hrtimer_try_to_cancel(&wire->timer) < 0)
			return;
		wire->armed = false;
	}
	/* A bus that stalled resumes now, not back in time. */
	if (READ_ONCE(bus->stalled))
		wire->idle_at = max(wire->idle_at, now);
	next = vcanbus_wire_advance(bus, now);
	if (next != KTIME_MAX) {
		wire->armed = true;
		hrtimer_start(&wire->timer, next, HRTIMER_MODE_ABS_SOFT);
	}
}

/* @node stops while its frame is on the wire: the frame is cut off. */
void vcanbus_wire_abort(struct vcanbus_bus *bus, struct vcanbus_node *node)
{
	struct vcanbus_wire *wire = &bus->wire;

	lockdep_assert_held(&bus->lock);

	if (wire->tx != node || !wire->skb)
		return;
	/* abort_tx counts and frees it with the other mailboxes. */
	wire->skb = NULL;
	wire->tx = NULL;
	/* The bus stays busy until the timer: the wire time is spent. */
}

void vcanbus_wire_set_seed(struct vcanbus_bus *bus, u32 seed)
{
	bus->wire.seed = seed;
	prandom_seed_state(&bus->wire.rnd, seed);
}

void vcanbus_wire_init(struct vcanbus_bus *bus)
{
	vcanbus_wire_set_seed(bus, 1);
	vcanbus_hrtimer_setup(&bus->wire.timer, vcanbus_wire_timer,
			      CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
}

/* The bus is going away; it has no nodes any more. */
void vcanbus_wire_exit(struct vcanbus_bus *bus)
{
	hrtimer_cancel(&bus->wire.timer);
}
