/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames from the network on their way to the bus, in the order they came
 * in, until the bus carried them.
 *
 * The bridge's order is its bus's: a frame from one link goes on to the
 * other links when its echo comes back from the bus (CAN_RAW_RECV_OWN_MSGS,
 * MSG_CONFIRM), at its place among the frames of the bus's own senders. So
 * the bus and every peer without local senders see one sequence.
 *
 * A bus that stops taking frames (down, bus-off, nobody to acknowledge)
 * must not stop the links: when no frame of ours has reached it for the
 * limit, the queue is stalled: what waits is relayed at once, in the order
 * it came, and so is every frame that comes in until the bus takes one
 * again. While stalled, a frame that has waited longer than the limit to be
 * written is dropped; one written to the socket that the bus has not
 * carried within the limit of its writing is given up, stalled or not
 * (both counted as stale). An echo that comes after
 * that is counted as late and not relayed again.
 *
 * Pure bookkeeping, no sockets: canport.c writes and reads, this decides.
 */
#ifndef VCB_BUSQUEUE_H
#define VCB_BUSQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

typedef void vcb_relay_fn(const struct vcb_frame *f, const void *origin);

enum vcb_pending_state {
	VCB_QUEUED,		/* not written yet */
	VCB_WRITTEN,		/* in the kernel's queue or on the wire */
	VCB_DONE,		/* carried, refused or given up */
};

struct vcb_pending {
	struct vcb_frame f;
	const void *origin;	/* the link it came from; compared, never used */
	uint64_t since_ms;	/* when it came in */
	uint64_t written_ms;	/* when it was written to the socket */
	uint8_t state;
	bool relayed;
};

struct vcb_busqueue {
	struct vcb_pending *ring;
	unsigned int size;
	unsigned int head, count;
	/* Entries from head that left VCB_QUEUED: [head, head + consumed). */
	unsigned int consumed;
	unsigned int limit_ms;
	uint64_t progress_ms;	/* the last echo, or when the queue filled */
	bool stalled;
	vcb_relay_fn *relay;
	struct {
		uint64_t carried, stale, late, stalls, relayed_early;
	} st;
};

int vcb_busqueue_init(struct vcb_busqueue *q, unsigned int size,
		      unsigned int limit_ms, vcb_relay_fn *relay);
void vcb_busqueue_free(struct vcb_busqueue *q);

/*
 * Takes @f for the bus; false if the queue is full (the caller counts it
 * and relays @f itself). While stalled, @f is relayed at once.
 */
bool vcb_busqueue_add(struct vcb_busqueue *q, const struct vcb_frame *f,
		      const void *origin, uint64_t now_ms);

/* Frames still to write, and the @i-th of them. */
unsigned int vcb_busqueue_unwritten(const struct vcb_busqueue *q);
const struct vcb_frame *vcb_busqueue_next(const struct vcb_busqueue *q, unsigned int i);
/* The next @n were written to the socket at @now_ms. */
void vcb_busqueue_written(struct vcb_busqueue *q, unsigned int n, uint64_t now_ms);
/* The next one cannot be written (no such frame on this bus): done. */
void vcb_busqueue_refused(struct vcb_busqueue *q);

/*
 * One of our frames came back from the bus: the first written entry with
 * its contents is done and relayed (unless it was already). False: none
 * waited for it (it came after the limit): counted as late.
 */
bool vcb_busqueue_echo(struct vcb_busqueue *q, const struct vcb_frame *f,
		       uint64_t now_ms);

/* Applies the limit at @now_ms; true if the queue just stalled. */
bool vcb_busqueue_expire(struct vcb_busqueue *q, uint64_t now_ms);
/* When vcb_busqueue_expire() has something to do next; 0: never. */
uint64_t vcb_busqueue_deadline(const struct vcb_busqueue *q);

/* @origin went away: its frames are relayed to every link. */
void vcb_busqueue_forget(struct vcb_busqueue *q, const void *origin);

#endif
