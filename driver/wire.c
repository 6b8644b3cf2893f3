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
 * most VCANBUS_WIRE_BUDGET of them per run, so that softirq work stays
 * bounded, as a NAPI budget bounds a poll. A bus still behind then
 * catches up in process context, as NAPI falls back to ksoftirqd: a work
 * item does a budget at a time and queues itself again, on a workqueue
 * with one work active, so that late buses take turns and never more than
 * one CPU, fairly scheduled with everything else (a softirq re-armed at
 * once would keep every CPU in interrupts: a debug kernel under 24 such
 * buses ran nothing else for 20 minutes). Caught up, the bus arms its
 * timer again. A host that cannot keep up with the wire for long (the
 * frames cost more CPU than their bus time) would leave the bus ever
 * further behind: beyond VCANBUS_WIRE_MAX_LAG_NS the bus clock skips
 * ahead to real time, and the bus counts the time skipped (slipped_ns).
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
#include <linux/workqueue.h>
#include <linux/can/dev.h>
#include <linux/hrtimer.h>
#include <linux/timekeeping.h>

#include "frame.h"
#include "vcanbus.h"

/* CRC delimiter, ACK slot and delimiter, EOF: always at the nominal rate. */
#define VCANBUS_TAIL_BITS	10
/* Suspend transmission of an error-passive transmitter, in bits. */
#define VCANBUS_SUSPEND_BITS	8
/* Bus-off recovery: this many sequences of 11 recessive bits. */
#define VCANBUS_RECOVERY_SEQUENCES	128
#define VCANBUS_RECOVERY_BITS	11
/* Where a node at another bit rate loses sync: a few bits after SOF. */
#define VCANBUS_DESYNC_BIT	6
/* Frame ends one run of the timer completes; more wait for its next run. */
#define VCANBUS_WIRE_BUDGET	16
/* How far the bus clock may fall behind real time before it skips ahead. */
#define VCANBUS_WIRE_MAX_LAG_NS	NSEC_PER_SEC
/* vcanbus_wire_advance(): the budget is spent, the bus is behind. */
#define VCANBUS_WIRE_LATE	0

/* Where late buses catch up, one at a time. */
static struct workqueue_struct *vcanbus_wire_wq;

/* The bits @skb from @tx takes on the wire, SOF to EOF. */
static void vcanbus_wire_bits(const struct vcanbus_node *tx,
			      const struct sk_buff *skb,
			      struct vcanbus_frame_bits *bits)
{
	const struct canxl_frame *cxl = (const struct canxl_frame *)skb->data;
	union vcanbus_frame f;

	if (vcanbus_skb_format(skb) == VCANBUS_XL) {
		vcanbus_frame_bits_xl(cxl->prio, cxl->len, bits);
		return;
	}
	vcanbus_node_tx_frame(tx, skb, &f);
	vcanbus_frame_bits(&f.fd, can_is_canfd_skb(skb),
			   !(tx->can.ctrlmode & CAN_CTRLMODE_FD_NON_ISO), bits);
}

/*
 * The time the first @nbits bits of the frame take (all of it: nominal +
 * data bits). Without a bit rate switch every bit is a nominal one. With
 * BRS the rate switches at the sample point of the BRS bit and back at
 * the sample point of the CRC delimiter (ISO 11898-1:2015, 11.3.1.3 and
 * 11.3.1.4): those two bits are each partly nominal and partly data
 * phase; the bits between (ESI to the last CRC bit) are data-phase bits.
 * A CAN XL frame switches at whole bits, after ADH and after FCP
 * (frame.c).
 */
static u64 vcanbus_wire_ns(const struct vcanbus_node *tx,
			   const struct vcanbus_frame_bits *bits, u32 nbits)
{
	u64 nbit = tx->bt.nominal, dbit = tx->bt.data;
	u64 nsp = tx->bt.nominal_sp, dsp = tx->bt.data_sp;
	/* BRS is the last bit before the data phase. */
	u32 brs = bits->nominal - VCANBUS_TAIL_BITS;
	u32 head;
	u64 ns;

	if (!bits->data)
		return nbits * nbit;
	if (bits->xl) {
		head = bits->nominal - VCANBUS_XL_TAIL_BITS;
		ns = min(nbits, head) * nbit;
		if (nbits > head)
			ns += min(nbits - head, bits->data) * tx->bt.xl;
		if (nbits > head + bits->data)
			ns += (nbits - head - bits->data) * nbit;
		return ns;
	}

	ns = min(nbits, brs - 1) * nbit;
	if (nbits >= brs)				/* BRS */
		ns += nsp + (dbit - dsp);
	if (nbits > brs)				/* ESI .. CRC */
		ns += min(nbits - brs, bits->data) * dbit;
	if (nbits > brs + bits->data)			/* CRC delimiter */
		ns += dsp + (nbit - nsp);
	if (nbits > brs + bits->data + 1)		/* ACK .. EOF */
		ns += (nbits - brs - bits->data - 1) * nbit;
	return ns;
}

/*
 * Does @rx take part in @tx's frame at all? Not the sender, and not a node
 * that is down, bus-off or in its bus-off recovery.
 */
static bool vcanbus_wire_involved(const struct vcanbus_node *rx,
				  const struct vcanbus_node *tx)
{
	return rx != tx && vcanbus_node_on_bus(rx);
}

/* How a node reads a frame on the wire. */
enum vcanbus_reading {
	VCANBUS_READS,		/* as it was sent */
	VCANBUS_LOSES_SYNC,	/* another nominal bit rate: a form error */
	VCANBUS_LOSES_DATA,	/* another data bit rate: a form error */
	VCANBUS_NO_FD,		/* fd off: a form error at the FDF bit */
	VCANBUS_CRC_MISMATCH,	/* the other CAN FD protocol: a CRC error */
	/*
	 * A format it does not take, at a bit its protocol reserves (an FD
	 * controller at an XL frame's XLF, which is its res bit; an XL-only
	 * one at an FD frame's): the protocol exception. It neither flags
	 * nor counts an error, and waits for the bus to be idle.
	 */
	VCANBUS_EXCEPTION,
};

/*
 * A node that never signals an error, though it acknowledges and
 * receives: in restricted operation, as the M_CAN manuals describe it (no
 * error flag, it waits for bus idle, its error counters frozen); and an
 * XL controller with fd off, whose error signalling is off (can-dev's
 * "XL-only" mode), which vcanbus makes behave the same, as a receiver and
 * as a sender (restricted nodes never send).
 */
static bool vcanbus_wire_silent(const struct vcanbus_node *node)
{
	return (node->can.ctrlmode & VCANBUS_CTRLMODE_RESTRICTED) ||
	       vcanbus_node_xl_only(node);
}

/* How @rx, a node at @tx's nominal bit rate, reads an XL frame. */
static enum vcanbus_reading vcanbus_wire_reading_xl(const struct vcanbus_node *rx,
						    const struct vcanbus_node *tx)
{
	u32 tms = VCANBUS_CTRLMODE_XL_TMS;

	if (rx->can.ctrlmode & VCANBUS_CTRLMODE_XL) {
		/* PWM symbols are no bits to a node without them. */
		if (rx->bt.xl != tx->bt.xl ||
		    (rx->can.ctrlmode & tms) != (tx->can.ctrlmode & tms))
			return VCANBUS_LOSES_DATA;
		return VCANBUS_READS;
	}
	if (rx->can.ctrlmode & CAN_CTRLMODE_FD)
		return VCANBUS_EXCEPTION;
	return VCANBUS_NO_FD;
}

static enum vcanbus_reading vcanbus_wire_reading(const struct vcanbus_node *rx,
						 const struct vcanbus_node *tx,
						 const struct sk_buff *skb)
{
	const struct canfd_frame *cf = (const struct canfd_frame *)skb->data;
	enum vcanbus_format format = vcanbus_skb_format(skb);

	if (rx == tx)
		return VCANBUS_READS;
	if (rx->bt.nominal != tx->bt.nominal)
		return VCANBUS_LOSES_SYNC;
	if (format == VCANBUS_XL)
		return vcanbus_wire_reading_xl(rx, tx);
	if (format == VCANBUS_CC)
		return VCANBUS_READS;
	/* An XL controller reads FD frames only with fd on. */
	if (vcanbus_node_xl_only(rx))
		return VCANBUS_EXCEPTION;
	/*
	 * A node with fd off is a Classical controller: a recessive FDF bit
	 * is a form error to it (ISO 11898-1:2015; the protocol exception
	 * that would let it ignore the frame is an option vcanbus's
	 * controllers do not have).
	 */
	if (!(rx->can.ctrlmode & CAN_CTRLMODE_FD))
		return VCANBUS_NO_FD;
	if ((cf->flags & CANFD_BRS) && rx->bt.data != tx->bt.data)
		return VCANBUS_LOSES_DATA;
	/* ISO and non-ISO CAN FD differ in the CRC field. */
	if ((rx->can.ctrlmode ^ tx->can.ctrlmode) & CAN_CTRLMODE_FD_NON_ISO)
		return VCANBUS_CRC_MISMATCH;
	return VCANBUS_READS;
}

/*
 * Where a node that does not read the frame sees the error, and what
 * (data[2] of its error frame; the location is the field of that bit but
 * for a CRC error, which is one of the CRC sequence: see
 * vcanbus_reading_loc()).
 */
static u32 vcanbus_reading_error(enum vcanbus_reading r,
				 const struct vcanbus_frame_bits *bits,
				 u8 *type)
{
	*type = CAN_ERR_PROT_FORM;
	switch (r) {
	case VCANBUS_LOSES_SYNC:
		return VCANBUS_DESYNC_BIT;
	case VCANBUS_LOSES_DATA:
		/* after BRS; after ADH */
		return bits->nominal - (bits->xl ? VCANBUS_XL_TAIL_BITS :
						   VCANBUS_TAIL_BITS);
	case VCANBUS_NO_FD:
		return bits->fdf;
	case VCANBUS_CRC_MISMATCH:
		/* Flagged after the ACK delimiter: the error is seen there. */
		*type = CAN_ERR_PROT_UNSPEC;
		return bits->nominal + bits->data - 8;
	default:
		return U32_MAX;
	}
}

/*
 * How @rx read the frame up to the error that ended it (wire->err_bit): a
 * node that takes the protocol exception at the reserved bit after FDF
 * does so only if the frame got there intact; an error flag that starts
 * at or before that bit is an error to it, as to any reader.
 */
static enum vcanbus_reading
vcanbus_wire_reading_to_error(const struct vcanbus_wire *wire,
			      const struct vcanbus_node *rx,
			      const struct vcanbus_node *tx,
			      const struct sk_buff *skb)
{
	enum vcanbus_reading r = vcanbus_wire_reading(rx, tx, skb);

	if (r == VCANBUS_EXCEPTION && wire->err_bit <= wire->bits.fdf)
		return VCANBUS_READS;
	return r;
}

/* The location (data[3]) a node reports for its own error at bit @at. */
static u8 vcanbus_reading_loc(enum vcanbus_reading r,
			      const struct vcanbus_node *tx,
			      const struct sk_buff *skb, u32 at);

/* One bus-off recovery sequence of @node's, in ns. */
static u64 vcanbus_recovery_ns(const struct vcanbus_node *node)
{
	return VCANBUS_RECOVERY_BITS * node->bt.nominal;
}

/*
 * When @node may start a frame, as far as it is concerned: after its
 * suspend transmission, and after its bus-off recovery sequence if the
 * bus stays idle until then.
 */
static ktime_t vcanbus_wire_ready(const struct vcanbus_node *node)
{
	if (node->recovery)
		return ktime_add_ns(node->recovery_from,
				    node->recovery * vcanbus_recovery_ns(node));
	return node->tx_ready;
}

/*
 * The bus was idle (recessive) until @until: the recovering nodes count
 * the sequences of 11 recessive bits they saw; a node whose count is done
 * takes part in the bus again.
 */
static void vcanbus_wire_recover(struct vcanbus_bus *bus, ktime_t until)
{
	struct vcanbus_node *node, *tmp;
	u64 seq, n;

	list_for_each_entry_safe(node, tmp, &bus->wire.recovering, recover_list) {
		if (until <= node->recovery_from)
			continue;
		seq = vcanbus_recovery_ns(node);
		n = min_t(u64, div64_u64(ktime_sub(until, node->recovery_from), seq),
			  node->recovery);
		node->recovery -= n;
		node->recovery_from = ktime_add_ns(node->recovery_from, n * seq);
		if (!node->recovery)
			list_del_init(&node->recover_list);
	}
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

	list_for_each_entry(node, &bus->pending, pend_list) {
		if (!node->running || node->can.state == CAN_STATE_BUS_OFF)
			continue;
		skb = skb_peek(&node->txq);
		if (skb)
			first = min(first, max(vcanbus_skb_cb(skb)->queued,
					       vcanbus_wire_ready(node)));
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

	list_for_each_entry(node, &bus->pending, pend_list) {
		node->contending = vcanbus_node_on_bus(node) &&
				   node->tx_ready <= start ?
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
 * The bit of the arbitration field in which @key lost against @winner's
 * (0: the first identifier bit), from their keys
 * (vcanbus_arbitration_key(): base ID at bits 33..23, RTR/SRR 22, IDE 21,
 * ID extension 20..3, RTR 2, FDF 1, XLF 0). FDF follows IDE in the base
 * format, the extended RTR in the extended one; XLF follows FDF.
 */
static u8 vcanbus_lost_at(u64 key, u64 winner)
{
	int top = fls64(key ^ winner) - 1;

	if (top > 1)
		return 33 - top;
	if (top == 1)
		return (key & BIT_ULL(21)) ? 32 : 13;
	return 14;
}

/*
 * After an arbitration: the nodes that offered a frame and lost count it,
 * if the winner's frame did go on the wire (@started) at @start.
 */
static void vcanbus_wire_settle(struct vcanbus_bus *bus,
				struct vcanbus_node *winner, bool started,
				ktime_t start)
{
	u64 key = started ? vcanbus_arbitration_key(winner->contending) : 0;
	struct vcanbus_node *node;

	list_for_each_entry(node, &bus->pending, pend_list) {
		if (started && node->contending && node != winner) {
			u8 bit = vcanbus_lost_at(vcanbus_arbitration_key(node->contending),
						 key);

			node->can.can_stats.arbitration_lost++;
			bus->stats.arbitration_lost++;
			vcanbus_err_lost_arbitration(node, bit,
						     ktime_mono_to_real(start));
		}
		node->contending = NULL;
	}
}

/* The field of bit @at of the frame on the wire, and the sender's level. */
static u8 vcanbus_wire_loc(const struct vcanbus_node *tx,
			   const struct sk_buff *skb, u32 at, u8 *level)
{
	const struct canxl_frame *cxl = (const struct canxl_frame *)skb->data;
	struct vcanbus_bit_probe probe = { .at = at };
	union vcanbus_frame f;

	if (vcanbus_skb_format(skb) == VCANBUS_XL) {
		vcanbus_frame_probe_xl(cxl->prio, cxl->len, &probe);
		if (level)
			*level = probe.level;
		return probe.loc;
	}
	vcanbus_node_tx_frame(tx, skb, &f);
	vcanbus_frame_probe(&f.fd, can_is_canfd_skb(skb),
			    !(tx->can.ctrlmode & CAN_CTRLMODE_FD_NON_ISO), &probe);
	if (level)
		*level = probe.level;
	return probe.loc;
}

static u8 vcanbus_reading_loc(enum vcanbus_reading r,
			      const struct vcanbus_node *tx,
			      const struct sk_buff *skb, u32 at)
{
	if (r == VCANBUS_CRC_MISMATCH)
		return CAN_ERR_PROT_LOC_CRC_SEQ;
	return vcanbus_wire_loc(tx, skb, at, NULL);
}

/*
 * How the frame from @tx will end, decided when it starts (all the nodes'
 * states are known then): the result, where the error is seen first and
 * whether a second active error flag follows the first one.
 */
static void vcanbus_wire_outcome(struct vcanbus_bus *bus, struct vcanbus_node *tx,
				 struct sk_buff *skb)
{
	struct vcanbus_wire *wire = &bus->wire;
	u32 total = wire->bits.nominal + wire->bits.data, at;
	bool acked = tx->can.ctrlmode & (CAN_CTRLMODE_LOOPBACK |
					 CAN_CTRLMODE_PRESUME_ACK);
	struct vcanbus_node *rx, *first = NULL;
	enum vcanbus_reading r;
	u8 type;

	wire->result = VCANBUS_WIRE_OK;
	wire->err_bit = U32_MAX;
	/* Injected: a bit flips somewhere in the frame (seeded sequence). */
	if (wire->bit_error_ppm &&
	    prandom_u32_state(&wire->rnd) % 1000000 <
	    (u64)wire->bit_error_ppm * total) {
		wire->result = VCANBUS_WIRE_BIT_ERROR;
		wire->err_bit = prandom_u32_state(&wire->rnd) % total;
	}

	list_for_each_entry(rx, &bus->running, run_list) {
		/* A listening node neither acknowledges nor flags errors. */
		if (!vcanbus_wire_involved(rx, tx) ||
		    (rx->can.ctrlmode & CAN_CTRLMODE_LISTENONLY))
			continue;
		r = vcanbus_wire_reading(rx, tx, skb);
		/* A CRC error is seen after the ACK: it gives none. */
		if (r == VCANBUS_READS)
			acked = true;
		/* An active node's error flag destroys the frame. */
		if (r == VCANBUS_READS || r == VCANBUS_EXCEPTION ||
		    vcanbus_wire_silent(rx) ||
		    rx->can.state >= CAN_STATE_ERROR_PASSIVE)
			continue;
		at = vcanbus_reading_error(r, &wire->bits, &type);
		if (at < wire->err_bit) {
			wire->result = VCANBUS_WIRE_DESTROYED;
			wire->err_bit = at;
			first = rx;
		}
	}
	if (!acked && total - 9 < wire->err_bit) {
		wire->result = VCANBUS_WIRE_ACK_ERROR;
		wire->err_bit = total - 9;	/* the ACK slot */
	}
	if (wire->result == VCANBUS_WIRE_OK)
		return;

	wire->err_loc = vcanbus_wire_loc(tx, skb, wire->err_bit,
					 &wire->err_level);
	wire->flag_loc = wire->err_bit + 1 < total ?
			 vcanbus_wire_loc(tx, skb, wire->err_bit + 1, NULL) :
			 CAN_ERR_PROT_LOC_EOF;
	/*
	 * Superposition: a node that sees the first error flag as an error
	 * of its own (a stuff, bit or form error) sends its own active flag
	 * after it. The first flagger is the sender (bit and ACK errors) or
	 * a receiver; the others with an active flag follow. After an ACK
	 * error no active node read the frame: nobody follows.
	 */
	wire->superposed = false;
	if (wire->result == VCANBUS_WIRE_ACK_ERROR)
		return;
	if (wire->result == VCANBUS_WIRE_DESTROYED &&
	    tx->can.state < CAN_STATE_ERROR_PASSIVE && !vcanbus_wire_silent(tx))
		wire->superposed = true;
	list_for_each_entry(rx, &bus->running, run_list) {
		if (!vcanbus_wire_involved(rx, tx) || rx == first ||
		    (rx->can.ctrlmode & CAN_CTRLMODE_LISTENONLY) ||
		    vcanbus_wire_silent(rx) ||
		    rx->can.state >= CAN_STATE_ERROR_PASSIVE)
			continue;
		/* Those flagging at the same bit as the first do not follow. */
		r = vcanbus_wire_reading_to_error(wire, rx, tx, skb);
		if (r == VCANBUS_EXCEPTION)
			continue;		/* it waits for idle */
		if (wire->result != VCANBUS_WIRE_DESTROYED ||
		    vcanbus_reading_error(r, &wire->bits, &type) != wire->err_bit)
			wire->superposed = true;
	}
}

/*
 * The error frame's bits: an error flag of 6 dominant bits, and when
 * another node's flag follows, its 6 more (superposed flags: the
 * followers see the first flag as an error at its sixth bit; fewer when
 * dominant bits precede it, which is not modelled), then the 8-bit error
 * delimiter.
 */
static u32 vcanbus_error_frame_bits(const struct vcanbus_wire *wire)
{
	return 6 + (wire->superposed ? 6 : 0) + 8;
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
	struct vcanbus_node *tx;
	struct sk_buff *skb;
	ktime_t start;
	u32 nbits;
	u64 ns;

	start = vcanbus_wire_next_start(bus, now);
	if (start > now)
		return start;		/* KTIME_MAX: nothing pending */
	/* Recovery sequences completed by now let their nodes contend. */
	vcanbus_wire_recover(bus, start);
	tx = vcanbus_wire_arbitrate(bus, start, &skb);
	/* No frame goes on the wire that a receiver has no room for. */
	if (!vcanbus_bus_room(bus, tx, skb)) {
		vcanbus_wire_settle(bus, tx, false, start);
		return KTIME_MAX;
	}
	vcanbus_wire_settle(bus, tx, true, start);
	WRITE_ONCE(bus->stalled, false);

	vcanbus_wire_bits(tx, skb, &wire->bits);
	vcanbus_wire_outcome(bus, tx, skb);
	if (wire->result == VCANBUS_WIRE_OK) {
		nbits = wire->bits.nominal + wire->bits.data;
		ns = vcanbus_wire_ns(tx, &wire->bits, nbits);
	} else {
		/* The error frame is at the nominal bit rate. */
		nbits = vcanbus_error_frame_bits(wire);
		ns = vcanbus_wire_ns(tx, &wire->bits, wire->err_bit + 1) +
		     nbits * tx->bt.nominal;
		nbits += wire->err_bit + 1;
		bus->stats.errors++;
	}
	bus->stats.bits += nbits;
	bus->stats.busy_ns += ns;
	wire->tx = tx;
	wire->skb = skb;
	wire->busy = true;
	wire->end = ktime_add_ns(start, ns);
	wire->idle_at = ktime_add_ns(wire->end, VCANBUS_INTERMISSION_BITS *
				     tx->bt.nominal);
	return wire->end;
}

/*
 * The frame went through: every node that reads it receives it, the
 * others count their error, the sender gets its echo.
 */
static void vcanbus_wire_success(struct vcanbus_bus *bus,
				 struct vcanbus_node *tx, struct sk_buff *skb,
				 ktime_t when)
{
	struct vcanbus_wire *wire = &bus->wire;
	struct vcanbus_delivery d;
	enum vcanbus_reading r;
	struct vcanbus_node *rx;
	u32 at;
	u8 type;

	if (!vcanbus_wire_silent(tx))
		vcanbus_err_tx_ok(tx);
	vcanbus_node_unlink_tx(tx, skb);
	vcanbus_delivery_begin(&d, tx, skb, when);
	list_for_each_entry(rx, &bus->running, run_list) {
		if (!vcanbus_wire_involved(rx, tx)) {
			/* The sender itself, in loopback mode. */
			if (vcanbus_receives(rx, tx, d.format))
				vcanbus_deliver(bus, &d, rx);
			continue;
		}
		r = vcanbus_wire_reading(rx, tx, skb);
		if (r == VCANBUS_READS) {
			if (!vcanbus_wire_silent(rx))
				vcanbus_err_rx_ok(rx);
			vcanbus_deliver(bus, &d, rx);
			continue;
		}
		if (r == VCANBUS_EXCEPTION || vcanbus_wire_silent(rx))
			continue;
		/* Error-passive (or listening): it only counts its error. */
		at = vcanbus_reading_error(r, &wire->bits, &type);
		vcanbus_err_rx(rx, false, type,
			       vcanbus_reading_loc(r, tx, skb, at), when);
	}
	vcanbus_delivery_end(bus, &d);
}

/*
 * An error ended the frame: every node saw it; the sender may retry. What
 * each one reports is its own error where it saw one first, else its
 * view of the error flag: the sender a bit error (it sends recessive and
 * reads dominant), a receiver a stuff error, or a form error in the EOF.
 */
static void vcanbus_wire_failure(struct vcanbus_bus *bus,
				 struct vcanbus_node *tx, struct sk_buff *skb,
				 ktime_t when)
{
	struct vcanbus_wire *wire = &bus->wire;
	u8 follow = wire->flag_loc == CAN_ERR_PROT_LOC_EOF ? CAN_ERR_PROT_FORM :
		    CAN_ERR_PROT_STUFF;
	enum vcanbus_reading r;
	struct vcanbus_node *rx;
	u8 type, tx_type;
	u32 at;

	/*
	 * Listening nodes too: a node in bus monitoring mode detects errors
	 * as any receiver; it only never drives the bus (no ACK, no flag).
	 */
	list_for_each_entry(rx, &bus->running, run_list) {
		if (!vcanbus_wire_involved(rx, tx) || vcanbus_wire_silent(rx))
			continue;
		r = vcanbus_wire_reading_to_error(wire, rx, tx, skb);
		/* It ignores the frame from the reserved bit on. */
		if (r == VCANBUS_EXCEPTION)
			continue;
		at = vcanbus_reading_error(r, &wire->bits, &type);
		if (at > wire->err_bit) {
			vcanbus_err_rx(rx, false, follow, wire->flag_loc, when);
			continue;
		}
		/*
		 * It saw its own error, at or before the bit where the frame
		 * was destroyed; if it flagged first and actively and another
		 * flag followed, rule 2 adds 8.
		 */
		vcanbus_err_rx(rx, wire->result == VCANBUS_WIRE_DESTROYED &&
			       at == wire->err_bit && wire->superposed &&
			       !(rx->can.ctrlmode & CAN_CTRLMODE_LISTENONLY) &&
			       rx->can.state < CAN_STATE_ERROR_PASSIVE,
			       type, vcanbus_reading_loc(r, tx, skb, at), when);
	}

	switch (vcanbus_wire_silent(tx) ? VCANBUS_WIRE_OK : wire->result) {
	case VCANBUS_WIRE_OK:
		break;			/* a silent sender counts nothing */
	case VCANBUS_WIRE_ACK_ERROR:
		vcanbus_err_tx(tx, true, CAN_ERR_PROT_UNSPEC,
			       CAN_ERR_PROT_LOC_ACK, when);
		break;
	case VCANBUS_WIRE_BIT_ERROR:
		/* BIT0: a dominant bit it sent was read recessive. */
		tx_type = wire->err_level == 0 ? CAN_ERR_PROT_BIT0 :
			  wire->err_level == 1 ? CAN_ERR_PROT_BIT1 :
			  CAN_ERR_PROT_BIT;
		vcanbus_err_tx(tx, false, tx_type, wire->err_loc, when);
		break;
	default:
		vcanbus_err_tx(tx, false, CAN_ERR_PROT_BIT1, wire->flag_loc, when);
		break;
	}

	/* One-shot: no retransmission, the frame is given up. */
	if (tx->can.ctrlmode & CAN_CTRLMODE_ONE_SHOT) {
		vcanbus_node_unlink_tx(tx, skb);
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
	struct vcanbus_node *node, *tmp, *tx = wire->tx;

	wire->busy = false;
	/*
	 * A frame's end (ACK delimiter and EOF, or an error delimiter, then
	 * the intermission) is one sequence of 11 recessive bits for each
	 * node in bus-off recovery; idle bits count on from there.
	 */
	list_for_each_entry_safe(node, tmp, &wire->recovering, recover_list) {
		node->recovery_from = wire->idle_at;
		if (!--node->recovery)
			list_del_init(&node->recover_list);
	}
	if (!wire->skb)
		return;			/* cut off: its sender went down */
	if (wire->result == VCANBUS_WIRE_OK)
		vcanbus_wire_success(bus, tx, wire->skb, when);
	else
		vcanbus_wire_failure(bus, tx, wire->skb, when);
	wire->skb = NULL;
	wire->tx = NULL;

	/* Only the nodes whose counters changed can change state. */
	vcanbus_err_update_counted(bus, when);
	/*
	 * Suspend transmission: an error-passive node that has transmitted
	 * a frame waits 8 more bits after the intermission before it may
	 * start the next; another node's frame may start before.
	 */
	if (tx->can.state == CAN_STATE_ERROR_PASSIVE)
		tx->tx_ready = ktime_add_ns(wire->idle_at, VCANBUS_SUSPEND_BITS *
					    tx->bt.nominal);
}

/*
 * Runs the bus up to @now: ends the frame on the wire, arbitrates and
 * starts the next, and so on, ending at most VCANBUS_WIRE_BUDGET frames.
 * Returns when the timer must fire next, KTIME_MAX: not at all, or
 * VCANBUS_WIRE_LATE: the budget is spent and frames ended already.
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
			if (!budget--)
				return VCANBUS_WIRE_LATE;
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

/*
 * After a run of the bus, @next from vcanbus_wire_advance(): arms the
 * timer for it, or hands a late bus to the catch-up work. Returns whether
 * the timer is to fire at @next (set as its expiry).
 */
static bool vcanbus_wire_schedule(struct vcanbus_bus *bus, ktime_t next)
{
	struct vcanbus_wire *wire = &bus->wire;

	lockdep_assert_held(&bus->lock);

	wire->armed = false;
	if (next == KTIME_MAX || wire->stopping)
		return false;
	if (next == VCANBUS_WIRE_LATE) {
		wire->late = true;
		queue_work(vcanbus_wire_wq, &wire->catch_up);
		return false;
	}
	wire->armed = true;
	hrtimer_set_expires(&wire->timer, next);
	return true;
}

static enum hrtimer_restart vcanbus_wire_timer(struct hrtimer *timer)
{
	struct vcanbus_bus *bus = container_of(timer, struct vcanbus_bus,
					       wire.timer);
	bool restart;
	ktime_t now;

	spin_lock(&bus->lock);
	now = vcanbus_bus_take_inbox(bus);
	restart = vcanbus_wire_schedule(bus, vcanbus_wire_advance(bus, now));
	vcanbus_bus_unlock(bus);
	return restart ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

/* A late bus: a budget of frames, then its turn goes to the next bus. */
static void vcanbus_wire_catch_up(struct work_struct *work)
{
	struct vcanbus_bus *bus = container_of(work, struct vcanbus_bus,
					       wire.catch_up);
	struct vcanbus_wire *wire = &bus->wire;
	ktime_t now;

	vcanbus_bus_lock_bh(bus);
	wire->late = false;
	now = vcanbus_bus_take_inbox(bus);
	if (!wire->stopping &&
	    vcanbus_wire_schedule(bus, vcanbus_wire_advance(bus, now)))
		hrtimer_start(&wire->timer, hrtimer_get_expires(&wire->timer),
			      HRTIMER_MODE_ABS_SOFT);
	vcanbus_bus_unlock_bh(bus);
}

/*
 * Starts the next frame if its time has come. Called when a frame was
 * queued or room was made. With a frame on the wire, its end does the
 * rest. A timer armed for a start of frame ahead is taken back, as this
 * frame may start earlier; if its callback runs already, that sees the
 * frame.
 */
static void vcanbus_wire_run(struct vcanbus_bus *bus, ktime_t now)
{
	struct vcanbus_wire *wire = &bus->wire;
	ktime_t next;

	lockdep_assert_held(&bus->lock);

	/* A late bus is run by its catch-up work. */
	if (wire->busy || wire->late || wire->stopping)
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
	if (vcanbus_wire_schedule(bus, next))
		hrtimer_start(&wire->timer, next, HRTIMER_MODE_ABS_SOFT);
}

/* @node stops while its frame is on the wire: the frame is cut off. */
static void vcanbus_wire_cut(struct vcanbus_bus *bus, struct vcanbus_node *node)
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

/*
 * @node restarts after bus-off, error-active with cleared counters. It
 * takes part in the bus only after it has seen 128 sequences of 11
 * recessive bits (ISO 11898-1:2015, 12.1.4): on an idle bus 1408 bit
 * times, on a busy one 128 frame ends. Meanwhile frames wait in its
 * mailboxes.
 */
static void vcanbus_wire_restart(struct vcanbus_bus *bus,
				 struct vcanbus_node *node)
{
	lockdep_assert_held(&bus->lock);

	node->recovery = VCANBUS_RECOVERY_SEQUENCES;
	node->recovery_from = ktime_get();
	list_move_tail(&node->recover_list, &bus->wire.recovering);
}

const struct vcanbus_timing_ops vcanbus_wire_ops = {
	.run		= vcanbus_wire_run,
	.cut		= vcanbus_wire_cut,
	.restart	= vcanbus_wire_restart,
};

void vcanbus_wire_set_seed(struct vcanbus_bus *bus, u32 seed)
{
	bus->wire.seed = seed;
	prandom_seed_state(&bus->wire.rnd, seed);
}

void vcanbus_wire_init(struct vcanbus_bus *bus)
{
	INIT_LIST_HEAD(&bus->wire.recovering);
	INIT_LIST_HEAD(&bus->wire.counted);
	vcanbus_wire_set_seed(bus, 1);
	vcanbus_hrtimer_setup(&bus->wire.timer, vcanbus_wire_timer,
			      CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	INIT_WORK(&bus->wire.catch_up, vcanbus_wire_catch_up);
}

/*
 * The bus is going away; it has no nodes any more. Once stopping is set
 * neither the timer nor the work arms the other, so after both are
 * cancelled nothing runs.
 */
void vcanbus_wire_exit(struct vcanbus_bus *bus)
{
	vcanbus_bus_lock_bh(bus);
	bus->wire.stopping = true;
	vcanbus_bus_unlock_bh(bus);
	cancel_work_sync(&bus->wire.catch_up);
	hrtimer_cancel(&bus->wire.timer);
}

int vcanbus_wire_module_init(void)
{
	vcanbus_wire_wq = alloc_workqueue("vcanbus_wire", WQ_UNBOUND, 1);
	return vcanbus_wire_wq ? 0 : -ENOMEM;
}

/* Every bus is gone, and with it every work. */
void vcanbus_wire_module_exit(void)
{
	destroy_workqueue(vcanbus_wire_wq);
}
