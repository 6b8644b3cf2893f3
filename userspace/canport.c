// SPDX-License-Identifier: GPL-2.0
/*
 * The CAN side: one CAN_RAW socket on the interface, CAN FD frames on.
 *
 * The bridge's order is its bus's. Our own writes come back through this
 * socket (CAN_RAW_RECV_OWN_MSGS, flagged MSG_CONFIRM) when the bus carried
 * them, and only then does a frame from one link go on to the other links:
 * at its place among the frames of the bus's own senders, which are read
 * from the same socket (busqueue.c). A bus that stops taking frames does
 * not stop the links: after --bus-timeout they relay among themselves and
 * what waited for the bus is dropped and counted.
 *
 * Frames for the bus wait in a bounded queue: when the interface's queue
 * is full (ENOBUFS) or the socket's buffer is (EAGAIN), writing pauses
 * until the bus carries one of our frames (its echo frees a place in
 * both), or, when none comes, on a timer that backs off from 1 to 32 ms,
 * never a busy loop. A timer alone would write at its own pace, not the
 * bus's: a burst from the links (a corosync message, a TCP read) then
 * filled the queue on a loaded host although the bus had room. While the
 * queue is three quarters full, TCP peers are not read (TCP's own flow
 * control then holds their senders back), and UDP frames that find it
 * full are dropped and counted (and still relayed to the other links).
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
#include "busqueue.h"
#include "log.h"

#define CAN_BATCH	32
#define CAN_READ_BUDGET	256		/* frames per wakeup, then the others */
#define CAN_DRAIN_MAX	65536		/* more than the socket buffer holds */
#define BACKOFF_MIN_MS	1
#define BACKOFF_MAX_MS	32
#define STATE_POLL_MS	1000

struct canport {
	struct vcb_port port;
	struct vcb_source sock, retry, poll, expire;
	struct vcb_can_config cfg;
	int ifindex;
	struct vcb_busqueue bq;		/* the queue to the bus */
	uint64_t expire_at;		/* the expire timer's deadline, 0: off */
	bool waiting, congested;
	unsigned int backoff_ms;
	int state;			/* libsocketcan's, -1: not known */
	struct {
		uint64_t rx, tx, queue_full, rejected, kernel_drops, backoffs;
		uint64_t rx_filtered, tx_filtered, tx_error_frames;
		uint64_t rx_xl_not_carried;
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

/*
 * While the bus takes nothing the links are not held back: frames that
 * find the queue full are relayed and counted, never waited for.
 */
unsigned int vcb_can_room(void)
{
	return can.bq.stalled ? can.cfg.queue : can.cfg.queue - can.bq.count;
}

/*
 * Whoever sees the queue congested may stop reading (TCP peers, corosync):
 * remembered, so that the drain resumes them, however it became so (an
 * echo that ends a stall makes a full queue congested without a frame
 * being taken).
 */
bool vcb_can_congested(void)
{
	if (can.bq.stalled || can.bq.count < can.cfg.queue - can.cfg.queue / 4)
		return false;
	can.congested = true;
	return true;
}

void vcb_can_forget(const void *origin)
{
	vcb_busqueue_forget(&can.bq, origin);
}

/* Arms the expire timer for the queue's next deadline (absolute ms). */
static void can_arm_expire(void)
{
	uint64_t t = vcb_busqueue_deadline(&can.bq);
	struct itimerspec its = {
		.it_value.tv_sec = t / 1000,
		.it_value.tv_nsec = (long)(t % 1000) * 1000000,
	};

	if (t == can.expire_at)
		return;
	can.expire_at = t;
	timerfd_settime(can.expire.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void can_resume_links(void)
{
	if (can.congested) {
		can.congested = false;
		vcb_tcp_resume();
		vcb_cpg_resume();
	}
}

static void can_read_some(unsigned int budget);

static void can_expire(struct vcb_source *src, uint32_t events)
{
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	can.expire_at = 0;
	/*
	 * The echoes the socket already holds first: a bridge that reads
	 * late (a loaded host) must not take its own lag for a bus that
	 * carries nothing.
	 */
	can_read_some(CAN_DRAIN_MAX);
	if (vcb_busqueue_expire(&can.bq, vcb_now_ms())) {
		vcb_info_limited("%s: no frame of ours reached the bus for %u ms: the links relay among themselves, frames for the bus are dropped after that long",
				 can.cfg.ifname, can.cfg.bus_timeout_ms);
		can_resume_links();
	}
	can_arm_expire();
}

/* Reads up to @budget frames (in batches) that the socket holds. */
static void can_read_some(unsigned int budget)
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

	while (done < budget) {
		for (int i = 0; i < CAN_BATCH; i++) {
			iov[i] = (struct iovec){ &frames[i].cf, sizeof(frames[i].cf) };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = ctrl[i].buf,
				.msg_controllen = sizeof(ctrl[i].buf),
			};
		}
		n = recvmmsg(can.sock.fd, msgs, CAN_BATCH, MSG_DONTWAIT, NULL);
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
			/*
			 * A CAN XL frame: neither format carries one, so it
			 * is counted, never cut to what fits. Its flags byte,
			 * where Classical and FD frames have their length,
			 * has XLF; one longer than our buffer is truncated.
			 */
			if ((m->msg_flags & MSG_TRUNC) ||
			    (frames[i].cf.len & CANXL_XLF)) {
				can.st.rx_xl_not_carried++;
				continue;
			}
			if (msgs[i].msg_len != CAN_MTU && msgs[i].msg_len != CANFD_MTU)
				continue;
			frames[i].fd = msgs[i].msg_len == CANFD_MTU;
			if (!frames[i].fd) {
				/* Only the can_frame part was written. */
				memset(frames[i].cf.data + CAN_MAX_DLEN, 0,
				       CANFD_MAX_DLEN - CAN_MAX_DLEN);
			}
			if (m->msg_flags & MSG_CONFIRM) {
				/* Ours, carried by the bus: its turn now. */
				bool was_stalled = can.bq.stalled;

				if (vcb_busqueue_echo(&can.bq, &frames[i], vcb_now_ms()) &&
				    was_stalled)
					vcb_info_limited("%s: the bus takes our frames again",
							 can.cfg.ifname);
				/* A place in the interface's queue: write now. */
				if (can.waiting) {
					can.waiting = false;
					vcb_timer_arm(can.retry.fd, 0);
				}
				continue;
			}
			can.st.rx++;
			if (!(frames[i].cf.can_id & CAN_ERR_FLAG) &&
			    !vcb_filters_match(&can.cfg.from_bus, frames[i].cf.can_id)) {
				can.st.rx_filtered++;
				continue;
			}
			vcb_relay(&frames[i], &can);
		}
		done += n;
		if (n < CAN_BATCH)
			return;
	}
}

static void can_read(struct vcb_source *src, uint32_t events)
{
	(void)src;
	(void)events;
	can_read_some(CAN_READ_BUDGET);
}

static void can_schedule_retry(void)
{
	can.waiting = true;
	can.st.backoffs++;
	vcb_timer_backoff(can.retry.fd, &can.backoff_ms, BACKOFF_MAX_MS);
}

/* Writes queued frames until none is left or the interface is full. */
static void can_flush(struct vcb_port *port)
{
	struct mmsghdr msgs[CAN_BATCH];
	struct iovec iov[CAN_BATCH];
	unsigned int size = can.cfg.queue, todo;
	int n, k;

	(void)port;
	while ((todo = vcb_busqueue_unwritten(&can.bq)) && !can.waiting) {
		k = 0;
		for (unsigned int i = 0; i < todo && k < CAN_BATCH; i++, k++) {
			const struct vcb_frame *f = vcb_busqueue_next(&can.bq, i);

			iov[k] = (struct iovec){ (void *)&f->cf,
						 f->fd ? CANFD_MTU : CAN_MTU };
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
			vcb_busqueue_refused(&can.bq);
		} else {
			can.st.tx += n;
			can.backoff_ms = BACKOFF_MIN_MS;
			vcb_busqueue_written(&can.bq, n, vcb_now_ms());
		}
	}
	if (can.bq.count <= size / 4)
		can_resume_links();
	can_arm_expire();
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

bool vcb_can_take(const struct vcb_frame *f, const void *origin)
{
	if (f->cf.can_id & CAN_ERR_FLAG) {
		if (!can.cfg.error_frames) {
			can.st.tx_error_frames++;
			return false;
		}
	} else if (!vcb_filters_match(&can.cfg.to_bus, f->cf.can_id)) {
		can.st.tx_filtered++;
		return false;
	}
	if (!vcb_busqueue_add(&can.bq, f, origin, vcb_now_ms())) {
		can.st.queue_full++;
		return false;
	}
	if (vcb_can_congested())
		can.congested = true;
	return true;
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
	vcb_stat(out, n, "tx_on_bus", can.bq.st.carried);
	vcb_stat(out, n, "tx_queued", can.bq.count);
	vcb_stat(out, n, "tx_dropped_stale", can.bq.st.stale);
	vcb_stat(out, n, "tx_late_on_bus", can.bq.st.late);
	vcb_stat(out, n, "bus_stalls", can.bq.st.stalls);
	vcb_stat(out, n, "relayed_before_bus", can.bq.st.relayed_early);
	vcb_stat(out, n, "tx_dropped_queue_full", can.st.queue_full);
	vcb_stat(out, n, "tx_rejected", can.st.rejected);
	vcb_stat(out, n, "tx_filtered", can.st.tx_filtered);
	vcb_stat(out, n, "tx_error_frames_refused", can.st.tx_error_frames);
	vcb_stat(out, n, "rx_filtered", can.st.rx_filtered);
	vcb_stat(out, n, "rx_xl_not_carried", can.st.rx_xl_not_carried);
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
	close(can.expire.fd);
	vcb_busqueue_free(&can.bq);
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
	can.port = (struct vcb_port){ .name = cfg->ifname, .flush = can_flush,
				      .report = can_report, .close = can_close };
	addr.can_ifindex = if_nametoindex(cfg->ifname);
	if (!addr.can_ifindex) {
		vcb_err("%s: no such interface", cfg->ifname);
		return -1;
	}
	if (cfg->bitrate && can_set_bitrate_now(cfg->ifname, cfg->bitrate))
		return -1;
	can_rate_probe(cfg->ifname);
	can.sock.fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	can.retry.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	can.poll.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	can.expire.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (vcb_busqueue_init(&can.bq, cfg->queue, cfg->bus_timeout_ms, vcb_relay) ||
	    can.sock.fd < 0 || can.retry.fd < 0 || can.poll.fd < 0 ||
	    can.expire.fd < 0) {
		vcb_err("%s: %m", cfg->ifname);
		return -1;
	}
	setsockopt(can.sock.fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &on, sizeof(on));
	/*
	 * XL frames too (Linux 6.2 and later), only to count them: without
	 * this the socket would not see them at all.
	 */
	setsockopt(can.sock.fd, SOL_CAN_RAW, CAN_RAW_XL_FRAMES, &on, sizeof(on));
	/* Our frames back when the bus carried them: the order (busqueue.c). */
	if (setsockopt(can.sock.fd, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, &on, sizeof(on))) {
		vcb_err("%s: CAN_RAW_RECV_OWN_MSGS: %m", cfg->ifname);
		return -1;
	}
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
	can.expire.handle = can_expire;
	if (vcb_loop_add(&can.sock, EPOLLIN) || vcb_loop_add(&can.retry, EPOLLIN) ||
	    vcb_loop_add(&can.expire, EPOLLIN))
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
