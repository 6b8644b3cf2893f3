// SPDX-License-Identifier: GPL-2.0
/*
 * The CAN side: one CAN_RAW socket on the interface, CAN FD frames on.
 *
 * Our own writes never come back through this socket (CAN_RAW_RECV_OWN_MSGS
 * stays off), so a frame from the network is not sent back out. Frames for
 * the bus wait in a bounded queue: when the interface's queue is full
 * (ENOBUFS) or the socket's buffer is (EAGAIN), writing pauses on a timer
 * that backs off from 1 to 32 ms, never a busy loop; while the queue is
 * three quarters full, TCP peers are not read (TCP's own flow control
 * then holds their senders back), and UDP frames that find it full are
 * dropped and counted.
 *
 * Which frames go to the bus and which leave it: --to-bus and --from-bus
 * (CAN ID filters, as a CAN_RAW socket's), and error frames only with
 * --error-frames, both ways: an error frame from the network is a claim
 * about a bus that is not this one, and on this one it would tell every
 * application of a state (a bus-off, say) the controllers are not in.
 */
#include <errno.h>
#include <fcntl.h>
#include <libsocketcan.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"

#define CAN_BATCH	32
#define CAN_READ_BUDGET	256		/* frames per wakeup, then the others */
#define BACKOFF_MIN_MS	1
#define BACKOFF_MAX_MS	32
#define STATE_POLL_MS	1000

struct canport {
	struct vcb_port port;
	struct vcb_source sock, retry, poll;
	struct vcb_can_config cfg;
	int ifindex;
	/* The queue to the bus: a ring of cfg.queue frames. */
	struct vcb_frame *q;
	unsigned int head, count;
	bool waiting, congested;
	unsigned int backoff_ms;
	int state;			/* libsocketcan's, -1: not known */
	struct {
		uint64_t rx, tx, queue_full, rejected, kernel_drops, backoffs;
		uint64_t rx_filtered, tx_filtered, tx_error_frames;
	} st;
};

static struct canport can;

static const char *const state_names[] = {
	[CAN_STATE_ERROR_ACTIVE]	= "error-active",
	[CAN_STATE_ERROR_WARNING]	= "error-warning",
	[CAN_STATE_ERROR_PASSIVE]	= "error-passive",
	[CAN_STATE_BUS_OFF]		= "bus-off",
	[CAN_STATE_STOPPED]		= "stopped",
	[CAN_STATE_SLEEPING]		= "sleeping",
};

static const char *state_name(int state)
{
	if (state < 0 || state >= (int)(sizeof(state_names) / sizeof(state_names[0])))
		return "unknown";
	return state_names[state];
}

/*
 * The most frames a second the bus carries: its bit rate over the bits
 * of the shortest frame, 47 for a Classical one (44 and 3 of
 * intermission), 29 of the nominal bit time for an FD one (the phases at
 * the nominal rate alone); a 1 Mbit/s Classical bus when the interface
 * tells no bit rate (vcan).
 */
static unsigned int can_frame_rate;

unsigned int vcb_can_frame_rate(void)
{
	return can_frame_rate;
}

static void can_rate_probe(const char *ifname)
{
	struct can_bittiming bt = { 0 };
	struct can_ctrlmode cm = { 0 };
	unsigned int bits;

	can_frame_rate = (1000000 + 46) / 47;
	if (can_get_bittiming(ifname, &bt) || !bt.bitrate)
		return;
	bits = !can_get_ctrlmode(ifname, &cm) && (cm.flags & CAN_CTRLMODE_FD) ? 29 : 47;
	can_frame_rate = (bt.bitrate + bits - 1) / bits;
}

const char *vcb_can_ifname(void)
{
	return can.cfg.ifname;
}

unsigned int vcb_can_room(void)
{
	return can.cfg.queue - can.count;
}

bool vcb_can_congested(void)
{
	return can.count >= can.cfg.queue - can.cfg.queue / 4;
}

static void can_read(struct vcb_source *src, uint32_t events)
{
	struct vcb_frame frames[CAN_BATCH];
	struct mmsghdr msgs[CAN_BATCH];
	struct iovec iov[CAN_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctrl[CAN_BATCH];
	unsigned int done = 0;
	int n;

	(void)events;
	while (done < CAN_READ_BUDGET) {
		for (int i = 0; i < CAN_BATCH; i++) {
			iov[i] = (struct iovec){ &frames[i].cf, sizeof(frames[i].cf) };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = ctrl[i].buf,
				.msg_controllen = sizeof(ctrl[i].buf),
			};
		}
		n = recvmmsg(src->fd, msgs, CAN_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				vcb_err("%s: read: %m", can.cfg.ifname);
			return;
		}
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &msgs[i].msg_hdr;
			struct cmsghdr *c;

			/* The socket's count of frames it had no room for. */
			for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
				uint32_t drops;

				if (c->cmsg_level != SOL_SOCKET ||
				    c->cmsg_type != SO_RXQ_OVFL)
					continue;
				memcpy(&drops, CMSG_DATA(c), sizeof(drops));
				can.st.kernel_drops = drops;
			}
			if (msgs[i].msg_len != CAN_MTU && msgs[i].msg_len != CANFD_MTU)
				continue;
			frames[i].fd = msgs[i].msg_len == CANFD_MTU;
			if (!frames[i].fd) {
				/* Only the can_frame part was written. */
				memset(frames[i].cf.data + CAN_MAX_DLEN, 0,
				       CANFD_MAX_DLEN - CAN_MAX_DLEN);
			}
			can.st.rx++;
			if (!(frames[i].cf.can_id & CAN_ERR_FLAG) &&
			    !vcb_filters_match(&can.cfg.from_bus, frames[i].cf.can_id)) {
				can.st.rx_filtered++;
				continue;
			}
			vcb_deliver(&frames[i], &can);
		}
		done += n;
		if (n < CAN_BATCH)
			return;
	}
}

static void can_schedule_retry(void)
{
	can.waiting = true;
	can.st.backoffs++;
	vcb_timer_arm(can.retry.fd, can.backoff_ms);
	if (can.backoff_ms < BACKOFF_MAX_MS)
		can.backoff_ms *= 2;
}

/* Writes queued frames until the queue is empty or the interface full. */
static void can_flush(struct vcb_port *port)
{
	struct mmsghdr msgs[CAN_BATCH];
	struct iovec iov[CAN_BATCH];
	unsigned int size = can.cfg.queue;
	int n, k;

	(void)port;
	while (can.count && !can.waiting) {
		k = 0;
		for (unsigned int i = 0; i < can.count && k < CAN_BATCH; i++, k++) {
			struct vcb_frame *f = &can.q[(can.head + i) % size];

			iov[k] = (struct iovec){ &f->cf, f->fd ? CANFD_MTU : CAN_MTU };
			msgs[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k],
							   .msg_iovlen = 1 };
		}
		n = sendmmsg(can.sock.fd, msgs, k, MSG_DONTWAIT);
		if (n < 0) {
			/* Full, or down for now: wait, keep the frames. */
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR ||
			    errno == ENETDOWN) {
				can_schedule_retry();
				break;
			}
			/* This frame cannot go (FD on a Classical interface,
			 * interface down, ...): drop it, go on with the next. */
			vcb_debug("%s: write: %m", can.cfg.ifname);
			can.st.rejected++;
			n = 1;
		} else {
			can.st.tx += n;
			can.backoff_ms = BACKOFF_MIN_MS;
		}
		can.head = (can.head + n) % size;
		can.count -= n;
	}
	if (can.congested && can.count <= size / 4) {
		can.congested = false;
		vcb_tcp_resume();
	}
}

static void can_retry(struct vcb_source *src, uint32_t events)
{
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	can.waiting = false;
	can_flush(&can.port);
}

static void can_send(struct vcb_port *port, const struct vcb_frame *f,
		     const void *origin)
{
	(void)port;
	if (origin == &can)
		return;
	if (f->cf.can_id & CAN_ERR_FLAG) {
		if (!can.cfg.error_frames) {
			can.st.tx_error_frames++;
			return;
		}
	} else if (!vcb_filters_match(&can.cfg.to_bus, f->cf.can_id)) {
		can.st.tx_filtered++;
		return;
	}
	if (can.count == can.cfg.queue) {
		can.st.queue_full++;
		return;
	}
	can.q[(can.head + can.count) % can.cfg.queue] = *f;
	can.count++;
	if (vcb_can_congested())
		can.congested = true;
}

static void can_poll_state(struct vcb_source *src, uint32_t events)
{
	uint64_t expirations;
	int state;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (can_get_state(can.cfg.ifname, &state))
		return;
	if (state != can.state)
		vcb_info("%s: %s", can.cfg.ifname, state_name(state));
	can.state = state;
}

static void can_report(struct vcb_port *port, FILE *out)
{
	const char *n = port->name;

	vcb_stat_str(out, n, "state", state_name(can.state));
	vcb_stat(out, n, "frame_rate", can_frame_rate);
	vcb_stat(out, n, "rx_frames", can.st.rx);
	vcb_stat(out, n, "tx_frames", can.st.tx);
	vcb_stat(out, n, "tx_queued", can.count);
	vcb_stat(out, n, "tx_dropped_queue_full", can.st.queue_full);
	vcb_stat(out, n, "tx_rejected", can.st.rejected);
	vcb_stat(out, n, "tx_filtered", can.st.tx_filtered);
	vcb_stat(out, n, "tx_error_frames_refused", can.st.tx_error_frames);
	vcb_stat(out, n, "rx_filtered", can.st.rx_filtered);
	vcb_stat(out, n, "tx_backoffs", can.st.backoffs);
	vcb_stat(out, n, "rx_dropped_socket_full", can.st.kernel_drops);
}

static void can_close(struct vcb_port *port)
{
	(void)port;
	close(can.sock.fd);
	close(can.retry.fd);
	if (can.poll.fd >= 0)
		close(can.poll.fd);
	free(can.q);
}

static int can_set_bitrate_now(const char *ifname, unsigned int bitrate)
{
	if (can_do_stop(ifname) || can_set_bitrate(ifname, bitrate) ||
	    can_do_start(ifname)) {
		vcb_err("%s: cannot set bitrate %u (libsocketcan): is it a CAN controller, and are we root?",
			ifname, bitrate);
		return -1;
	}
	return 0;
}

int vcb_can_open(const struct vcb_can_config *cfg)
{
	struct sockaddr_can addr = { .can_family = AF_CAN };
	int on = 1, rcvbuf = 16 << 20;
	can_err_mask_t errmask = CAN_ERR_MASK;

	can.cfg = *cfg;
	can.state = -1;
	can.backoff_ms = BACKOFF_MIN_MS;
	can.port = (struct vcb_port){ .name = cfg->ifname, .send = can_send,
				      .flush = can_flush, .report = can_report,
				      .close = can_close };
	addr.can_ifindex = if_nametoindex(cfg->ifname);
	if (!addr.can_ifindex) {
		vcb_err("%s: no such interface", cfg->ifname);
		return -1;
	}
	if (cfg->bitrate && can_set_bitrate_now(cfg->ifname, cfg->bitrate))
		return -1;
	can_rate_probe(cfg->ifname);
	can.q = calloc(cfg->queue, sizeof(*can.q));
	can.sock.fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	can.retry.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	can.poll.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!can.q || can.sock.fd < 0 || can.retry.fd < 0 || can.poll.fd < 0) {
		vcb_err("%s: %m", cfg->ifname);
		return -1;
	}
	setsockopt(can.sock.fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &on, sizeof(on));
	if (cfg->error_frames)
		setsockopt(can.sock.fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER,
			   &errmask, sizeof(errmask));
	/* Room for bursts while we write to the network; count what is lost. */
	if (setsockopt(can.sock.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(can.sock.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(can.sock.fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	if (bind(can.sock.fd, (struct sockaddr *)&addr, sizeof(addr))) {
		vcb_err("%s: bind: %m", cfg->ifname);
		return -1;
	}
	can.sock.handle = can_read;
	can.retry.handle = can_retry;
	can.poll.handle = can_poll_state;
	if (vcb_loop_add(&can.sock, EPOLLIN) || vcb_loop_add(&can.retry, EPOLLIN))
		return -1;
	/* The state through libsocketcan, if this is a CAN controller. */
	if (!can_get_state(cfg->ifname, &can.state)) {
		struct itimerspec its = {
			.it_interval.tv_sec = STATE_POLL_MS / 1000,
			.it_value.tv_sec = STATE_POLL_MS / 1000,
		};

		vcb_info("%s: %s", cfg->ifname, state_name(can.state));
		timerfd_settime(can.poll.fd, 0, &its, NULL);
		vcb_loop_add(&can.poll, EPOLLIN);
	} else {
		vcb_debug("%s: no CAN controller state (libsocketcan)", cfg->ifname);
	}
	vcb_port_register(&can.port);
	return 0;
}
