// SPDX-License-Identifier: GPL-2.0
/*
 * Bus semantics in instant timing: broadcast, hardware-like echo, one total
 * order with concurrent senders, statistics, FD, listen-only, loopback, RTR,
 * error-flag frames, cc-len8-dlc, one timestamp for every receiver, what a
 * receiver gets of the sender's bytes, can-gw and the frame's origin.
 *
 * Three nodes fa, fb, fc on bus "frames". VCB_ORDER_FRAMES sets the frames
 * per sender of the total-order test (default 100000).
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vcanbus.h"

#define RX_TIMEOUT_MS	2000
#define NO_RX_MS	200

FIXTURE(bus) {
	int a, b, c;	/* sockets on fa (own messages on), fb, fc */
};

static void bus_up(const char *a_args, const char *b_args, const char *c_args)
{
	vcb_bus_remove("frames");
	if (vcb_bus_make("frames", "instant") || vcb_node_make("frames", "fa", a_args) ||
	    vcb_node_make("frames", "fb", b_args) || vcb_node_make("frames", "fc", c_args))
		abort();
}

FIXTURE_SETUP(bus)
{
	bus_up(NULL, NULL, NULL);
	self->a = vcb_socket("fa", 1, 1);
	self->b = vcb_socket("fb", 0, 1);
	self->c = vcb_socket("fc", 0, 1);
	ASSERT_GE(self->a, 0);
	ASSERT_GE(self->b, 0);
	ASSERT_GE(self->c, 0);
}

FIXTURE_TEARDOWN(bus)
{
	close(self->a);
	close(self->b);
	close(self->c);
	vcb_bus_remove("frames");
}

/* Reconfigure the nodes (modes need the node down) and reopen sockets. */
static void reconfigure(struct _test_data_bus *self, const char *a, const char *b,
			const char *c)
{
	close(self->a);
	close(self->b);
	close(self->c);
	bus_up(a, b, c);
	self->a = vcb_socket("fa", 1, 1);
	self->b = vcb_socket("fb", 0, 1);
	self->c = vcb_socket("fc", 0, 1);
}

static struct can_frame cc(canid_t id, const char *data)
{
	struct can_frame f = { .can_id = id, .len = strlen(data) };

	memcpy(f.data, data, f.len);
	return f;
}

TEST_F(bus, broadcast_and_echo)
{
	struct can_frame f = cc(0x123, "vcanbus"), g = cc(0x321, "x");
	struct canfd_frame r;
	int flags, other;

	other = vcb_socket("fa", 0, 0);	/* on the sender, own messages off */
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));

	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, &flags, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &f, CAN_MTU));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->c, &r, &flags, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &f, CAN_MTU));
	/* The sender's socket gets its frame back, marked as its own. */
	ASSERT_EQ(CAN_MTU, vcb_recv(self->a, &r, &flags, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &f, CAN_MTU));
	EXPECT_TRUE(flags & MSG_CONFIRM);

	/*
	 * Another socket on the sender sees the echo as a locally sent frame
	 * (MSG_DONTROUTE, not MSG_CONFIRM), then fb's frame as received.
	 */
	ASSERT_EQ(0, vcb_send(self->b, &g, sizeof(g)));
	ASSERT_EQ(CAN_MTU, vcb_recv(other, &r, &flags, RX_TIMEOUT_MS));
	EXPECT_EQ(0x123, r.can_id);
	EXPECT_FALSE(flags & MSG_CONFIRM);
	EXPECT_TRUE(flags & MSG_DONTROUTE);
	ASSERT_EQ(CAN_MTU, vcb_recv(other, &r, &flags, RX_TIMEOUT_MS));
	EXPECT_EQ(0x321, r.can_id);
	EXPECT_FALSE(flags & MSG_DONTROUTE);
	/* The sender does not receive its own frame as RX. */
	EXPECT_EQ(0, vcb_recv(self->b, &r, &flags, NO_RX_MS));
	close(other);
}

TEST_F(bus, statistics)
{
	const unsigned int frames = 1000;
	unsigned long long bytes = 0;
	struct canfd_frame r;

	for (unsigned int i = 0; i < frames; i++) {
		struct can_frame f = { .can_id = 0x100 + i % 64, .len = i % 9 };

		bytes += f.len;
		ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	}
	/* Every frame arrived at fc: the counters are final. */
	for (unsigned int i = 0; i < frames; i++)
		ASSERT_EQ(CAN_MTU, vcb_recv(self->c, &r, NULL, RX_TIMEOUT_MS));
	for (unsigned int i = 0; i < frames; i++)
		ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));

	EXPECT_EQ(frames, vcb_stat("fa", "tx_packets"));
	EXPECT_EQ(bytes, vcb_stat("fa", "tx_bytes"));
	EXPECT_EQ(0, vcb_stat("fa", "rx_packets"));	/* echoes are not RX */
	EXPECT_EQ(frames, vcb_stat("fb", "rx_packets"));
	EXPECT_EQ(bytes, vcb_stat("fb", "rx_bytes"));
	EXPECT_EQ(frames, vcb_stat("fc", "rx_packets"));
	EXPECT_EQ(0, vcb_stat("fb", "tx_packets"));
	EXPECT_EQ(0, vcb_stat("fb", "rx_dropped"));
	EXPECT_EQ(frames, vcb_read_ull(VCB_CFS "/frames/frames"));
}

/* ---- total order with concurrent senders ---- */

struct order_rx {
	int sock;
	unsigned int count;
	unsigned int *seq;	/* (sender << 24) | number, in arrival order */
	unsigned int drops;
};

struct order_tx {
	int sock;
	unsigned int sender, count, cpu;
	int err;
};

static void *order_send(void *arg)
{
	struct order_tx *tx = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(tx->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (unsigned int i = 0; i < tx->count && !tx->err; i++) {
		struct can_frame f = { .can_id = 0x100 + tx->sender, .len = 4 };

		memcpy(f.data, &i, 4);
		tx->err = vcb_send(tx->sock, &f, sizeof(f));
	}
	return NULL;
}

static void *order_recv(void *arg)
{
	struct order_rx *rx = arg;
	char ctrl[CMSG_SPACE(sizeof(__u32))];
	struct canfd_frame f;
	struct iovec iov = { .iov_base = &f, .iov_len = sizeof(f) };
	unsigned int total = rx->count;

	rx->count = 0;
	while (rx->count < total) {
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
		};
		struct pollfd p = { .fd = rx->sock, .events = POLLIN };
		struct cmsghdr *cm;
		unsigned int n;

		if (poll(&p, 1, 10000) <= 0 || recvmsg(rx->sock, &msg, 0) < 0)
			break;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_type == SO_RXQ_OVFL)
				memcpy(&rx->drops, CMSG_DATA(cm), sizeof(rx->drops));
		memcpy(&n, f.data, 4);
		rx->seq[rx->count++] = (f.can_id - 0x100) << 24 | n;
	}
	return NULL;
}

/* 200000 frames take ~20 s in a TCG guest: more than the default 30 s margin. */
TEST_F_TIMEOUT(bus, total_order_concurrent_senders, 300)
{
	const char *env = getenv("VCB_ORDER_FRAMES");
	unsigned int per_sender = env ? atoi(env) : 100000;
	unsigned int total = 2 * per_sender, one = 1;
	struct order_tx tx[2] = {
		{ .sock = self->a, .sender = 0, .count = per_sender, .cpu = 0 },
		{ .sock = vcb_socket("fb", 1, 0), .sender = 1, .count = per_sender,
		  .cpu = 1 % sysconf(_SC_NPROCESSORS_ONLN) },
	};
	struct order_rx rx[3] = {
		{ .sock = self->a }, { .sock = tx[1].sock }, { .sock = self->c },
	};
	pthread_t rt[3], st[2];

	ASSERT_GE(tx[1].sock, 0);
	for (int i = 0; i < 3; i++) {
		rx[i].count = total;
		rx[i].seq = calloc(total, sizeof(*rx[i].seq));
		ASSERT_NE(NULL, rx[i].seq);
		setsockopt(rx[i].sock, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
		pthread_create(&rt[i], NULL, order_recv, &rx[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&st[i], NULL, order_send, &tx[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(st[i], NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(rt[i], NULL);

	ASSERT_EQ(0, tx[0].err);
	ASSERT_EQ(0, tx[1].err);
	for (int i = 0; i < 3; i++) {
		unsigned int next[2] = { 0, 0 };

		/* Only a full socket buffer may lose frames: it must not here. */
		ASSERT_EQ(0, rx[i].drops);
		ASSERT_EQ(total, rx[i].count);
		for (unsigned int k = 0; k < total; k++) {
			unsigned int s = rx[i].seq[k] >> 24, n = rx[i].seq[k] & 0xffffff;

			ASSERT_LT(s, 2);
			ASSERT_EQ(next[s], n) TH_LOG("socket %d, frame %u: sender %u", i, k, s);
			next[s]++;
		}
		/* The same interleaving on every node, echoes included. */
		if (i)
			ASSERT_EQ(0, memcmp(rx[0].seq, rx[i].seq, total * sizeof(*rx[i].seq)));
	}
	EXPECT_EQ(total, vcb_read_ull(VCB_CFS "/frames/frames"));
	for (int i = 0; i < 3; i++)
		free(rx[i].seq);
	close(tx[1].sock);
}

TEST_F(bus, fd_only_between_fd_nodes)
{
	struct canfd_frame f = { .can_id = 0x7ff, .len = 64, .flags = CANFD_BRS | CANFD_ESI };
	struct can_frame g = cc(0x42, "cc");
	struct canfd_frame r;

	reconfigure(self, "bitrate 500000 dbitrate 2000000 fd on",
		    "bitrate 500000 dbitrate 2000000 fd on", NULL);
	for (int i = 0; i < 64; i++)
		f.data[i] = i;
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	ASSERT_EQ(0, vcb_send(self->a, &g, sizeof(g)));

	ASSERT_EQ(CANFD_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x7ff, r.can_id);
	EXPECT_EQ(64, r.len);
	/* ESI is the sender's state (error active), not what was written. */
	EXPECT_EQ(CANFD_BRS | CANFD_FDF, r.flags & (CANFD_BRS | CANFD_ESI | CANFD_FDF));
	EXPECT_EQ(0, memcmp(r.data, f.data, 64));
	/* fc (no FD) does not see the FD frame: the CC frame is its first. */
	ASSERT_EQ(CAN_MTU, vcb_recv(self->c, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x42, r.can_id);
	/* A non-FD node cannot send FD frames: the raw socket refuses them. */
	EXPECT_EQ(-1, write(self->c, &f, sizeof(f)));
	EXPECT_EQ(EINVAL, errno);
}

static int packet_send(const char *ifname, int proto, const void *buf, size_t len)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex = if_nametoindex(ifname),
	};
	int s = socket(AF_PACKET, SOCK_RAW, htons(proto));
	ssize_t n;

	if (s < 0)
		return -1;
	n = sendto(s, buf, len, 0, (struct sockaddr *)&ll, sizeof(ll));
	close(s);
	return n == (ssize_t)len ? 0 : -1;
}

TEST_F(bus, listen_only)
{
	struct can_frame f = cc(0x10, "lo"), g = cc(0x20, "ok");
	/* 6.19's raw sockets refuse to write to a listen-only device. */
	bool raw_refuses = vcb_kernel_at_least(6, 19);
	struct canfd_frame r;

	reconfigure(self, NULL, NULL, "listen-only on");
	/*
	 * Sent in listen-only mode: nothing on the bus. A raw socket's write
	 * fails with EACCES from 6.19 on; before, the node drops and counts
	 * it. Through a packet socket it reaches the node on every kernel.
	 */
	if (raw_refuses) {
		EXPECT_EQ(-1, write(self->c, &f, sizeof(f)));
		EXPECT_EQ(EACCES, errno);
	} else {
		EXPECT_EQ(0, vcb_send(self->c, &f, sizeof(f)));
	}
	EXPECT_EQ(0, packet_send("fc", ETH_P_CAN, &f, sizeof(f)));
	EXPECT_EQ(0, vcb_send(self->a, &g, sizeof(g)));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x20, r.can_id);
	ASSERT_EQ(CAN_MTU, vcb_recv(self->c, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x20, r.can_id);
	EXPECT_EQ(raw_refuses ? 1 : 2, vcb_stat("fc", "tx_dropped"));
	EXPECT_EQ(0, vcb_stat("fc", "tx_packets"));
}

TEST_F(bus, loopback_mode)
{
	struct can_frame f = cc(0x55, "loop");
	struct canfd_frame r;
	int flags, plain;

	reconfigure(self, "loopback on", NULL, NULL);
	plain = vcb_socket("fa", 0, 0);
	ASSERT_GE(plain, 0);
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	/* The controller receives its own frame: a real RX frame on fa. */
	ASSERT_EQ(CAN_MTU, vcb_recv(plain, &r, &flags, RX_TIMEOUT_MS));
	EXPECT_EQ(0x55, r.can_id);
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(1, vcb_stat("fa", "rx_packets"));
	EXPECT_EQ(1, vcb_stat("fa", "tx_packets"));
	close(plain);
}

TEST_F(bus, rtr_and_error_flag_frames)
{
	struct can_frame rtr = { .can_id = 0x99 | CAN_RTR_FLAG, .len = 3 };
	struct can_frame err = { .can_id = 0x1 | CAN_ERR_FLAG, .len = 8 };
	struct can_frame g = cc(0x77, "after");
	struct canfd_frame r;

	ASSERT_EQ(0, vcb_send(self->a, &rtr, sizeof(rtr)));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x99 | CAN_RTR_FLAG, r.can_id);
	EXPECT_EQ(3, r.len);
	EXPECT_EQ(0, vcb_stat("fb", "rx_bytes"));	/* a remote frame has no data */

	/* An error frame cannot be sent: dropped and counted. */
	ASSERT_EQ(0, vcb_send(self->a, &err, sizeof(err)));
	ASSERT_EQ(0, vcb_send(self->a, &g, sizeof(g)));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x77, r.can_id);
	EXPECT_EQ(1, vcb_stat("fa", "tx_dropped"));
	EXPECT_EQ(2, vcb_stat("fa", "tx_packets"));
}

TEST_F(bus, cc_len8_dlc)
{
	struct can_frame f = { .can_id = 0x88, .len = 8, .len8_dlc = 13 };
	struct can_frame r;

	reconfigure(self, "cc-len8-dlc on", "cc-len8-dlc on", NULL);
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, (struct canfd_frame *)&r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(8, r.len);
	EXPECT_EQ(13, r.len8_dlc);
	ASSERT_EQ(CAN_MTU, vcb_recv(self->c, (struct canfd_frame *)&r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(8, r.len);
	EXPECT_EQ(0, r.len8_dlc);
}

/*
 * A receiver gets what went on the wire and nothing else of the sender's
 * bytes: zeros past the length and in padding and reserved fields, no data
 * in a remote frame, only the flags a controller sends. The echo is the
 * frame as written, as can_put_echo_skb() gives it back.
 */
TEST_F(bus, rx_frame_is_what_the_wire_carried)
{
	struct can_frame f = cc(0x123, "abc"), want = f;
	struct can_frame rtr = cc(0x124 | CAN_RTR_FLAG, "xy");
	struct can_frame want_rtr = { .can_id = 0x124 | CAN_RTR_FLAG, .len = 2 };
	struct canfd_frame r;

	memcpy(f.data, "abcdefgh", 8);
	f.__pad = 0xaa;
	f.__res0 = 0xbb;
	f.len8_dlc = 0x0c;	/* no DLC of its own: the length is not 8 */
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	ASSERT_EQ(0, vcb_send(self->a, &rtr, sizeof(rtr)));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &want, CAN_MTU));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->c, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &want, CAN_MTU));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->a, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &f, CAN_MTU));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &want_rtr, CAN_MTU));
}

/* The same for CAN FD, and a length no DLC has arrives padded with zeros. */
TEST_F(bus, rx_fd_frame_is_what_the_wire_carried)
{
	struct canfd_frame f = { .can_id = 0x456, .len = 13, .flags = CANFD_BRS | 0x80 };
	struct canfd_frame want = { .can_id = 0x456, .len = 16, .flags = CANFD_BRS | CANFD_FDF };
	struct canfd_frame r;

	reconfigure(self, "bitrate 500000 dbitrate 2000000 fd on",
		    "bitrate 500000 dbitrate 2000000 fd on", NULL);
	for (int i = 0; i < CANFD_MAX_DLEN; i++)
		f.data[i] = 0xa0 + i;
	memcpy(want.data, f.data, 13);
	f.__res0 = 0x11;
	f.__res1 = 0x22;
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	ASSERT_EQ(CANFD_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(&r, &want, CANFD_MTU));
}

/*
 * A received frame says, in the CAN skb's private area, that it first
 * appeared on the sending node (as from vxcan), whether the receiver got
 * the sender's skb or a copy (bytes past the length: frame g). So can-gw
 * does not route it back to the sender unless the job allows that (-i).
 *
 * The job is made after fb's socket: can_rx_register() puts the newest
 * receiver first, so the gateway has sent its frame to fa before fb's socket
 * has the original, and that frame is on the bus before the next one sent.
 */
TEST_F(bus, can_gw_not_back_to_the_sender)
{
	const char *job = "cangw -A -s fb -d fa -f 123:7ff -m SET:I:124.0.0000000000000000";
	struct can_frame f = cc(0x123, "gw"), g = f, end = cc(0x7ff, "end");
	canid_t want[2][3] = { { 0x123, 0x123, 0x7ff }, { 0x123, 0x124, 0x7ff } };
	struct canfd_frame r;

	g.data[5] = 0x5a;
	ASSERT_EQ(0, vcb_sh("modprobe can-gw && cangw -F"));
	for (int allow = 0; allow < 2; allow++) {
		ASSERT_EQ(0, vcb_sh("%s%s", job, allow ? " -i" : ""));
		ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
		ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
		if (!allow) {
			ASSERT_EQ(0, vcb_send(self->a, &g, sizeof(g)));
			ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
		}
		ASSERT_EQ(0, vcb_send(self->a, &end, sizeof(end)));
		for (int i = 0; i < 3; i++) {
			ASSERT_EQ(CAN_MTU, vcb_recv(self->c, &r, NULL, RX_TIMEOUT_MS));
			EXPECT_EQ(want[allow][i], r.can_id);
		}
		/* fb too, so that the next round starts with nothing queued. */
		for (int i = 2 - allow; i < 3; i++) {
			ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
			EXPECT_EQ(want[allow][i], r.can_id);
		}
		ASSERT_EQ(0, vcb_sh("cangw -F"));
	}
}

/*
 * A frame can-gw put on the bus (vgw -> fa) reaches fb as one fa sent: fa
 * is where it first appeared, and its can-gw hop count starts afresh, on
 * every kernel (6.x keeps both in the skb's headroom, 7.x in an skb
 * extension). So with can-gw's default limit of one hop, fb -> vout
 * forwards it (a stale count would have it deleted), and so does fb -> vgw
 * without -i (it did not come from vgw); back on vgw its count is spent,
 * and vgw -> fa stops the round.
 */
TEST_F(bus, can_gw_frame_from_the_bus_is_the_senders)
{
	struct can_frame f = cc(0x123, "hop");
	struct canfd_frame r;
	int in, out, back;

	vcb_sh("ip link del vgw 2>/dev/null; ip link del vout 2>/dev/null");
	ASSERT_EQ(0, vcb_sh("modprobe vcan && modprobe can-gw && cangw -F && "
			    "ip link add vgw type vcan && ip link add vout type vcan && "
			    "ip link set vgw up && ip link set vout up"));
	/* -e: a vcan shows what can-gw sent it only as its echo. */
	ASSERT_EQ(0, vcb_sh("cangw -A -s vgw -d fa && cangw -A -s fb -d vout -e && "
			    "cangw -A -s fb -d vgw -e"));
	in = vcb_socket("vgw", 0, 0);
	back = vcb_socket("vgw", 0, 0);
	out = vcb_socket("vout", 0, 0);
	ASSERT_GE(in, 0);
	ASSERT_GE(back, 0);
	ASSERT_GE(out, 0);

	ASSERT_EQ(0, vcb_send(in, &f, sizeof(f)));
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x123, r.can_id);
	ASSERT_EQ(CAN_MTU, vcb_recv(out, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x123, r.can_id);
	/* On vgw: in's frame (another socket of vgw), then fb's. */
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(CAN_MTU, vcb_recv(back, &r, NULL, RX_TIMEOUT_MS));
		EXPECT_EQ(0x123, r.can_id);
	}
	EXPECT_EQ(0, vcb_recv(back, &r, NULL, NO_RX_MS));
	EXPECT_EQ(0, vcb_recv(self->b, &r, NULL, NO_RX_MS));
	EXPECT_EQ(1, vcb_stat("fa", "tx_packets"));

	close(in);
	close(back);
	close(out);
	ASSERT_EQ(0, vcb_sh("cangw -F && ip link del vgw && ip link del vout"));
}

/* A packet socket skips the raw socket's checks: the driver must not. */
TEST_F(bus, malformed_frames_via_packet_socket)
{
	struct can_frame good = cc(0x33, "ok"), bad_len = cc(0x34, "");
	struct canfd_frame fd_rtr = { .can_id = 0x35 | CAN_RTR_FLAG, .len = 8 };
	/*
	 * A CAN XL frame (6.2 and later accept it from packet sockets, 6.1
	 * drops it in can-dev): priority 0x36, XLF, 8 bytes of data. No
	 * node is an XL controller: dropped, never taken for a Classical
	 * frame whose length is the XL flags byte.
	 */
	struct {
		__u32 prio;
		__u8 flags, sdt;
		__u16 len;
		__u32 af;
		__u8 data[8];
	} __attribute__((packed)) xl = { .prio = 0x36, .flags = 0x80, .len = 8 };
	struct canfd_frame r;

	reconfigure(self, "bitrate 500000 dbitrate 2000000 fd on",
		    "bitrate 500000 dbitrate 2000000 fd on", NULL);
	bad_len.len = 9;
	/* Too short for a CAN frame; a length over 8; an FD remote frame. */
	ASSERT_EQ(0, packet_send("fa", ETH_P_CAN, &good, 10));
	ASSERT_EQ(0, packet_send("fa", ETH_P_CAN, &bad_len, sizeof(bad_len)));
	ASSERT_EQ(0, packet_send("fa", ETH_P_CANFD, &fd_rtr, sizeof(fd_rtr)));
	ASSERT_EQ(0, packet_send("fa", 0x000E /* ETH_P_CANXL */, &xl, sizeof(xl)));
	ASSERT_EQ(0, packet_send("fa", ETH_P_CAN, &good, sizeof(good)));

	/* Only the good frame reached the bus. */
	ASSERT_EQ(CAN_MTU, vcb_recv(self->b, &r, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0x33, r.can_id);
	EXPECT_EQ(0, vcb_recv(self->b, &r, NULL, NO_RX_MS));
	EXPECT_EQ(4, vcb_stat("fa", "tx_dropped"));
	EXPECT_EQ(1, vcb_stat("fa", "tx_packets"));
}

static int recv_stamp(int s, struct timespec *ts)
{
	char ctrl[CMSG_SPACE(sizeof(*ts))];
	struct canfd_frame f;
	struct iovec iov = { .iov_base = &f, .iov_len = sizeof(f) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
	};
	struct pollfd p = { .fd = s, .events = POLLIN };
	struct cmsghdr *cm;

	if (poll(&p, 1, RX_TIMEOUT_MS) <= 0 || recvmsg(s, &msg, 0) < 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(ts, CMSG_DATA(cm), sizeof(*ts));
			return 0;
		}
	return -1;
}

TEST_F(bus, one_timestamp_for_all_receivers)
{
	struct can_frame f = cc(0x5, "ts");
	struct timespec ta, tb, tc;
	int one = 1;

	for (int i = 0; i < 3; i++)
		setsockopt((int[]){ self->a, self->b, self->c }[i], SOL_SOCKET,
			   SO_TIMESTAMPNS, &one, sizeof(one));
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	ASSERT_EQ(0, recv_stamp(self->a, &ta));
	ASSERT_EQ(0, recv_stamp(self->b, &tb));
	ASSERT_EQ(0, recv_stamp(self->c, &tc));
	EXPECT_NE(0, tb.tv_sec);
	EXPECT_EQ(tb.tv_sec, tc.tv_sec);
	EXPECT_EQ(tb.tv_nsec, tc.tv_nsec);
	/* The echo carries the same end-of-frame time. */
	EXPECT_EQ(tb.tv_sec, ta.tv_sec);
	EXPECT_EQ(tb.tv_nsec, ta.tv_nsec);
}

TEST_HARNESS_MAIN
