// SPDX-License-Identifier: GPL-2.0
/*
 * The queue to the bus and the order it gives the links (busqueue.h).
 *
 * A ring in arrival order. Its front part, [head, head + consumed), has
 * left the queued state: written (waiting for the echo) or done; done
 * entries leave from the head. A frame's age for the bus counts from its
 * writing: on a slow bus it may wait long in the queue, but once written
 * (the kernel's queue holds a dozen or so) the bus must carry it soon. Echoes mostly come in write order, but a
 * controller may send its mailboxes by priority, so an echo is matched by
 * contents to the first written entry that carries the same frame.
 */
#include <stdlib.h>

#include "busqueue.h"

int vcb_busqueue_init(struct vcb_busqueue *q, unsigned int size,
		      unsigned int limit_ms, vcb_relay_fn *relay)
{
	*q = (struct vcb_busqueue){ .size = size, .limit_ms = limit_ms,
				    .relay = relay };
	q->ring = calloc(size, sizeof(*q->ring));
	return q->ring ? 0 : -1;
}

void vcb_busqueue_free(struct vcb_busqueue *q)
{
	free(q->ring);
	q->ring = NULL;
}

static struct vcb_pending *at(const struct vcb_busqueue *q, unsigned int i)
{
	return &q->ring[(q->head + i) % q->size];
}

static void relay(struct vcb_busqueue *q, struct vcb_pending *p)
{
	if (p->relayed)
		return;
	p->relayed = true;
	q->relay(&p->f, p->origin);
}

/* Done entries at the head leave. */
static void pop(struct vcb_busqueue *q)
{
	while (q->count && at(q, 0)->state == VCB_DONE) {
		q->head = (q->head + 1) % q->size;
		q->count--;
		q->consumed--;
	}
}

bool vcb_busqueue_add(struct vcb_busqueue *q, const struct vcb_frame *f,
		      const void *origin, uint64_t now_ms)
{
	struct vcb_pending *p;

	if (q->count == q->size)
		return false;
	/* The bus has had nothing of ours to carry until now. */
	if (!q->count)
		q->progress_ms = now_ms;
	p = at(q, q->count++);
	*p = (struct vcb_pending){ .f = *f, .origin = origin,
				   .since_ms = now_ms, .state = VCB_QUEUED };
	if (q->stalled) {
		q->st.relayed_early++;
		relay(q, p);
	}
	return true;
}

unsigned int vcb_busqueue_unwritten(const struct vcb_busqueue *q)
{
	return q->count - q->consumed;
}

const struct vcb_frame *vcb_busqueue_next(const struct vcb_busqueue *q, unsigned int i)
{
	return &at(q, q->consumed + i)->f;
}

void vcb_busqueue_written(struct vcb_busqueue *q, unsigned int n, uint64_t now_ms)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vcb_pending *p = at(q, q->consumed + i);

		p->state = VCB_WRITTEN;
		p->written_ms = now_ms;
	}
	q->consumed += n;
}

void vcb_busqueue_refused(struct vcb_busqueue *q)
{
	struct vcb_pending *p = at(q, q->consumed++);

	p->state = VCB_DONE;
	relay(q, p);
	pop(q);
}

bool vcb_busqueue_echo(struct vcb_busqueue *q, const struct vcb_frame *f,
		       uint64_t now_ms)
{
	for (unsigned int i = 0; i < q->consumed; i++) {
		struct vcb_pending *p = at(q, i);

		if (p->state != VCB_WRITTEN || !vcb_frame_same(&p->f, f))
			continue;
		p->state = VCB_DONE;
		q->st.carried++;
		q->progress_ms = now_ms;
		q->stalled = false;
		relay(q, p);
		pop(q);
		return true;
	}
	q->st.late++;
	return false;
}

bool vcb_busqueue_expire(struct vcb_busqueue *q, uint64_t now_ms)
{
	bool stalled_now = false;

	if (!q->count)
		return false;
	if (!q->stalled && now_ms - q->progress_ms >= q->limit_ms) {
		/* The bus took nothing for the limit: the links go on. */
		q->stalled = stalled_now = true;
		q->st.stalls++;
		for (unsigned int i = 0; i < q->count; i++) {
			struct vcb_pending *p = at(q, i);

			if (p->state != VCB_DONE && !p->relayed) {
				q->st.relayed_early++;
				relay(q, p);
			}
		}
	}
	/* Written ones, in write order: the bus did not carry them in time. */
	for (unsigned int i = 0; i < q->consumed; i++) {
		struct vcb_pending *p = at(q, i);

		if (p->state != VCB_WRITTEN)
			continue;
		if (now_ms - p->written_ms < q->limit_ms)
			break;
		p->state = VCB_DONE;
		q->st.stale++;
		relay(q, p);
	}
	/*
	 * Queued ones, in arrival order, only while stalled: on a moving
	 * bus a frame waits its turn (the links' flow control bounds it).
	 */
	while (q->stalled && q->consumed < q->count) {
		struct vcb_pending *p = at(q, q->consumed);

		if (now_ms - p->since_ms < q->limit_ms)
			break;
		q->consumed++;
		p->state = VCB_DONE;
		q->st.stale++;
		relay(q, p);
	}
	pop(q);
	return stalled_now;
}

/* The written entry written first, if any. */
static const struct vcb_pending *first_written(const struct vcb_busqueue *q)
{
	for (unsigned int i = 0; i < q->consumed; i++)
		if (at(q, i)->state == VCB_WRITTEN)
			return at(q, i);
	return NULL;
}

uint64_t vcb_busqueue_deadline(const struct vcb_busqueue *q)
{
	const struct vcb_pending *w = first_written(q);
	uint64_t t = UINT64_MAX;

	if (!q->count)
		return 0;
	if (w)
		t = w->written_ms;
	if (!q->stalled) {
		if (q->progress_ms < t)
			t = q->progress_ms;
	} else if (q->consumed < q->count && at(q, q->consumed)->since_ms < t) {
		t = at(q, q->consumed)->since_ms;
	}
	return t + q->limit_ms;
}

void vcb_busqueue_forget(struct vcb_busqueue *q, const void *origin)
{
	for (unsigned int i = 0; i < q->count; i++)
		if (at(q, i)->origin == origin)
			at(q, i)->origin = NULL;
}
