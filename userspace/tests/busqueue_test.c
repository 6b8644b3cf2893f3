// SPDX-License-Identifier: GPL-2.0
/*
 * The queue to the bus (busqueue.c): which frame goes on to the links,
 * when, and from which link, for echoes in order and out of it, a bus
 * that stops and comes back, refused frames and a full queue. The clock
 * is the test's: every time is given in milliseconds.
 */
#include <string.h>

#include "busqueue.h"
#include "tap.h"

#define LIMIT	2000

/* What the queue relayed: the frame's CAN ID and the link it came from. */
struct relay {
	canid_t id;
	const void *origin;
};

static struct relay relayed[64];
static unsigned int nrelayed;

static void record(const struct vcb_frame *f, const void *origin)
{
	if (nrelayed < ARRAY_SIZE(relayed))
		relayed[nrelayed] = (struct relay){ f->cf.can_id, origin };
	nrelayed++;
}

static const char link_a[1], link_b[1];	/* two links, by address */

static struct vcb_frame frame(canid_t id, uint8_t byte)
{
	struct vcb_frame f = { .cf = { .can_id = id, .len = 1 } };

	f.cf.data[0] = byte;
	return f;
}

static struct vcb_busqueue q;

static void start(unsigned int size)
{
	nrelayed = 0;
	memset(relayed, 0, sizeof(relayed));
	vcb_busqueue_init(&q, size, LIMIT, record);
}

static void add(canid_t id, const void *origin, uint64_t now)
{
	struct vcb_frame f = frame(id, (uint8_t)id);

	CHECK(vcb_busqueue_add(&q, &f, origin, now));
}

static bool echo(canid_t id, uint64_t now)
{
	struct vcb_frame f = frame(id, (uint8_t)id);

	return vcb_busqueue_echo(&q, &f, now);
}

/* Relayed only when the bus carried them, in the bus's order. */
static void t_order_is_the_bus(void)
{
	start(16);
	add(0x300, link_a, 0);
	add(0x100, link_b, 1);
	CHECK_EQ(vcb_busqueue_unwritten(&q), 2);
	CHECK_EQ(vcb_busqueue_next(&q, 1)->cf.can_id, 0x100);
	vcb_busqueue_written(&q, 2, 1);
	CHECK_EQ(nrelayed, 0);
	/* The controller sent its mailboxes by priority: 0x100 first. */
	CHECK(echo(0x100, 5));
	CHECK_EQ(nrelayed, 1);
	CHECK_EQ(relayed[0].id, 0x100);
	CHECK(relayed[0].origin == link_b);
	CHECK_EQ(q.count, 2);		/* 0x300 still at the head */
	CHECK(echo(0x300, 6));
	CHECK_EQ(nrelayed, 2);
	CHECK(relayed[1].origin == link_a);
	CHECK_EQ(q.count, 0);
	CHECK_EQ(q.consumed, 0);
	CHECK_EQ(q.st.carried, 2);
	CHECK_EQ(q.st.late + q.st.stale + q.st.stalls, 0);
	vcb_busqueue_free(&q);
}

/* Same contents from two links: one relay each, none twice. */
static void t_same_contents(void)
{
	start(16);
	add(0x123, link_a, 0);
	add(0x123, link_b, 0);
	vcb_busqueue_written(&q, 2, 0);
	CHECK(echo(0x123, 1));
	CHECK(echo(0x123, 2));
	CHECK(!echo(0x123, 3));		/* a third: nobody waits for it */
	CHECK_EQ(nrelayed, 2);
	CHECK(relayed[0].origin == link_a);
	CHECK(relayed[1].origin == link_b);
	CHECK_EQ(q.st.late, 1);
	vcb_busqueue_free(&q);
}

/*
 * A bus that takes nothing: after the limit what waits is relayed in the
 * order it came, new frames at once; written frames are given up, queued
 * ones dropped when they are that old; a late echo is not relayed again;
 * the first echo ends the stall.
 */
static void t_stall(void)
{
	start(16);
	add(0x10, link_a, 0);
	vcb_busqueue_written(&q, 1, 0);
	add(0x11, link_a, 1000);	/* queued: the kernel's queue is full */
	CHECK_EQ(vcb_busqueue_deadline(&q), LIMIT);
	CHECK(!vcb_busqueue_expire(&q, LIMIT - 1));
	CHECK_EQ(nrelayed, 0);
	CHECK(vcb_busqueue_expire(&q, LIMIT));
	CHECK(q.stalled);
	CHECK_EQ(nrelayed, 2);
	CHECK_EQ(relayed[0].id, 0x10);
	CHECK_EQ(relayed[1].id, 0x11);
	CHECK_EQ(q.st.stalls, 1);
	CHECK_EQ(q.st.stale, 1);	/* 0x10 given up; 0x11 not yet old */
	CHECK_EQ(q.count, 1);
	CHECK_EQ(vcb_busqueue_deadline(&q), 1000 + LIMIT);
	add(0x12, link_b, 2100);	/* while stalled: at once */
	CHECK_EQ(nrelayed, 3);
	CHECK(relayed[2].origin == link_b);
	CHECK(!echo(0x10, 2200));	/* on the bus after all: late */
	CHECK_EQ(q.st.late, 1);
	CHECK_EQ(nrelayed, 3);
	CHECK(!vcb_busqueue_expire(&q, 1000 + LIMIT));
	CHECK_EQ(q.st.stale, 2);	/* 0x11 dropped unwritten */
	CHECK_EQ(q.count, 1);
	CHECK_EQ(vcb_busqueue_unwritten(&q), 1);
	CHECK_EQ(vcb_busqueue_next(&q, 0)->cf.can_id, 0x12);
	vcb_busqueue_written(&q, 1, 3000);
	CHECK(echo(0x12, 3500));	/* the bus is back */
	CHECK(!q.stalled);
	CHECK_EQ(nrelayed, 3);		/* 0x12 went on before */
	CHECK_EQ(q.count, 0);
	CHECK_EQ(q.st.relayed_early, 3);
	CHECK_EQ(vcb_busqueue_deadline(&q), 0);
	vcb_busqueue_free(&q);
}

/*
 * A bus that moves slowly drops nothing queued: a frame waits its turn,
 * and its time for the bus counts from its writing. A written frame the
 * bus does not carry within the limit is given up while others go.
 */
static void t_slow_bus(void)
{
	start(16);
	add(0x20, link_a, 0);
	add(0x21, link_a, 0);
	add(0x22, link_a, 0);
	vcb_busqueue_written(&q, 2, 0);
	/* By priority: 0x21 goes, 0x20 waits (another node's flood). */
	CHECK(echo(0x21, 1900));
	CHECK_EQ(vcb_busqueue_deadline(&q), LIMIT);
	CHECK(!vcb_busqueue_expire(&q, LIMIT));
	CHECK(!q.stalled);
	CHECK_EQ(q.st.stale, 1);		/* 0x20 given up */
	CHECK_EQ(nrelayed, 2);
	CHECK_EQ(relayed[1].id, 0x20);
	CHECK_EQ(q.count, 1);			/* 0x22, queued since 0: kept */
	CHECK_EQ(vcb_busqueue_deadline(&q), 1900 + LIMIT);
	vcb_busqueue_written(&q, 1, 3000);	/* its turn, late but moving */
	CHECK_EQ(vcb_busqueue_deadline(&q), 1900 + LIMIT);
	CHECK(!vcb_busqueue_expire(&q, 3400));	/* 3.4 s old, written 0.4 s ago */
	CHECK_EQ(q.st.stale, 1);
	CHECK(echo(0x22, 3500));
	CHECK_EQ(q.st.stale, 1);
	CHECK_EQ(q.st.carried, 2);
	CHECK_EQ(nrelayed, 3);
	CHECK_EQ(q.count, 0);
	vcb_busqueue_free(&q);
}

/* A frame the bus refuses goes on at once; a full queue takes nothing. */
static void t_refused_and_full(void)
{
	struct vcb_frame f = frame(0x30, 0);

	start(2);
	add(0x30, link_a, 0);
	add(0x31, link_b, 0);
	CHECK(!vcb_busqueue_add(&q, &f, link_a, 0));
	vcb_busqueue_refused(&q);
	CHECK_EQ(nrelayed, 1);
	CHECK_EQ(relayed[0].id, 0x30);
	CHECK_EQ(q.count, 1);
	CHECK_EQ(q.consumed, 0);
	CHECK_EQ(vcb_busqueue_next(&q, 0)->cf.can_id, 0x31);
	CHECK(vcb_busqueue_add(&q, &f, link_a, 0));
	vcb_busqueue_free(&q);
}

/* A link that went away is named by no frame: everyone gets them. */
static void t_forget(void)
{
	start(4);
	add(0x40, link_a, 0);
	vcb_busqueue_written(&q, 1, 0);
	vcb_busqueue_forget(&q, link_a);
	CHECK(echo(0x40, 1));
	CHECK_EQ(nrelayed, 1);
	CHECK(!relayed[0].origin);
	vcb_busqueue_free(&q);
}

static const struct tap_test tests[] = {
	{ t_order_is_the_bus, "busqueue: relayed when the bus carried it, in the bus's order" },
	{ t_same_contents, "busqueue: frames of the same contents from two links" },
	{ t_stall, "busqueue: a bus that takes nothing; the links go on; it comes back" },
	{ t_slow_bus, "busqueue: a slow bus drops nothing queued; a written frame is given up" },
	{ t_refused_and_full, "busqueue: a refused frame goes on at once; a full queue" },
	{ t_forget, "busqueue: a link that went away" },
};

int main(void)
{
	return tap_run(tests, ARRAY_SIZE(tests));
}
