// SPDX-License-Identifier: GPL-2.0
/*
 * The corosync transport (cpg.c) against a fake libcpg: what it sends and
 * when, for corosync's flow control (CS_ERR_TRY_AGAIN), a full queue,
 * messages split at their size, own and foreign messages, garbage, and a
 * corosync that goes away and comes back. The real daemon is cpg.sh's.
 *
 * The event loop is the test's too: the transport's sources and timer are
 * recorded, and the test calls their handlers.
 */
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "bridge.h"
#include "cannelloni.h"
#include "tap.h"

/* ---- a fake libcpg ---------------------------------------------------- */

#define MSGS_MAX	80

struct msg {
	uint8_t data[CNL_HEADER_LEN + 8192];
	size_t len;
	uint32_t nodeid, pid;
};

static struct {
	cpg_model_v1_data_t model;
	void *context;
	int fd;
	bool up;			/* a handle is open */
	unsigned int inits, finals, joins, leaves;
	cs_error_t init_err, dispatch_err;
	unsigned int try_again;		/* mcasts refused before one goes */
	struct msg sent[MSGS_MAX];	/* what went out */
	unsigned int nsent;
	struct msg in[MSGS_MAX];	/* what the next dispatch delivers */
	unsigned int nin;
} cs;

const char *cs_strerror(cs_error_t err)
{
	return err == CS_ERR_LIBRARY ? "CS_ERR_LIBRARY" : "CS_ERR_OTHER";
}

cs_error_t cpg_model_initialize(cpg_handle_t *handle, cpg_model_t model,
				cpg_model_data_t *data, void *context)
{
	(void)model;
	cs.inits++;
	if (cs.init_err != CS_OK)
		return cs.init_err;
	cs.model = *(cpg_model_v1_data_t *)data;
	cs.context = context;
	cs.up = true;
	*handle = 42;
	return CS_OK;
}

cs_error_t cpg_finalize(cpg_handle_t handle)
{
	(void)handle;
	cs.finals++;
	cs.up = false;
	return CS_OK;
}

cs_error_t cpg_fd_get(cpg_handle_t handle, int *fd)
{
	(void)handle;
	*fd = cs.fd;
	return CS_OK;
}

cs_error_t cpg_context_get(cpg_handle_t handle, void **context)
{
	(void)handle;
	*context = cs.context;
	return CS_OK;
}

cs_error_t cpg_local_get(cpg_handle_t handle, unsigned int *nodeid)
{
	(void)handle;
	*nodeid = 1;
	return CS_OK;
}

cs_error_t cpg_join(cpg_handle_t handle, const struct cpg_name *group)
{
	(void)handle;
	(void)group;
	cs.joins++;
	return CS_OK;
}

cs_error_t cpg_leave(cpg_handle_t handle, const struct cpg_name *group)
{
	(void)handle;
	(void)group;
	cs.leaves++;
	return CS_OK;
}

cs_error_t cpg_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee,
			    const struct iovec *iov, unsigned int iov_len)
{
	struct msg *m = &cs.sent[cs.nsent];

	(void)handle;
	if (guarantee != CPG_TYPE_AGREED || iov_len != 1 ||
	    iov[0].iov_len > sizeof(m->data) || cs.nsent == MSGS_MAX)
		return CS_ERR_INVALID_PARAM;
	if (cs.try_again) {
		cs.try_again--;
		return CS_ERR_TRY_AGAIN;
	}
	memcpy(m->data, iov[0].iov_base, iov[0].iov_len);
	m->len = iov[0].iov_len;
	cs.nsent++;
	return CS_OK;
}

/* As libcpg's: one message, or CS_ERR_TRY_AGAIN when none is left. */
cs_error_t cpg_dispatch(cpg_handle_t handle, cs_dispatch_flags_t type)
{
	struct cpg_name group = { .length = 1, .value = "g" };
	struct msg m;

	if (type != CS_DISPATCH_ONE_NONBLOCKING)
		return CS_ERR_INVALID_PARAM;	/* the only one cpg.c needs */
	if (cs.dispatch_err != CS_OK)
		return cs.dispatch_err;
	if (!cs.nin)
		return CS_ERR_TRY_AGAIN;
	m = cs.in[0];
	memmove(&cs.in[0], &cs.in[1], --cs.nin * sizeof(cs.in[0]));
	cs.model.cpg_deliver_fn(handle, &group, m.nodeid, m.pid, m.data, m.len);
	return CS_OK;
}

/* ---- the bridge around it --------------------------------------------- */

static struct vcb_port *port;
static struct vcb_source *sources[4];
static unsigned int timer_ms;
static struct vcb_frame delivered[256];
static unsigned int ndelivered;
static unsigned int bus_room;		/* frames until the bus is congested */

int vcb_loop_add(struct vcb_source *src, uint32_t events)
{
	(void)events;
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
		if (!sources[i]) {
			sources[i] = src;
			return 0;
		}
	return -1;
}

void vcb_loop_del(struct vcb_source *src)
{
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
		if (sources[i] == src)
			sources[i] = NULL;
}

/* Armed for real, at once: the test decides when the handler runs. */
int vcb_timer_arm(int fd, unsigned int ms)
{
	struct itimerspec its = { .it_value.tv_nsec = ms ? 1 : 0 };

	timer_ms = ms;
	return timerfd_settime(fd, 0, &its, NULL);
}

void vcb_port_register(struct vcb_port *p)
{
	port = p;
}

bool vcb_can_congested(void)
{
	return ndelivered >= bus_room;
}

void vcb_deliver(const struct vcb_frame *f, const void *origin)
{
	(void)origin;
	if (ndelivered < ARRAY_SIZE(delivered))
		delivered[ndelivered] = *f;
	ndelivered++;
}

/* The source whose handler is not the corosync fd's: the timer. */
static struct vcb_source *source(bool timer)
{
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
		if (sources[i] && (sources[i]->fd == cs.fd) != timer)
			return sources[i];
	return NULL;
}

/* The timer went off (it was armed): its handler runs. */
static bool fire_timer(void)
{
	struct vcb_source *t = source(true);
	struct pollfd p = { .events = POLLIN };

	if (!t || !timer_ms)
		return false;
	p.fd = t->fd;
	if (poll(&p, 1, 1000) != 1)
		return false;
	t->handle(t, EPOLLIN);
	return true;
}

static void readable(uint32_t events)
{
	struct vcb_source *s = source(false);

	if (s)
		s->handle(s, events);
}

/* One counter of the port's report. */
static long long stat(const char *name)
{
	char *buf = NULL, line[160];
	size_t size = 0;
	long long v = -1;
	FILE *f = open_memstream(&buf, &size);

	port->report(port, f);
	fclose(f);
	f = fmemopen(buf, size, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ": ");

		if (p && !strncmp(p + 2, name, strlen(name)) &&
		    p[2 + strlen(name)] == ' ')
			v = atoll(p + 3 + strlen(name));
	}
	if (f)
		fclose(f);
	free(buf);
	return v;
}

static struct vcb_frame frame(canid_t id, unsigned int len, bool fd)
{
	struct vcb_frame f = { .cf = { .can_id = id, .len = len }, .fd = fd };

	for (unsigned int i = 0; i < len; i++)
		f.cf.data[i] = id + i;
	return f;
}

/* The CAN IDs of every frame that went out, in order, message by message. */
static unsigned int sent_ids(canid_t *ids, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cs.nsent; i++) {
		const struct msg *m = &cs.sent[i];
		uint16_t count = m->data[3] << 8 | m->data[4];
		size_t at = CNL_HEADER_LEN;

		for (unsigned int k = 0; k < count && at + 5 <= m->len; k++) {
			unsigned int len = m->data[at + 4] & ~CNL_FD_LEN;
			bool fd = m->data[at + 4] & CNL_FD_LEN;

			if (n < max)
				ids[n] = (canid_t)m->data[at] << 24 |
					 m->data[at + 1] << 16 |
					 m->data[at + 2] << 8 | m->data[at + 3];
			n++;
			at += 5 + fd + len;
		}
	}
	return n;
}

static void open_port(unsigned int queue)
{
	struct vcb_cpg_config cfg = { .group = "g", .queue = queue };

	memset(&cs, 0, sizeof(cs));
	memset(sources, 0, sizeof(sources));
	port = NULL;
	ndelivered = 0;
	bus_room = UINT_MAX;
	timer_ms = 0;
	cs.fd = eventfd(0, EFD_CLOEXEC);
	cs.init_err = cs.dispatch_err = CS_OK;	/* CS_OK is 1 */
	CHECK_EQ(vcb_cpg_open(&cfg), 0);
	CHECK(port != NULL);
}

static void close_port(void)
{
	if (port)
		port->close(port);
	port = NULL;
	close(cs.fd);
}

/* ---- the tests -------------------------------------------------------- */

static void t_order(void)
{
	canid_t ids[16] = { 0 };

	open_port(64);
	CHECK_EQ(stat("connected"), 1);
	CHECK_EQ(cs.joins, 1);
	for (canid_t id = 1; id <= 5; id++) {
		struct vcb_frame f = frame(id, 8, false);

		port->send(port, &f, NULL);
	}
	port->flush(port);
	/* One message for the batch, in the bus's order. */
	CHECK_EQ(cs.nsent, 1);
	CHECK_EQ(sent_ids(ids, 16), 5);
	for (unsigned int i = 0; i < 5; i++)
		CHECK_EQ(ids[i], i + 1);
	CHECK_EQ(cs.sent[0].data[0], CNL_VERSION);
	CHECK_EQ(cs.sent[0].len, CNL_HEADER_LEN + 5 * 13);
	CHECK_EQ(stat("tx_frames"), 5);
	CHECK_EQ(stat("tx_messages"), 1);
	/* A frame from corosync itself is not sent back. */
	port->send(port, &(struct vcb_frame){ .cf.len = 0 }, port);
	port->flush(port);
	CHECK_EQ(cs.nsent, 1);
	close_port();
	CHECK_EQ(cs.leaves, 1);
	CHECK_EQ(cs.finals, 1);
}

static void t_try_again(void)
{
	canid_t ids[16] = { 0 };

	open_port(64);
	cs.try_again = 3;
	for (canid_t id = 1; id <= 4; id++) {
		struct vcb_frame f = frame(id, 1, false);

		port->send(port, &f, NULL);
	}
	port->flush(port);
	/* Refused: kept, and the timer will try again after 1 ms. */
	CHECK_EQ(cs.nsent, 0);
	CHECK_EQ(stat("tx_queued"), 4);
	CHECK_EQ(timer_ms, 1);
	/* More frames meanwhile wait behind them; a flush sends nothing. */
	for (canid_t id = 5; id <= 6; id++) {
		struct vcb_frame f = frame(id, 1, false);

		port->send(port, &f, NULL);
	}
	port->flush(port);
	CHECK_EQ(cs.try_again, 2);
	CHECK(fire_timer());
	CHECK_EQ(timer_ms, 2);		/* backing off */
	CHECK(fire_timer());
	CHECK_EQ(timer_ms, 4);
	CHECK(fire_timer());
	/* Nothing lost, nothing reordered, one wait counted. */
	CHECK_EQ(sent_ids(ids, 16), 6);
	for (unsigned int i = 0; i < 6; i++)
		CHECK_EQ(ids[i], i + 1);
	CHECK_EQ(stat("tx_queued"), 0);
	CHECK_EQ(stat("tx_flow_waits"), 1);
	CHECK_EQ(stat("tx_dropped_queue_full"), 0);
	close_port();
}

static void t_queue_full(void)
{
	canid_t ids[32] = { 0 };

	open_port(16);
	cs.try_again = 1;
	for (canid_t id = 1; id <= 20; id++) {
		struct vcb_frame f = frame(id, 0, false);

		port->send(port, &f, NULL);
		port->flush(port);
	}
	/* The first 16 wait, 4 more are counted and dropped. */
	CHECK_EQ(stat("tx_queued"), 16);
	CHECK_EQ(stat("tx_dropped_queue_full"), 4);
	CHECK(fire_timer());
	CHECK_EQ(sent_ids(ids, 32), 16);
	for (unsigned int i = 0; i < 16; i++)
		CHECK_EQ(ids[i], i + 1);
	close_port();
}

static void t_split(void)
{
	canid_t ids[300] = { 0 };
	unsigned int per = 8192 / (5 + 1 + 64);

	open_port(1024);
	for (canid_t id = 0; id < 300; id++) {
		struct vcb_frame f = frame(id, 64, true);

		port->send(port, &f, NULL);
	}
	port->flush(port);
	/* 70-byte FD frames: 117 to a message of at most 8 KiB. */
	CHECK_EQ(cs.nsent, 3);
	CHECK_EQ(cs.sent[0].len, CNL_HEADER_LEN + per * 70);
	CHECK_EQ(cs.sent[0].data[4], per);
	CHECK_EQ(cs.sent[2].data[4], 300 - 2 * per);
	CHECK_EQ(cs.sent[1].data[2], cs.sent[0].data[2] + 1);	/* seq */
	CHECK_EQ(sent_ids(ids, 300), 300);
	for (unsigned int i = 0; i < 300; i++)
		CHECK_EQ(ids[i], i);
	/* A DLC of 9..15 fits no format: counted, not sent. */
	{
		struct vcb_frame f = frame(1, 8, false);

		f.cf.__res1 = 12;
		port->send(port, &f, NULL);
		port->flush(port);
		CHECK_EQ(cs.nsent, 3);
		CHECK_EQ(stat("tx_not_carried"), 1);
	}
	/* Short frames: VCB_CPG_MSG_FRAMES to a message, however small. */
	for (canid_t id = 0; id < 300; id++) {
		struct vcb_frame f = frame(id, 0, false);

		port->send(port, &f, NULL);
	}
	port->flush(port);
	CHECK_EQ(cs.nsent, 5);
	CHECK_EQ(cs.sent[3].len, CNL_HEADER_LEN + VCB_CPG_MSG_FRAMES * 5);
	CHECK_EQ(cs.sent[3].data[3] << 8 | cs.sent[3].data[4], VCB_CPG_MSG_FRAMES);
	CHECK_EQ(cs.sent[4].data[3] << 8 | cs.sent[4].data[4], 300 - VCB_CPG_MSG_FRAMES);
	close_port();
}

/* A message from @nodeid/@pid with frames 0x100 + i, @n of them. */
static void incoming(uint32_t nodeid, uint32_t pid, unsigned int n)
{
	struct msg *m = &cs.in[cs.nin++];

	m->nodeid = nodeid;
	m->pid = pid;
	m->len = CNL_HEADER_LEN;
	for (unsigned int i = 0; i < n; i++) {
		struct vcb_frame f = frame(0x100 + i, 2, false);

		m->len += cnl_frame_encode(&f, m->data + m->len);
	}
	cnl_packet_header(m->data, 0, n);
}

static void t_receive(void)
{
	open_port(64);
	incoming(1, getpid(), 3);	/* ours: on our bus already */
	incoming(2, 77, 3);
	incoming(1, 78, 2);		/* another bridge on our node */
	/* Garbage: a frame cut short. None of it reaches the bus. */
	incoming(3, 79, 2);
	cs.in[3].len -= 1;
	readable(EPOLLIN);
	CHECK_EQ(ndelivered, 5);
	for (unsigned int i = 0; i < 5 && i < ndelivered; i++)
		CHECK_EQ(delivered[i].cf.can_id, 0x100 + (i < 3 ? i : i - 3));
	CHECK_EQ(stat("rx_own_skipped"), 1);
	CHECK_EQ(stat("rx_messages"), 3);
	CHECK_EQ(stat("rx_frames"), 5);
	CHECK_EQ(stat("bad_truncated"), 1);
	close_port();
}

/*
 * The bus's queue congested: corosync is read no further (the rest waits
 * there, nothing dropped), and on again when the CAN side resumes us.
 */
static void t_bus_congested(void)
{
	open_port(64);
	for (unsigned int i = 0; i < 4; i++)
		incoming(2, 77, 3);
	bus_room = 5;
	readable(EPOLLIN);
	/* Read until congested: the second message made it so. */
	CHECK_EQ(ndelivered, 6);
	CHECK_EQ(cs.nin, 2);
	CHECK(source(false) == NULL);	/* out of the loop */
	CHECK_EQ(stat("rx_paused_bus_congested"), 1);
	readable(EPOLLIN);		/* a late event of the same wait */
	CHECK_EQ(ndelivered, 6);
	/* Room again: back in the loop, and the rest in order. */
	bus_room = UINT_MAX;
	vcb_cpg_resume();
	CHECK(source(false) != NULL);
	readable(EPOLLIN);
	CHECK_EQ(ndelivered, 12);
	CHECK_EQ(cs.nin, 0);
	for (unsigned int i = 0; i < 12 && i < ndelivered; i++)
		CHECK_EQ(delivered[i].cf.can_id, 0x100 + i % 3);
	CHECK_EQ(stat("rx_messages"), 4);
	CHECK_EQ(stat("rx_paused_bus_congested"), 1);
	/* Resumed twice: nothing changes. */
	vcb_cpg_resume();
	CHECK(source(false) != NULL);
	/* 64 messages a wakeup, then the other sources: not paused. */
	for (unsigned int i = 0; i < 70; i++)
		incoming(2, 77, 1);
	readable(EPOLLIN);
	CHECK_EQ(ndelivered, 12 + 64);
	CHECK(source(false) != NULL);
	readable(EPOLLIN);
	CHECK_EQ(ndelivered, 12 + 70);
	CHECK_EQ(stat("rx_paused_bus_congested"), 1);
	close_port();
}

static void t_membership(void)
{
	struct cpg_name group = { .length = 1, .value = "g" };
	struct cpg_address members[3] = {
		{ 1, 10, 0 }, { 2, 20, 0 }, { 3, 30, 0 },
	};
	struct cpg_address joined[2] = {
		{ 2, 20, CPG_REASON_JOIN }, { 3, 30, CPG_REASON_NODEUP },
	};
	struct cpg_address left[2] = {
		{ 2, 20, CPG_REASON_NODEDOWN }, { 3, 30, CPG_REASON_PROCDOWN },
	};
	uint32_t nodes[3] = { 1, 2, 3 };

	open_port(64);
	cs.model.cpg_totem_confchg_fn(42, (struct cpg_ring_id){ 1, 9 }, 3, nodes);
	cs.model.cpg_confchg_fn(42, &group, members, 3, NULL, 0, joined, 2);
	CHECK_EQ(stat("members"), 3);
	CHECK_EQ(stat("ring_nodes"), 3);
	CHECK_EQ(stat("members_joined"), 1);
	CHECK_EQ(stat("members_node_up"), 1);
	cs.model.cpg_confchg_fn(42, &group, members, 1, left, 2, NULL, 0);
	CHECK_EQ(stat("members"), 1);
	CHECK_EQ(stat("members_node_down"), 1);
	CHECK_EQ(stat("members_process_down"), 1);
	CHECK_EQ(stat("members_left"), 0);
	close_port();
}

static void t_lost(void)
{
	open_port(64);
	/* Corosync's flow control holds two frames when it goes away. */
	cs.try_again = 1;
	for (canid_t id = 1; id <= 2; id++) {
		struct vcb_frame f = frame(id, 1, false);

		port->send(port, &f, NULL);
	}
	port->flush(port);
	cs.dispatch_err = CS_ERR_LIBRARY;
	readable(EPOLLIN | EPOLLHUP);
	CHECK_EQ(stat("connected"), 0);
	CHECK_EQ(stat("connections_lost"), 1);
	CHECK_EQ(stat("tx_lost_disconnected"), 2);
	CHECK_EQ(stat("tx_queued"), 0);
	CHECK_EQ(cs.finals, 1);
	CHECK(source(false) == NULL);	/* its fd out of the loop */
	CHECK_EQ(timer_ms, 100);
	/* Meanwhile the bus's frames are counted, not kept. */
	{
		struct vcb_frame f = frame(3, 1, false);

		port->send(port, &f, NULL);
		CHECK_EQ(stat("tx_not_connected"), 1);
	}
	/* Not back yet: tried again later, backing off. */
	cs.init_err = CS_ERR_LIBRARY;
	CHECK(fire_timer());
	CHECK_EQ(stat("connected"), 0);
	CHECK_EQ(timer_ms, 200);
	/* Back: joined again, and frames flow. */
	cs.init_err = CS_OK;
	cs.dispatch_err = CS_OK;
	CHECK(fire_timer());
	CHECK_EQ(stat("connected"), 1);
	CHECK_EQ(stat("connects"), 2);
	CHECK_EQ(cs.joins, 2);
	{
		struct vcb_frame f = frame(4, 1, false);
		canid_t ids[4] = { 0 };

		port->send(port, &f, NULL);
		port->flush(port);
		CHECK_EQ(sent_ids(ids, 4), 1);
		CHECK_EQ(ids[0], 4);
	}
	close_port();
}

static void t_not_there(void)
{
	/* No corosync at the start: the bridge runs and keeps trying. */
	struct vcb_cpg_config cfg = { .group = "g", .queue = 16 };

	memset(&cs, 0, sizeof(cs));
	memset(sources, 0, sizeof(sources));
	port = NULL;
	cs.fd = eventfd(0, EFD_CLOEXEC);
	cs.dispatch_err = CS_OK;
	cs.init_err = CS_ERR_LIBRARY;
	CHECK_EQ(vcb_cpg_open(&cfg), 0);
	CHECK_EQ(stat("connected"), 0);
	CHECK_EQ(stat("connect_failures"), 1);
	CHECK_EQ(timer_ms, 100);
	CHECK_EQ(cs.finals, 0);		/* no handle was made */
	close_port();
}

static const struct tap_test tests[] = {
	{ t_order, "cpg: the bus's frames in its order, one message a batch" },
	{ t_try_again, "cpg: CS_ERR_TRY_AGAIN: frames wait, retried with backoff, none lost" },
	{ t_queue_full, "cpg: a full queue drops and counts, keeps the rest in order" },
	{ t_split, "cpg: messages of at most 8 KiB and 256 frames, sequence numbers, DLC 9..15 not carried" },
	{ t_receive, "cpg: own messages skipped, garbage refused whole" },
	{ t_bus_congested, "cpg: the bus's queue congested: corosync not read until it drains" },
	{ t_membership, "cpg: joins, node up/down, process down counted" },
	{ t_lost, "cpg: corosync gone: lost frames counted, reconnects with backoff" },
	{ t_not_there, "cpg: no corosync at the start: keeps trying" },
};

int main(void)
{
	return tap_run(tests, ARRAY_SIZE(tests));
}
