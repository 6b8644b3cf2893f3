// SPDX-License-Identifier: GPL-2.0
/*
 * Fault confinement (ISO 11898-1:2015, 12.1.4) of a node in wire timing:
 * the transmit and receive error counters, the states they put the node
 * in, and the error frames a controller reports.
 *
 *  - A transmitter that detects an error: TEC += 8, except an
 *    error-passive transmitter whose error is a missing ACK (the frame
 *    nobody acknowledged: a lone node stays error-passive, TEC 128).
 *  - A receiver that detects an error: REC += 1; + 8 more for the node
 *    that flagged first (at another bit rate) and then saw the others'
 *    dominant flags. (Bit errors in a node's own error flag, the other +8
 *    cases, do not arise in this model.)
 *  - A successful transmission: TEC -= 1; a successful reception:
 *    REC -= 1, or back to 119 from above 127 (the standard allows 119..127).
 *  - TEC or REC >= 96: error warning; >= 128: error passive; TEC > 255:
 *    bus-off (REC stops counting at 255 and never makes a node bus-off).
 *
 * Every counted error is a bus error (can_stats.bus_error, tx_errors or
 * rx_errors) and, with berr-reporting, an error frame; every state change
 * is an error frame with the counters (can_change_state()); bus-off goes
 * through can_bus_off(), so restart-ms and "ip link set … type can
 * restart" work as with any candev. All under bus->lock; the error frames
 * join the node's receive queue, in bus order.
 */
#include <linux/can/dev.h>
#include <linux/can/skb.h>

#include "vcanbus.h"

#define VCANBUS_WARNING_LIMIT	96
#define VCANBUS_PASSIVE_LIMIT	128
#define VCANBUS_BUS_OFF_LIMIT	256

static enum can_state vcanbus_err_state(unsigned int counter)
{
	if (counter >= VCANBUS_BUS_OFF_LIMIT)
		return CAN_STATE_BUS_OFF;
	if (counter >= VCANBUS_PASSIVE_LIMIT)
		return CAN_STATE_ERROR_PASSIVE;
	if (counter >= VCANBUS_WARNING_LIMIT)
		return CAN_STATE_ERROR_WARNING;
	return CAN_STATE_ERROR_ACTIVE;
}

static void vcanbus_err_counters(struct vcanbus_node *node,
				 struct can_frame *cf)
{
	cf->can_id |= CAN_ERR_CNT;
	cf->data[6] = min_t(unsigned int, node->tec, 255);
	cf->data[7] = node->rec;
}

static void vcanbus_err_queue(struct vcanbus_node *node, struct sk_buff *skb,
			      ktime_t when)
{
	/*
	 * Made by the controller: never held back for room, never echoed.
	 * But a node whose receiver cannot keep up loses error frames past
	 * twice a queue's length, as a controller's RX FIFO overruns,
	 * rather than hold memory without bound.
	 */
	if (vcanbus_rxq_len(&node->rxq) >= VCANBUS_RXQ_SIZE) {
		node->ndev->stats.rx_dropped++;
		kfree_skb(skb);
		return;
	}
	skb->tstamp = when;
	vcanbus_node_queue_rx(node, skb);
}

/* The counters changed: a new state, if they say so, and its error frame. */
void vcanbus_err_update_state(struct vcanbus_node *node, ktime_t when)
{
	enum can_state tx_state = vcanbus_err_state(node->tec);
	enum can_state rx_state = min(vcanbus_err_state(node->rec),
				      CAN_STATE_ERROR_PASSIVE);
	struct can_frame *cf;
	struct sk_buff *skb;

	if (max(tx_state, rx_state) == node->can.state)
		return;
	skb = alloc_can_err_skb(node->ndev, &cf);
	can_change_state(node->ndev, skb ? cf : NULL, tx_state, rx_state);
	if (skb) {
		vcanbus_err_counters(node, cf);
		vcanbus_err_queue(node, skb, when);
	}
	if (node->can.state == CAN_STATE_BUS_OFF) {
		netif_stop_queue(node->ndev);
		can_bus_off(node->ndev);
	}
}

/*
 * @node detected a bus error: @type for data[2] (CAN_ERR_PROT_*), @loc for
 * data[3] (CAN_ERR_PROT_LOC_*), as the error code capture of a controller
 * gives them.
 */
static void vcanbus_err_bus_error(struct vcanbus_node *node, bool tx, u8 type,
				  u8 loc, bool ack, ktime_t when)
{
	struct can_frame *cf;
	struct sk_buff *skb;

	node->can.can_stats.bus_error++;
	if (tx)
		node->ndev->stats.tx_errors++;
	else
		node->ndev->stats.rx_errors++;
	if (!(node->can.ctrlmode & CAN_CTRLMODE_BERR_REPORTING))
		return;
	skb = alloc_can_err_skb(node->ndev, &cf);
	if (!skb)
		return;
	cf->can_id |= CAN_ERR_PROT | CAN_ERR_BUSERROR;
	if (ack)
		cf->can_id |= CAN_ERR_ACK;
	cf->data[2] = type | (tx ? CAN_ERR_PROT_TX : 0);
	cf->data[3] = loc;
	vcanbus_err_counters(node, cf);
	vcanbus_err_queue(node, skb, when);
}

/*
 * @node's counters changed: its state is looked at when the frame ends
 * (vcanbus_err_update_counted()).
 */
static void vcanbus_err_counted(struct vcanbus_node *node)
{
	if (list_empty(&node->count_list))
		list_add_tail(&node->count_list, &node->bus->wire.counted);
}

/*
 * The frame on the wire has ended: each node whose counters it changed
 * gets the state they say, with its error frame.
 */
void vcanbus_err_update_counted(struct vcanbus_bus *bus, ktime_t when)
{
	struct vcanbus_node *node, *tmp;

	lockdep_assert_held(&bus->lock);

	list_for_each_entry_safe(node, tmp, &bus->wire.counted, count_list) {
		list_del_init(&node->count_list);
		if (vcanbus_node_on_bus(node))
			vcanbus_err_update_state(node, when);
	}
}

/* The transmitter's side of an error in its frame. */
void vcanbus_err_tx(struct vcanbus_node *tx, bool ack_error, u8 type, u8 loc,
		    ktime_t when)
{
	if (!(ack_error && tx->can.state == CAN_STATE_ERROR_PASSIVE)) {
		tx->tec += 8;
		vcanbus_err_counted(tx);
	}
	vcanbus_err_bus_error(tx, true, type, loc, ack_error, when);
}

/*
 * A receiver's side; @flagged: it sent the first error flag and then saw
 * another node's dominant flag (fault confinement rule 2 of ISO 11898-1
 * and CAN 2.0: REC + 8 more).
 */
void vcanbus_err_rx(struct vcanbus_node *rx, bool flagged, u8 type, u8 loc,
		    ktime_t when)
{
	rx->rec = min(rx->rec + (flagged ? 9 : 1), 255);
	vcanbus_err_counted(rx);
	vcanbus_err_bus_error(rx, false, type, loc, false, when);
}

/*
 * A frame lost because @node's receive queue was full (rx_overflow
 * overrun): counted as drivers count an RX FIFO overrun, and one error
 * frame per overrun, not per lost frame, as the controller flags it.
 */
void vcanbus_err_rx_overflow(struct vcanbus_node *node, ktime_t when)
{
	struct can_frame *cf;
	struct sk_buff *skb;

	node->ndev->stats.rx_over_errors++;
	node->ndev->stats.rx_errors++;
	if (node->rx_overrun)
		return;
	node->rx_overrun = true;
	skb = alloc_can_err_skb(node->ndev, &cf);
	if (!skb)
		return;
	cf->can_id |= CAN_ERR_CRTL;
	cf->data[1] = CAN_ERR_CRTL_RX_OVERFLOW;
	vcanbus_err_queue(node, skb, when);
}

/*
 * With berr-reporting, a lost arbitration is reported as the SJA1000 and
 * others do: CAN_ERR_LOSTARB, data[0] the bit of the arbitration field it
 * was lost in (0: the first identifier bit; stuff bits not counted).
 */
void vcanbus_err_lost_arbitration(struct vcanbus_node *node, u8 bit,
				  ktime_t when)
{
	struct can_frame *cf;
	struct sk_buff *skb;

	if (!(node->can.ctrlmode & CAN_CTRLMODE_BERR_REPORTING))
		return;
	skb = alloc_can_err_skb(node->ndev, &cf);
	if (!skb)
		return;
	cf->can_id |= CAN_ERR_LOSTARB;
	cf->data[0] = bit;
	vcanbus_err_queue(node, skb, when);
}

void vcanbus_err_tx_ok(struct vcanbus_node *tx)
{
	if (!tx->tec)
		return;
	tx->tec--;
	vcanbus_err_counted(tx);
}

/* Most receptions change nothing: an error-free bus keeps REC at 0. */
void vcanbus_err_rx_ok(struct vcanbus_node *rx)
{
	if (!rx->rec)
		return;
	rx->rec = rx->rec >= VCANBUS_PASSIVE_LIMIT ? 119 : rx->rec - 1;
	vcanbus_err_counted(rx);
}

/* Fault injection: the node goes bus-off at once (configfs "bus_off"). */
void vcanbus_err_force_bus_off(struct vcanbus_node *node)
{
	lockdep_assert_held(&node->bus->lock);

	/* A frame of its own on the wire is cut off; it stays in a mailbox. */
	vcanbus_bus_cut(node->bus, node);
	node->tec = VCANBUS_BUS_OFF_LIMIT;
	vcanbus_err_update_state(node, ktime_get_real());
}

/* Restart after bus-off (or on open): error active, counters cleared. */
void vcanbus_err_reset(struct vcanbus_node *node)
{
	node->tec = 0;
	node->rec = 0;
	node->tx_ready = 0;
	node->recovery = 0;
	list_del_init(&node->recover_list);
	list_del_init(&node->count_list);
	node->can.state = CAN_STATE_ERROR_ACTIVE;
}
