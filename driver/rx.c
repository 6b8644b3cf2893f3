// SPDX-License-Identifier: GPL-2.0
/*
 * The receive side: each node's receive queue (node->rxq), filled by the
 * bus in bus order under its lock, and the bus's one NAPI context that
 * hands every node's queue to the stack.
 *
 * One NAPI per bus, not one per node: a frame that k nodes receive (and
 * its echo) is then one NAPI schedule and one poll call, where k NAPIs
 * cost k of each, measured as the larger part of a reception's cost
 * (docs/design.md, "One delivery context per bus"). The nodes' queues
 * stay: they keep each node's frames in bus order and are what the bus's
 * backpressure counts room in. The NAPI lives on a dummy netdev of the
 * bus's own (compat.h), which is also where "threaded" is switched.
 */
#include <linux/can/skb.h>

#include "vcanbus.h"

/*
 * @node's queue has entries: on the bus's ready list, and the NAPI
 * scheduled if the list was empty. A node stays on the list while its
 * queue has entries (the poll takes it off only when it finds the queue
 * empty, under ready_lock), so a non-empty list always has a poll coming:
 * a frame for k nodes schedules the NAPI once.
 */
static void vcanbus_rx_ready(struct vcanbus_node *node)
{
	struct vcanbus_bus *bus = node->bus;
	bool first = false;

	spin_lock(&bus->ready_lock);
	if (list_empty(&node->ready_list)) {
		first = list_empty(&bus->ready);
		list_add_tail(&node->ready_list, &bus->ready);
	}
	spin_unlock(&bus->ready_lock);
	if (first)
		napi_schedule(&bus->napi);
}

/*
 * The bus queues, under its lock: an skb of the node's own (echo, error
 * frame) with vcanbus_node_queue_rx(), a received frame's shared skb with
 * vcanbus_node_queue_shared() (@tag VCANBUS_RXQ_SHARED: the reference goes
 * to the queue and on to the poll). The bus checks room before
 * (vcanbus_bus_room(), errors.c); a full queue, which those checks never
 * let happen, would lose the frame rather than overwrite one. A node that
 * is down takes nothing (its queue was emptied as it went down).
 */
static void vcanbus_rxq_add(struct vcanbus_node *node, struct sk_buff *skb,
			    unsigned long tag)
{
	struct vcanbus_rxq *q = &node->rxq;
	unsigned int head = q->head;
	unsigned int len = vcanbus_rxq_len(q);

	lockdep_assert_held(&node->bus->lock);

	if (unlikely(!node->running)) {
		kfree_skb(skb);
		return;
	}
	if (unlikely(len >= VCANBUS_RXQ_SIZE)) {
		node->ndev->stats.rx_dropped++;
		kfree_skb(skb);
		return;
	}
	q->slot[head % VCANBUS_RXQ_SIZE] = (void *)((unsigned long)skb | tag);
	/* The entry (and the skb it names) before the new head. */
	smp_store_release(&q->head, head + 1);
	vcanbus_node_crowded(node, len + 1);
	vcanbus_rx_ready(node);
}

void vcanbus_node_queue_rx(struct vcanbus_node *node, struct sk_buff *skb)
{
	vcanbus_rxq_add(node, skb, 0);
}

void vcanbus_node_queue_shared(struct vcanbus_node *node, struct sk_buff *skb)
{
	vcanbus_rxq_add(node, skb, VCANBUS_RXQ_SHARED);
}

/*
 * The node's skb of a received frame (@shared: its receivers'; bus.c):
 * a clone of it (much cheaper than a new skb), the node as its device;
 * a copy where its controller must not pass on a DLC 9..15 it got. Its
 * extension on 7.x is made its own (compat.h). NULL without memory.
 */
static struct sk_buff *vcanbus_node_rx_skb(struct vcanbus_node *node,
					   struct sk_buff *shared)
{
	const struct can_frame *wire = (struct can_frame *)shared->data;
	int iif = vcanbus_skb_cb(shared)->iif;
	struct sk_buff *skb;

	if (can_is_can_skb(shared) && wire->len8_dlc &&
	    !(node->can.ctrlmode & CAN_CTRLMODE_CC_LEN8_DLC)) {
		struct can_frame *cf;

		skb = alloc_can_skb(node->ndev, &cf);
		if (!skb)
			return NULL;
		memcpy(cf, wire, CAN_MTU);
		cf->len8_dlc = 0;
		skb->tstamp = shared->tstamp;
	} else {
		skb = skb_clone(shared, GFP_ATOMIC);
		if (!skb)
			return NULL;
		skb->dev = node->ndev;
	}
	if (vcanbus_skb_set_origin(skb, iif)) {
		kfree_skb(skb);
		return NULL;
	}
	return skb;
}

/*
 * Takes the next entry off the receive queue: an skb, or NULL when the
 * queue is empty; *@lost when it was a frame the node had no memory for.
 */
static struct sk_buff *vcanbus_rxq_take(struct vcanbus_node *node, bool *lost)
{
	struct vcanbus_rxq *q = &node->rxq;
	unsigned int tail = q->tail;
	struct sk_buff *skb, *shared;
	void *entry;

	*lost = false;
	/* The head, then the entries and frames before it. */
	if (smp_load_acquire(&q->head) == tail)
		return NULL;
	entry = q->slot[tail % VCANBUS_RXQ_SIZE];
	/* The entry read before the bus may fill its place again. */
	smp_store_release(&q->tail, tail + 1);
	if (!((unsigned long)entry & VCANBUS_RXQ_SHARED))
		return entry;
	shared = (void *)((unsigned long)entry & ~VCANBUS_RXQ_SHARED);
	skb = vcanbus_node_rx_skb(node, shared);
	consume_skb(shared);
	*lost = !skb;
	return skb;
}

/*
 * Empties the queue of a node that is down, the bus's poll kept off it.
 * (It makes the clones it frees: a node goes down rarely, and one way to
 * take an entry is one to get right.)
 */
static void vcanbus_rxq_purge(struct vcanbus_node *node)
{
	struct sk_buff *skb;
	bool lost;

	while ((skb = vcanbus_rxq_take(node, &lost)) || lost)
		kfree_skb(skb);
}

/* Hands up to @budget entries of @node's queue to the stack. */
static int vcanbus_rx_node(struct vcanbus_node *node, int budget)
{
	struct net_device_stats *stats = &node->ndev->stats;
	struct sk_buff *skb;
	int done = 0;
	bool lost;

	while (done < budget) {
		skb = vcanbus_rxq_take(node, &lost);
		if (!skb) {
			if (!lost)
				break;
			stats->rx_dropped++;
			continue;
		}
		/* Echoes count as sent (on completion), not as received. */
		if (!vcanbus_skb_cb(skb)->echo && !vcanbus_skb_is_error(skb)) {
			stats->rx_packets++;
			stats->rx_bytes += can_skb_get_data_len(skb);
		}
		netif_receive_skb(skb);
		done++;
	}
	return done;
}

/*
 * The bus's poll: the ready nodes in turn, each until its queue is empty
 * or the budget is spent. A node leaves the list only when its queue was
 * found empty under ready_lock (see vcanbus_rx_ready()), or while its
 * receiving is held (rx_hold: vcanbus_node_set_rx_hold() puts it back).
 */
static int vcanbus_rx_poll(struct napi_struct *napi, int budget)
{
	struct vcanbus_bus *bus = container_of(napi, struct vcanbus_bus, napi);
	struct vcanbus_node *node;
	bool room = false;
	int done = 0;

	while (done < budget) {
		spin_lock(&bus->ready_lock);
		node = list_first_entry_or_null(&bus->ready,
						struct vcanbus_node,
						ready_list);
		spin_unlock(&bus->ready_lock);
		if (!node)
			break;
		if (!READ_ONCE(node->rx_hold))
			done += vcanbus_rx_node(node, budget - done);

		spin_lock(&bus->ready_lock);
		if (READ_ONCE(node->rx_hold) || !vcanbus_rxq_len(&node->rxq))
			list_del_init(&node->ready_list);
		else
			list_move_tail(&node->ready_list, &bus->ready);
		spin_unlock(&bus->ready_lock);
		/* The bus may be waiting for room in this queue. */
		if (vcanbus_rxq_len(&node->rxq) <= VCANBUS_RXQ_LEN / 2)
			room = true;
	}
	if (done < budget)
		napi_complete_done(napi, done);
	if (room)
		vcanbus_bus_kick(bus);
	return done;
}

void vcanbus_node_set_rx_hold(struct vcanbus_node *node, bool hold)
{
	struct vcanbus_bus *bus = node->bus;

	WRITE_ONCE(node->rx_hold, hold);
	if (hold)
		return;
	/* Its queue may have filled meanwhile: to the stack with it. */
	vcanbus_bus_lock_bh(bus);
	if (node->running && vcanbus_rxq_len(&node->rxq))
		vcanbus_rx_ready(node);
	vcanbus_bus_unlock_bh(bus);
}

/*
 * @node went down: nothing is queued to it any more (it is off
 * bus->running). Off the ready list, its queue emptied, with the poll
 * kept off while that is done; frames queued to other nodes meanwhile
 * found the NAPI off, so it is scheduled for them after.
 */
void vcanbus_rx_node_down(struct vcanbus_node *node)
{
	struct vcanbus_bus *bus = node->bus;
	bool ready;

	mutex_lock(&bus->napi_mutex);
	napi_disable(&bus->napi);
	spin_lock_bh(&bus->ready_lock);
	list_del_init(&node->ready_list);
	spin_unlock_bh(&bus->ready_lock);
	vcanbus_rxq_purge(node);
	napi_enable(&bus->napi);
	spin_lock_bh(&bus->ready_lock);
	ready = !list_empty(&bus->ready);
	spin_unlock_bh(&bus->ready_lock);
	if (ready) {
		local_bh_disable();
		napi_schedule(&bus->napi);
		local_bh_enable();
	}
	mutex_unlock(&bus->napi_mutex);
}

/**
 * vcanbus_rx_init() - the bus's delivery context
 * @bus: a new bus
 * @name: its name, which its NAPI's thread takes ("napi/<name>-<id>")
 *
 * Return: 0 or -ENOMEM.
 */
int vcanbus_rx_init(struct vcanbus_bus *bus, const char *name)
{
	spin_lock_init(&bus->ready_lock);
	INIT_LIST_HEAD(&bus->ready);
	mutex_init(&bus->napi_mutex);
	bus->napi_dev = vcanbus_alloc_napi_dev();
	if (!bus->napi_dev)
		return -ENOMEM;
	strscpy(bus->napi_dev->name, name, IFNAMSIZ);
	netif_napi_add(bus->napi_dev, &bus->napi, vcanbus_rx_poll);
	napi_enable(&bus->napi);
	return 0;
}

/* The bus goes: it has no node any more. */
void vcanbus_rx_exit(struct vcanbus_bus *bus)
{
	WARN_ON_ONCE(!list_empty(&bus->ready));
	napi_disable(&bus->napi);
	netif_napi_del(&bus->napi);
	vcanbus_free_napi_dev(bus->napi_dev);
	mutex_destroy(&bus->napi_mutex);
}

/* Threaded NAPI for the bus's delivery (configfs "threaded"). */
int vcanbus_rx_set_threaded(struct vcanbus_bus *bus, bool threaded)
{
	int err;

	mutex_lock(&bus->napi_mutex);
	err = vcanbus_napi_dev_set_threaded(bus->napi_dev, threaded);
	if (!err)
		WRITE_ONCE(bus->threaded, threaded);
	mutex_unlock(&bus->napi_mutex);
	return err;
}

bool vcanbus_rx_threaded(struct vcanbus_bus *bus)
{
	return READ_ONCE(bus->threaded);
}
