/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcanbus: CAN controllers on an emulated, shared CAN bus.
 *
 * A bus (struct vcanbus_bus, a configfs group under /sys/kernel/config/vcanbus/)
 * is an emulated wire. A node (struct vcanbus_node, the private data of a
 * candev, a configfs group inside its bus) is a CAN controller on it.
 *
 * Data path: ndo_start_xmit posts a frame to the bus's inbox and runs the
 * bus if its lock is free; else the holder of the lock takes it into one of
 * the node's transmit mailboxes (node->txq) and runs the bus for it, as a
 * qdisc's owner runs it for the CPUs that enqueue. The bus core (bus.c) keeps the
 * mailboxes, the room in the receive queues and the delivery; when a frame
 * goes and how long it takes is the bus's timing, one of two backends
 * behind struct vcanbus_timing_ops: instant.c (at once, in arrival order)
 * and wire.c (bit times, arbitration, fault confinement). A completed
 * frame goes to every receiving node's receive queue (node->rxq) and as
 * the echo to its sender's, all in that same bus order, under bus->lock.
 * The bus's one NAPI poll (rx.c) hands the nodes' queues to the stack, so
 * every socket sees the frames of one node in bus order, whichever CPUs
 * the senders ran on, and a frame for k nodes is one poll, not k.
 *
 * What the bus does per frame under its lock walks only the nodes that
 * are up (bus->running) to deliver, and only those with a frame in a
 * mailbox (bus->pending) to choose the next frame, and only those whose
 * receive queue is nearly full (bus->crowded) to see whether it has room;
 * in wire timing, only those in a bus-off recovery (wire.recovering) to
 * count its sequences and only those whose error counters changed
 * (wire.counted) for a new error state: nodes that are down cost nothing,
 * and a node's bit times are taken once, when it comes up.
 */
#ifndef _VCANBUS_H
#define _VCANBUS_H

#include <linux/can/dev.h>
#include <linux/configfs.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/prandom.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "frame.h"

#define VCANBUS_NAME		"vcanbus"

/* Transmit mailboxes per node: default and the most a node may have. */
#define VCANBUS_TX_MAILBOXES	4
#define VCANBUS_TX_MAILBOXES_MAX 64

/*
 * A receive queue holds at most this many frames. When a frame would not
 * fit into one of its receivers' queues, the bus holds it back (and so the
 * senders' queues stop) until that receiver's NAPI poll has made room: the
 * driver never drops a frame a receiver should get. Error frames may take
 * it up to twice that (errors.c), its size.
 */
#define VCANBUS_RXQ_LEN		1024
#define VCANBUS_RXQ_SIZE	(2 * VCANBUS_RXQ_LEN)
#define VCANBUS_NAPI_WEIGHT	64

enum vcanbus_timing {
	VCANBUS_TIMING_INSTANT,
	VCANBUS_TIMING_WIRE,
};

/* What a receiving node whose queue is full does to the bus. */
enum vcanbus_rx_overflow {
	VCANBUS_RX_HOLD,	/* the bus waits for room: nothing lost */
	VCANBUS_RX_OVERRUN,	/* the node loses the frame, as a full RX FIFO */
};

enum vcanbus_tx_order {
	VCANBUS_TX_FIFO,	/* mailboxes go out in the order they were filled */
	VCANBUS_TX_PRIORITY,	/* lowest arbitration field first */
};

struct vcanbus_bus_stats {
	u64 frames;		/* frames completed on the bus */
	/* wire timing: */
	u64 bits;		/* bits on the wire, error flags included */
	u64 busy_ns;		/* time the wire was not idle (no intermission) */
	u64 arbitration_lost;	/* lost arbitrations, all nodes together */
	u64 errors;		/* frames ended by an error */
	u64 slipped_ns;		/* bus time skipped: the host fell behind */
};

/* A frame's format on the wire. */
enum vcanbus_format {
	VCANBUS_CC,		/* Classical CAN */
	VCANBUS_FD,		/* CAN FD */
	VCANBUS_XL,		/* CAN XL */
};

/* Of a valid CAN skb (an XL frame's flags tell it from the others). */
static inline enum vcanbus_format vcanbus_skb_format(const struct sk_buff *skb)
{
	if (can_is_canxl_skb(skb))
		return VCANBUS_XL;
	return can_is_canfd_skb(skb) ? VCANBUS_FD : VCANBUS_CC;
}

/* An error frame (only ever a Classical one). */
static inline bool vcanbus_skb_is_error(const struct sk_buff *skb)
{
	return can_is_can_skb(skb) &&
	       (((const struct can_frame *)skb->data)->can_id & CAN_ERR_FLAG);
}

/* A frame's bytes, Classical or CAN FD (XL frames are never copied). */
union vcanbus_frame {
	struct can_frame cc;
	struct canfd_frame fd;
};

struct vcanbus_bus;
struct vcanbus_node;

/*
 * A timing: when frames go on the bus and how they end. Called under
 * bus->lock; a backend completes frames through the core's delivery
 * (vcanbus_delivery_*()) and calls nothing else of the core back.
 */
struct vcanbus_timing_ops {
	/*
	 * A frame was queued, or room was made: go on as far as it may.
	 * Every frame posted by @now is in its node's mailboxes.
	 */
	void (*run)(struct vcanbus_bus *bus, ktime_t now);
	/* @node stops or goes bus-off: its frame on the bus is cut off. */
	void (*cut)(struct vcanbus_bus *bus, struct vcanbus_node *node);
	/* @node restarts after bus-off: when it may take part again. */
	void (*restart)(struct vcanbus_bus *bus, struct vcanbus_node *node);
};

extern const struct vcanbus_timing_ops vcanbus_instant_ops;
extern const struct vcanbus_timing_ops vcanbus_wire_ops;

/* How the frame on the wire ends (wire.c). */
enum vcanbus_wire_result {
	VCANBUS_WIRE_OK,
	VCANBUS_WIRE_ACK_ERROR,		/* nobody acknowledged it */
	VCANBUS_WIRE_BIT_ERROR,		/* injected: the sender saw a bit flip */
	VCANBUS_WIRE_DESTROYED,		/* a receiver's error flag: another
					 * bit rate, Classical-only, the other
					 * CAN FD protocol
					 */
};

/* Wire timing's state of the bus (wire.c), under bus->lock. */
struct vcanbus_wire {
	struct hrtimer timer;		/* fires at start and end of frame */
	bool armed;			/* the timer is queued or running */
	/* a bus behind real time catches up here, in process context */
	struct work_struct catch_up;
	bool late;			/* catch_up is queued or running */
	bool stopping;			/* the bus goes: neither re-arms */
	bool busy;			/* a frame is on the wire until end */
	struct vcanbus_node *tx;	/* its sender; NULL when cut off */
	struct sk_buff *skb;		/* the frame (in tx->txq); NULL: cut */
	enum vcanbus_wire_result result;
	struct vcanbus_frame_bits bits;	/* the frame's bits */
	u32 err_bit;			/* where the error is seen first */
	u8 err_level;			/* the sender's level there */
	u8 err_loc;			/* its field, CAN_ERR_PROT_LOC_* */
	u8 flag_loc;			/* the field the error flag starts in */
	bool superposed;		/* a second node's active flag follows */
	ktime_t end;			/* its end, or of its error frame */
	ktime_t idle_at;		/* the bus is idle again: end + intermission */

	/*
	 * Nodes in a bus-off recovery sequence (.recover_list), and nodes
	 * whose error counters changed during the frame that ends
	 * (.count_list): a frame's end looks at these, not at every node.
	 */
	struct list_head recovering;
	struct list_head counted;

	/* fault injection (configfs): bit errors per million bits */
	u32 bit_error_ppm;
	u32 seed;
	struct rnd_state rnd;		/* seeded by seed: exact repeats */
};

struct vcanbus_bus {
	struct config_group group;

	/*
	 * Protects the node lists, every node's txq and running flag, the
	 * stats below.
	 */
	spinlock_t lock;
	struct list_head nodes;		/* all of them: vcanbus_node.bus_list */
	struct list_head running;	/* those up: vcanbus_node.run_list */
	struct list_head pending;	/* a frame in a mailbox: .pend_list */
	/*
	 * Up nodes whose receive queue may have no room for two more
	 * entries (.crowd_list): every node that is that full is on it, so
	 * the room for a frame is a look at these alone.
	 */
	struct list_head crowded;

	/*
	 * Frames posted by the senders' xmit, not yet in their mailboxes
	 * (node->txq): a sender does not wait for the bus lock while another
	 * CPU completes frames. Whoever holds the bus lock takes them
	 * (vcanbus_bus_take_inbox()). inbox_lock, taken inside bus->lock or
	 * alone, protects the inbox, seq and every node's posted count and
	 * the stopping and waking of its queue for full mailboxes.
	 */
	spinlock_t inbox_lock;
	struct sk_buff_head inbox;
	u64 seq;			/* arrival order of frames in mailboxes */
	/* frames posted since the last take: the lock holder runs the bus */
	bool handed_off;
	struct work_struct run_work;	/* a run for a holder out of turns */
	/* changed only while every node is down: */
	enum vcanbus_timing timing;
	const struct vcanbus_timing_ops *ops;
	enum vcanbus_rx_overflow rx_overflow;
	bool rx_overflow_set;		/* by the user, else timing's default */
	/*
	 * A receiver's rxq was full: the scheduler stopped. Written under
	 * lock, read without it by the NAPI poll that restarts it.
	 */
	bool stalled;

	/*
	 * The delivery (rx.c): one NAPI context, on a dummy netdev of the
	 * bus's own, hands every node's receive queue to the stack.
	 * ready_lock (taken inside bus->lock or alone) protects ready: the
	 * up nodes whose queue has entries (.ready_list). napi_mutex keeps
	 * a node going down and the "threaded" switch apart.
	 */
	struct net_device *napi_dev;
	struct napi_struct napi;
	spinlock_t ready_lock;		/* protects ready */
	struct list_head ready;
	struct mutex napi_mutex;	/* node down against "threaded" */
	bool threaded;			/* its NAPI polls in a kernel thread */
	struct vcanbus_bus_stats stats;
	struct vcanbus_wire wire;
};

/*
 * A node's bit times in ns, taken when it comes up: can-dev refuses new
 * bit timing while a candev is up, and the wire needs them for every frame
 * without a 64-bit division each.
 */
struct vcanbus_bit_times {
	u64 nominal;			/* one bit at the nominal rate */
	u64 nominal_sp;			/* from its start to its sample point */
	u64 data;			/* the same at the data rate (fd on) */
	u64 data_sp;
	u64 xl;				/* one bit of an XL data phase (xl on) */
};

/*
 * A node's receive queue: a ring of what the bus's NAPI poll hands to the
 * stack for it, in bus order. Each entry is an skb of the node's own (an
 * echo, an error frame) or, tagged with VCANBUS_RXQ_SHARED, a received
 * frame's skb that all its receivers share (vcanbus_deliver()): the poll
 * takes the node's clone of it and drops the reference. One producer, the
 * bus under its lock, and one consumer, the bus's NAPI poll (or ndo_stop
 * with that off): head and tail are each written by one side, published
 * with release and read with acquire, so neither takes a lock.
 */
struct vcanbus_rxq {
	void **slot;			/* VCANBUS_RXQ_SIZE entries */
	unsigned int head;		/* next to fill: the bus's */
	unsigned int tail;		/* next to take: the poll's */
};

#define VCANBUS_RXQ_SHARED	1UL

/*
 * Entries in @q, read locklessly: on the bus's side an upper bound, as the
 * poll may have taken more since.
 */
static inline unsigned int vcanbus_rxq_len(const struct vcanbus_rxq *q)
{
	/* pairs with the release of the tail in vcanbus_rxq_take() */
	return READ_ONCE(q->head) - smp_load_acquire(&q->tail);
}

struct vcanbus_node {
	struct can_priv can;		/* first: can-dev's private data */
	struct net_device *ndev;
	struct vcanbus_bus *bus;
	struct config_group group;

	/* under bus->lock: */
	struct list_head bus_list;	/* in bus->nodes */
	struct list_head run_list;	/* in bus->running while up */
	struct list_head pend_list;	/* in bus->pending while txq is not
					 * empty
					 */
	struct list_head crowd_list;	/* in bus->crowded while up and
					 * (maybe) nearly full
					 */
	bool running;			/* open: transmits and receives */
	struct sk_buff_head txq;	/* filled mailboxes, in arrival order,
					 * the one on the wire included
					 */
	unsigned int posted;		/* under inbox_lock: its frames in
					 * bus->inbox, mailboxes filled too
					 */
	struct vcanbus_bit_times bt;	/* set while it is down */
	struct sk_buff *contending;	/* wire.c, during an arbitration */
	u16 tec, rec;			/* ISO 11898-1 error counters (wire) */
	/*
	 * Wire timing: the earliest start of its next frame (suspend
	 * transmission of an error-passive transmitter), and the bus-off
	 * recovery sequences it still has to see (11 recessive bits each)
	 * before it takes part in the bus again, counted from recovery_from.
	 */
	ktime_t tx_ready;
	u16 recovery;
	ktime_t recovery_from;
	struct list_head recover_list;	/* in bus->wire.recovering while
					 * up and recovery is not 0
					 */
	struct list_head count_list;	/* in bus->wire.counted */

	/* changed only while the netdev is down (under RTNL): */
	unsigned int tx_mailboxes;
	enum vcanbus_tx_order tx_order;

	struct vcanbus_rxq rxq;		/* frames for the stack, in bus order */
	bool rx_overrun;		/* under bus->lock: it lost a frame and
					 * has not received one since
					 */
	struct list_head ready_list;	/* in bus->ready */
	/*
	 * Fault injection: the NAPI poll hands nothing of it to the stack,
	 * as a receiver whose CPU is starved, so tests reach the full-queue
	 * stall of the bus (backpressure) on demand.
	 */
	bool rx_hold;
};

/*
 * Does the node take part in the bus (send, acknowledge, receive)? Not when
 * down, nor bus-off, nor after a restart until its bus-off recovery
 * sequence is complete (wire timing).
 */
static inline bool vcanbus_node_on_bus(const struct vcanbus_node *node)
{
	return node->running && node->can.state != CAN_STATE_BUS_OFF &&
	       !node->recovery;
}

/*
 * An XL controller in "XL-only" mode (xl on, fd off: can-dev's mode
 * without error signalling). Never where can-dev has no XL.
 */
static inline bool vcanbus_node_xl_only(const struct vcanbus_node *node)
{
	u32 mode = node->can.ctrlmode & (VCANBUS_CTRLMODE_XL | CAN_CTRLMODE_FD);

	return VCANBUS_CTRLMODE_XL && mode == VCANBUS_CTRLMODE_XL;
}

/* What the bus keeps with a frame in skb->cb. */
struct vcanbus_skb_cb {
	u64 seq;			/* in a mailbox: arrival order */
	ktime_t queued;			/* in a mailbox: since (CLOCK_MONOTONIC) */
	bool echo;			/* on an rxq: the sender's own frame */
	int iif;			/* a received frame: its sending node */
};

static inline struct vcanbus_skb_cb *vcanbus_skb_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct vcanbus_skb_cb) > sizeof(skb->cb));
	return (struct vcanbus_skb_cb *)skb->cb;
}

/*
 * A completed frame on its way to the receiving nodes and back to its
 * sender (bus.c): made once per frame, then handed to each receiver.
 */
struct vcanbus_delivery {
	struct vcanbus_node *tx;
	struct sk_buff *skb;		/* the sender's, off its txq: the echo */
	struct sk_buff *rx_skb;		/* the receivers', made for the first */
	enum vcanbus_format format;
	ktime_t end;			/* end of frame, CLOCK_REALTIME */
};

/* bus.c APIs (the core): */
int vcanbus_bus_init(struct vcanbus_bus *bus, const char *name);
void vcanbus_bus_exit(struct vcanbus_bus *bus);
/* The bus lock's, the unlocks running what senders handed off: */
void vcanbus_bus_lock_bh(struct vcanbus_bus *bus) __acquires(&bus->lock);
void vcanbus_bus_unlock(struct vcanbus_bus *bus) __releases(&bus->lock);
void vcanbus_bus_unlock_bh(struct vcanbus_bus *bus) __releases(&bus->lock);
ktime_t vcanbus_bus_take_inbox(struct vcanbus_bus *bus);
void vcanbus_node_post_tx(struct vcanbus_node *node, struct sk_buff *skb);
void vcanbus_bus_set_timing(struct vcanbus_bus *bus, enum vcanbus_timing timing);
void vcanbus_bus_run(struct vcanbus_bus *bus);
void vcanbus_bus_kick(struct vcanbus_bus *bus);
void vcanbus_bus_cut(struct vcanbus_bus *bus, struct vcanbus_node *node);
void vcanbus_bus_restart(struct vcanbus_bus *bus, struct vcanbus_node *node);
u64 vcanbus_arbitration_key(const struct sk_buff *skb);
void vcanbus_node_queue_tx(struct vcanbus_node *node, struct sk_buff *skb);
void vcanbus_node_crowded(struct vcanbus_node *node, unsigned int len);
void vcanbus_node_unlink_tx(struct vcanbus_node *node, struct sk_buff *skb);
struct sk_buff *vcanbus_node_next_tx(struct vcanbus_node *node, ktime_t by);
bool vcanbus_receives(const struct vcanbus_node *rx,
		      const struct vcanbus_node *tx, enum vcanbus_format format);
bool vcanbus_bus_room(struct vcanbus_bus *bus, struct vcanbus_node *tx,
		      const struct sk_buff *skb);
void vcanbus_delivery_begin(struct vcanbus_delivery *d,
			    struct vcanbus_node *tx, struct sk_buff *skb,
			    ktime_t end);
void vcanbus_deliver(struct vcanbus_bus *bus, struct vcanbus_delivery *d,
		     struct vcanbus_node *rx);
void vcanbus_delivery_end(struct vcanbus_bus *bus, struct vcanbus_delivery *d);

/* wire.c APIs, besides its timing ops: */
void vcanbus_wire_init(struct vcanbus_bus *bus);
void vcanbus_wire_exit(struct vcanbus_bus *bus);
int vcanbus_wire_module_init(void);
void vcanbus_wire_module_exit(void);
void vcanbus_wire_set_seed(struct vcanbus_bus *bus, u32 seed);

/* rx.c APIs (the receive queues and the bus's NAPI): */
int vcanbus_rx_init(struct vcanbus_bus *bus, const char *name);
void vcanbus_rx_exit(struct vcanbus_bus *bus);
int vcanbus_rx_set_threaded(struct vcanbus_bus *bus, bool threaded);
bool vcanbus_rx_threaded(struct vcanbus_bus *bus);
void vcanbus_node_queue_rx(struct vcanbus_node *node, struct sk_buff *skb);
void vcanbus_node_queue_shared(struct vcanbus_node *node,
			       struct sk_buff *skb);
void vcanbus_node_set_rx_hold(struct vcanbus_node *node, bool hold);
void vcanbus_rx_node_down(struct vcanbus_node *node);

/* node.c APIs: */
void vcanbus_node_tx_frame(const struct vcanbus_node *tx,
			   const struct sk_buff *skb, union vcanbus_frame *f);
struct vcanbus_node *vcanbus_node_create(struct vcanbus_bus *bus,
					 const char *name, struct net *net);
void vcanbus_node_destroy(struct vcanbus_node *node);
void vcanbus_node_free(struct vcanbus_node *node);
void vcanbus_node_wake(struct vcanbus_node *node);

/* errors.c APIs (fault confinement, under bus->lock): */
void vcanbus_err_update_state(struct vcanbus_node *node, ktime_t when);
void vcanbus_err_update_counted(struct vcanbus_bus *bus, ktime_t when);
void vcanbus_err_tx(struct vcanbus_node *tx, bool ack_error, u8 type, u8 loc,
		    ktime_t when);
void vcanbus_err_rx(struct vcanbus_node *rx, bool flagged, u8 type, u8 loc,
		    ktime_t when);
void vcanbus_err_lost_arbitration(struct vcanbus_node *node, u8 bit,
				  ktime_t when);
void vcanbus_err_rx_overflow(struct vcanbus_node *node, ktime_t when);
void vcanbus_err_tx_ok(struct vcanbus_node *tx);
void vcanbus_err_rx_ok(struct vcanbus_node *rx);
void vcanbus_err_force_bus_off(struct vcanbus_node *node);
void vcanbus_err_reset(struct vcanbus_node *node);

/* configfs.c APIs: */
int vcanbus_configfs_init(unsigned int nodes);
void vcanbus_configfs_exit(void);
extern const struct config_item_type vcanbus_node_type;

#endif /* _VCANBUS_H */
