// SPDX-License-Identifier: GPL-2.0
/*
 * Corosync transport: the bus joins a closed process group (CPG) of the
 * local corosync, and every frame goes through corosync's agreed order.
 *
 * Corosync (the engine under Pacemaker clusters) delivers the messages of
 * a group to every member in one and the same order, with membership and
 * failure detection: exactly what one bus across many hosts needs, and
 * nothing of it is ours. Each message is one cannelloni data packet (the
 * UDP format: a 5-byte header, then whole frames), checked as a whole
 * before any frame of it goes to the bus, so a frame never arrives half.
 *
 * The order: frames of the local bus are sent in the bus's order; every
 * member's messages, ours included, come back in the group's order, and
 * ours are recognised by node ID and process ID and not written back. So
 * every host gets the frames of all *other* hosts in one identical order;
 * a host with no sender of its own sees the group's order exactly; a
 * host's own frames are on its bus first, as a sender's are on a real one.
 *
 * Flow control: when corosync says CS_ERR_TRY_AGAIN (its totem queue is
 * full), frames wait in a bounded queue (--cpg-queue) and go out on a
 * timer that backs off from 1 to 32 ms: nothing is lost unless that queue
 * fills, and then it is counted. The other way, corosync's messages are
 * read one at a time while the queue to the local bus has room, and not
 * at all while it is congested (three quarters full), as TCP peers are:
 * a backlog (the bridge was not scheduled for a while, the ring came
 * back after a membership change) then waits in corosync until the bus
 * has taken a quarter of it, instead of overflowing the queue at once.
 * The wait is bounded: corosync keeps what a client has not read without
 * a bound of its own, so reading stops only while the bus takes frames,
 * and a bus that took nothing for --bus-timeout is stalled and read
 * again (canport.c). What the bus still cannot take is counted and
 * dropped, as for every link.
 *
 * Corosync going away (stopped, killed, restarted) ends the connection:
 * it is logged, what waited to be sent is counted as lost, and the bridge
 * connects and joins again with a backoff from 100 ms to 5 s. Every change
 * of the group's members is logged with the members and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <corosync/corotypes.h>
#include <corosync/cpg.h>

#include "bridge.h"
#include "cannelloni.h"
#include "log.h"

/*
 * A message's frames, at most: 8 KiB, a few totem packets (bigger ones
 * would only wait longer for their last fragment), and VCB_CPG_MSG_FRAMES
 * frames, so that the receiver's queue to its bus takes a message whole.
 */
#define CPG_MSG_MAX		8192
#define RECONNECT_MIN_MS	100
#define RECONNECT_MAX_MS	5000
#define RETRY_MIN_MS		1
#define RETRY_MAX_MS		32
#define READ_BUDGET		64	/* messages a wakeup, then the others */

struct cpg_port {
	struct vcb_port port;
	struct vcb_cpg_config cfg;
	char name[CPG_MAX_NAME_LENGTH + 8];
	struct cpg_name group;
	struct vcb_source fd;		/* corosync's connection */
	struct vcb_source timer;	/* reconnect, or send again */
	cpg_handle_t handle;
	bool connected;			/* initialised and joined */
	uint32_t nodeid;
	uint32_t pid;
	unsigned int backoff_ms, retry_ms;
	bool waiting;			/* corosync said CS_ERR_TRY_AGAIN */
	bool paused;			/* not read: the bus's queue is full */
	/* Frames for the group, oldest at head: cfg.queue of them. */
	struct vcb_frame *ring;
	unsigned int head, count;
	uint8_t seq;
	uint8_t msg[CNL_HEADER_LEN + CPG_MSG_MAX];
	unsigned int members;
	unsigned int ring_nodes;	/* corosync's last ring */
	struct {
		uint64_t connects, connect_failures, lost;
		uint64_t joined, node_up, left, node_down, proc_down, ring_changes;
		uint64_t rx_messages, rx_frames, own;
		uint64_t tx_messages, tx_frames, not_carried, not_connected;
		uint64_t queue_full, lost_queued, flow_waits, rx_pauses;
		struct vcb_bad_counts bad;
	} st;
};

/* One --cpg at most: the CAN side resumes it by this. */
static struct cpg_port *cpg_port;

static const char *reason_name(uint32_t reason)
{
	switch (reason) {
	case CPG_REASON_JOIN:
		return "joined";
	case CPG_REASON_LEAVE:
		return "left";
	case CPG_REASON_NODEDOWN:
		return "node down";
	case CPG_REASON_NODEUP:
		return "node up";
	case CPG_REASON_PROCDOWN:
		return "process down";
	default:
		return "unknown reason";
	}
}

/* "node/pid node/pid ..." of @n addresses, cut to fit @size. */
static const char *addr_list(const struct cpg_address *a, size_t n, char *buf,
			     size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%u/%u", i ? " " : "",
				a[i].nodeid, a[i].pid);
	return n ? buf : "none";
}

static void cpg_emit(void *ctx, const struct vcb_frame *f)
{
	struct cpg_port *t = ctx;

	t->st.rx_frames++;
	vcb_deliver(f, t);
}

static void on_deliver(cpg_handle_t handle, const struct cpg_name *group,
		       uint32_t nodeid, uint32_t pid, void *msg, size_t len)
{
	struct cpg_port *t = NULL;
	enum vcb_bad why;
	uint8_t seq;

	(void)group;
	if (cpg_context_get(handle, (void **)&t) != CS_OK || !t)
		return;
	if (nodeid == t->nodeid && pid == t->pid) {
		/* Ours: on this bus already. */
		t->st.own++;
		return;
	}
	t->st.rx_messages++;
	why = cnl_packet_decode(msg, len, &seq, cpg_emit, t);
	if (why) {
		t->st.bad.n[why]++;
		vcb_info_limited("%s: a message from node %u pid %u is no frame packet (%s): dropped",
				 t->name, nodeid, pid, vcb_bad_name(why));
	}
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name *group,
		       const struct cpg_address *members, size_t nmembers,
		       const struct cpg_address *left, size_t nleft,
		       const struct cpg_address *joined, size_t njoined)
{
	struct cpg_port *t = NULL;
	char list[512];

	(void)group;
	if (cpg_context_get(handle, (void **)&t) != CS_OK || !t)
		return;
	t->members = nmembers;
	for (size_t i = 0; i < njoined; i++) {
		/* A join, or a node (with its members) back in the ring. */
		if (joined[i].reason == CPG_REASON_NODEUP)
			t->st.node_up++;
		else
			t->st.joined++;
		vcb_info("%s: node %u pid %u joined (%s)", t->name,
			 joined[i].nodeid, joined[i].pid,
			 reason_name(joined[i].reason));
	}
	for (size_t i = 0; i < nleft; i++) {
		if (left[i].reason == CPG_REASON_NODEDOWN)
			t->st.node_down++;
		else if (left[i].reason == CPG_REASON_PROCDOWN)
			t->st.proc_down++;
		else
			t->st.left++;
		vcb_info("%s: node %u pid %u left (%s)", t->name, left[i].nodeid,
			 left[i].pid, reason_name(left[i].reason));
	}
	vcb_info("%s: members: %s", t->name, addr_list(members, nmembers, list,
						       sizeof(list)));
}

static void on_totem_confchg(cpg_handle_t handle, struct cpg_ring_id ring,
			     uint32_t n, const uint32_t *nodes)
{
	struct cpg_port *t = NULL;
	char list[512];
	size_t len = 0;

	if (cpg_context_get(handle, (void **)&t) != CS_OK || !t)
		return;
	t->st.ring_changes++;
	t->ring_nodes = n;
	list[0] = '\0';
	for (uint32_t i = 0; i < n && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%u",
				i ? " " : "", nodes[i]);
	vcb_info("%s: corosync ring %x.%llx: nodes %s", t->name, ring.nodeid,
		 (unsigned long long)ring.seq, n ? list : "none");
}

static void cpg_schedule(struct cpg_port *t);

/* The connection is gone (or never came up): start over later. */
static void cpg_drop(struct cpg_port *t, const char *what, cs_error_t err)
{
	if (t->connected) {
		t->st.lost++;
		t->st.lost_queued += t->count;
		vcb_err("%s: %s: %s; %u frames that waited for corosync are lost; connecting again",
			t->name, what, cs_strerror(err), t->count);
		if (!t->paused)
			vcb_loop_del(&t->fd);
	}
	if (t->handle)
		cpg_finalize(t->handle);
	t->handle = 0;
	t->connected = t->waiting = t->paused = false;
	t->head = t->count = 0;
	t->members = t->ring_nodes = 0;
	cpg_schedule(t);
}

static void cpg_connect(struct cpg_port *t)
{
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
		.cpg_totem_confchg_fn = on_totem_confchg,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	const char *what = "cpg_model_initialize";
	cs_error_t err;
	int fd;

	err = cpg_model_initialize(&t->handle, CPG_MODEL_V1,
				   (cpg_model_data_t *)&model, t);
	if (err != CS_OK) {
		t->handle = 0;
		goto fail;
	}
	what = "cpg_fd_get";
	err = cpg_fd_get(t->handle, &fd);
	if (err != CS_OK)
		goto fail;
	what = "cpg_local_get";
	err = cpg_local_get(t->handle, &t->nodeid);
	if (err != CS_OK)
		goto fail;
	what = "cpg_join";
	err = cpg_join(t->handle, &t->group);
	if (err != CS_OK)
		goto fail;
	t->fd.fd = fd;
	if (vcb_loop_add(&t->fd, EPOLLIN)) {
		what = "epoll";
		err = CS_ERR_LIBRARY;
		goto fail;
	}
	t->connected = true;
	t->backoff_ms = RECONNECT_MIN_MS;
	t->st.connects++;
	vcb_info("%s: joined as node %u pid %u", t->name, t->nodeid, t->pid);
	return;
fail:
	/* The first failure is said; the retries only when it changes. */
	if (!t->st.connect_failures++)
		vcb_err("%s: %s: %s%s; trying again", t->name, what, cs_strerror(err),
			err == CS_ERR_LIBRARY ? " (is corosync running?)" :
			err == CS_ERR_ACCESS ? " (corosync's uidgid must allow this user)" :
			"");
	cpg_drop(t, what, err);
}

static void cpg_schedule(struct cpg_port *t)
{
	vcb_timer_backoff(t->timer.fd, &t->backoff_ms, RECONNECT_MAX_MS);
}

static void cpg_readable(struct vcb_source *src, uint32_t events)
{
	struct cpg_port *t = container_of(src, struct cpg_port, fd);
	cs_error_t err = CS_OK;
	unsigned int n = 0;

	/* An event of the same epoll_wait as the pause, or the drop. */
	if (t->paused || !t->connected)
		return;
	/*
	 * A message at a time (each comes whole, in the group's order) while
	 * the bus's queue has room; CS_ERR_TRY_AGAIN: none is left. After
	 * the budget the others' turn: the fd stays readable.
	 */
	while (!vcb_can_congested()) {
		if (n++ == READ_BUDGET)
			return;
		err = cpg_dispatch(t->handle, CS_DISPATCH_ONE_NONBLOCKING);
		if (err != CS_OK)
			break;
	}
	if (err == CS_OK) {
		/*
		 * Out of the epoll set until vcb_cpg_resume(): corosync keeps
		 * the rest, and a hang-up would spin.
		 */
		t->paused = true;
		t->st.rx_pauses++;
		vcb_loop_del(&t->fd);
		return;
	}
	if (err != CS_ERR_TRY_AGAIN)
		cpg_drop(t, "lost corosync", err);
	else if (events & (EPOLLHUP | EPOLLERR))
		/* Read to the end, and closed: never spin on the hang-up. */
		cpg_drop(t, "lost corosync", CS_ERR_LIBRARY);
}

void vcb_cpg_resume(void)
{
	struct cpg_port *t = cpg_port;

	if (!t || !t->paused)
		return;
	t->paused = false;
	if (vcb_loop_add(&t->fd, EPOLLIN))
		cpg_drop(t, "epoll", CS_ERR_LIBRARY);
}

/* Sends what waits, a message at a time, until corosync says wait. */
static void cpg_send_queued(struct cpg_port *t)
{
	while (t->connected && t->count) {
		struct iovec iov = { .iov_base = t->msg };
		size_t len = CNL_HEADER_LEN;
		unsigned int n = 0, size = 0;
		cs_error_t err;

		while (n < t->count) {
			const struct vcb_frame *f =
				&t->ring[(t->head + n) % t->cfg.queue];

			size = cnl_frame_size(f);
			if (len + size > sizeof(t->msg) ||
			    n == VCB_CPG_MSG_FRAMES)
				break;
			len += cnl_frame_encode(f, t->msg + len);
			n++;
		}
		cnl_packet_header(t->msg, t->seq, n);
		iov.iov_len = len;
		err = cpg_mcast_joined(t->handle, CPG_TYPE_AGREED, &iov, 1);
		if (err == CS_ERR_TRY_AGAIN) {
			if (!t->waiting)
				t->st.flow_waits++;
			t->waiting = true;
			vcb_timer_backoff(t->timer.fd, &t->retry_ms,
					  RETRY_MAX_MS);
			return;
		}
		if (err != CS_OK) {
			cpg_drop(t, "cpg_mcast_joined", err);
			return;
		}
		t->waiting = false;
		t->retry_ms = RETRY_MIN_MS;
		t->seq++;
		t->st.tx_messages++;
		t->st.tx_frames += n;
		t->head = (t->head + n) % t->cfg.queue;
		t->count -= n;
	}
}

static void cpg_timer(struct vcb_source *src, uint32_t events)
{
	struct cpg_port *t = container_of(src, struct cpg_port, timer);
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (!t->connected)
		cpg_connect(t);
	else
		cpg_send_queued(t);
}

static void cpg_send(struct vcb_port *port, const struct vcb_frame *f,
		     const void *origin)
{
	struct cpg_port *t = (struct cpg_port *)port;

	if (origin == t)
		return;
	if (vcb_frame_has_len8_dlc(f)) {
		t->st.not_carried++;
		return;
	}
	if (!t->connected) {
		t->st.not_connected++;
		return;
	}
	if (t->count == t->cfg.queue) {
		t->st.queue_full++;
		vcb_info_limited("%s: %u frames wait for corosync already: a frame dropped",
				 t->name, t->cfg.queue);
		return;
	}
	t->ring[(t->head + t->count++) % t->cfg.queue] = *f;
}

static void cpg_flush(struct vcb_port *port)
{
	struct cpg_port *t = (struct cpg_port *)port;

	/* While corosync holds us back, the timer tries again. */
	if (!t->waiting)
		cpg_send_queued(t);
}

static void cpg_report(struct vcb_port *port, FILE *out)
{
	struct cpg_port *t = (struct cpg_port *)port;
	const char *n = t->name;

	vcb_stat(out, n, "connected", t->connected);
	vcb_stat(out, n, "members", t->members);
	vcb_stat(out, n, "connects", t->st.connects);
	vcb_stat(out, n, "connect_failures", t->st.connect_failures);
	vcb_stat(out, n, "connections_lost", t->st.lost);
	vcb_stat(out, n, "ring_nodes", t->ring_nodes);
	vcb_stat(out, n, "members_joined", t->st.joined);
	vcb_stat(out, n, "members_node_up", t->st.node_up);
	vcb_stat(out, n, "members_left", t->st.left);
	vcb_stat(out, n, "members_node_down", t->st.node_down);
	vcb_stat(out, n, "members_process_down", t->st.proc_down);
	vcb_stat(out, n, "ring_changes", t->st.ring_changes);
	vcb_stat_bad(out, n, &t->st.bad);
	vcb_stat(out, n, "rx_messages", t->st.rx_messages);
	vcb_stat(out, n, "rx_frames", t->st.rx_frames);
	vcb_stat(out, n, "rx_own_skipped", t->st.own);
	vcb_stat(out, n, "rx_paused_bus_congested", t->st.rx_pauses);
	vcb_stat(out, n, "tx_messages", t->st.tx_messages);
	vcb_stat(out, n, "tx_frames", t->st.tx_frames);
	vcb_stat(out, n, "tx_queued", t->count);
	vcb_stat(out, n, "tx_flow_waits", t->st.flow_waits);
	vcb_stat(out, n, "tx_dropped_queue_full", t->st.queue_full);
	vcb_stat(out, n, "tx_lost_disconnected", t->st.lost_queued);
	vcb_stat(out, n, "tx_not_connected", t->st.not_connected);
	vcb_stat(out, n, "tx_not_carried", t->st.not_carried);
}

static void cpg_close(struct vcb_port *port)
{
	struct cpg_port *t = (struct cpg_port *)port;

	if (t->connected) {
		cpg_leave(t->handle, &t->group);
		if (!t->paused)
			vcb_loop_del(&t->fd);
	}
	if (t->handle)
		cpg_finalize(t->handle);
	close(t->timer.fd);
	free(t->ring);
	free(t);
	cpg_port = NULL;
}

int vcb_cpg_open(const struct vcb_cpg_config *cfg)
{
	struct cpg_port *t = calloc(1, sizeof(*t));
	size_t len = strlen(cfg->group);

	if (!t)
		return -1;
	t->cfg = *cfg;
	t->ring = calloc(cfg->queue, sizeof(*t->ring));
	t->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->timer.handle = cpg_timer;
	t->fd.handle = cpg_readable;
	if (!t->ring || t->timer.fd < 0 || vcb_loop_add(&t->timer, EPOLLIN)) {
		vcb_err("cpg %s: %m", cfg->group);
		if (t->timer.fd >= 0)
			close(t->timer.fd);
		free(t->ring);
		free(t);
		return -1;
	}
	snprintf(t->name, sizeof(t->name), "cpg %s", cfg->group);
	t->group.length = len;
	memcpy(t->group.value, cfg->group, len);
	t->pid = getpid();
	t->backoff_ms = RECONNECT_MIN_MS;
	t->retry_ms = RETRY_MIN_MS;
	t->port = (struct vcb_port){ .name = t->name, .send = cpg_send,
				     .flush = cpg_flush, .report = cpg_report,
				     .close = cpg_close };
	vcb_port_register(&t->port);
	cpg_port = t;
	cpg_connect(t);
	return 0;
}
