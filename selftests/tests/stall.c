// SPDX-License-Identifier: GPL-2.0
/*
 * Backpressure, as on hardware at high load: a receiver that cannot keep
 * up (rx_hold, the fault-injection switch) fills its 1024-frame queue; the
 * bus then holds frames back instead of dropping them, the sender's
 * mailboxes fill, its queue stops, the qdisc fills and the writer gets
 * ENOBUFS. Echoes come only for completed frames; frames still in the
 * mailboxes when the sender goes down are aborted and counted, never
 * delivered or echoed. Released, the receiver gets every frame in order.
 * A bus-off node sends nothing, whatever waits in its mailboxes, and a
 * restart drops and counts those; a receiver that goes bus-off no longer
 * holds the bus back.
 *
 * Nodes sa (sender, txqueuelen 10), sb (held receiver), sc on bus "stall".
 */
#include "kselftest_harness.h"
#include "vcanbus.h"

#define RXQ_LEN		1024	/* VCANBUS_RXQ_LEN */
#define TXQUEUELEN	10
#define RX_TIMEOUT_MS	5000
#define NO_RX_MS	200

FIXTURE(stall) {
	int a, b, c;		/* sockets on sa (own messages on), sb, sc */
	unsigned int sent;	/* frames the sender's writes accepted */
};

static int hold(const char *node, int on)
{
	return vcb_sh("echo %d > %s/stall/%s/rx_hold", on, VCB_CFS, node);
}

static unsigned long long bus_frames(void)
{
	return vcb_read_ull(VCB_CFS "/stall/frames");
}

/* Waits (bounded) until the bus has completed @n frames. */
static int await_frames(unsigned long long n)
{
	for (int i = 0; i < 200 && bus_frames() != n; i++)
		usleep(25000);
	return bus_frames() == n ? 0 : -1;
}

FIXTURE_SETUP(stall)
{
	vcb_bus_remove("stall");
	ASSERT_EQ(0, vcb_bus_make("stall", "instant"));
	ASSERT_EQ(0, vcb_sh("mkdir %s/stall/sa && ip link set sa txqueuelen %d",
			    VCB_CFS, TXQUEUELEN));
	ASSERT_EQ(0, vcb_node_make("stall", "sb", NULL));
	ASSERT_EQ(0, vcb_node_make("stall", "sc", NULL));
	self->a = self->b = self->c = -1;
	self->sent = 0;
}

FIXTURE_TEARDOWN(stall)
{
	close(self->a);
	close(self->b);
	close(self->c);
	vcb_bus_remove("stall");
}

static void open_sockets(struct _test_data_stall *self)
{
	self->a = vcb_socket("sa", 1, 0);
	self->b = vcb_socket("sb", 0, 0);
	self->c = vcb_socket("sc", 0, 0);
}

/* Writes numbered frames on sa until the stack refuses one; returns errno. */
static int fill(struct _test_data_stall *self)
{
	for (;;) {
		struct can_frame f = { .can_id = 0x100, .len = 4 };

		memcpy(f.data, &self->sent, 4);
		if (write(self->a, &f, sizeof(f)) != sizeof(f))
			return errno;
		self->sent++;
	}
}

/* Receives @n frames numbered @first.. on @s, then nothing more. */
static int expect_numbered(int s, unsigned int first, unsigned int n, int confirm)
{
	struct canfd_frame r;
	unsigned int seq;
	int flags;

	for (unsigned int i = 0; i < n; i++) {
		if (vcb_recv(s, &r, &flags, RX_TIMEOUT_MS) != CAN_MTU)
			return -1;
		memcpy(&seq, r.data, 4);
		if (seq != first + i || !!(flags & MSG_CONFIRM) != confirm)
			return -2;
	}
	return vcb_recv(s, &r, NULL, NO_RX_MS) == 0 ? 0 : -3;
}

/*
 * Over 2 000 frames written and read one by one: on the debug kernel under
 * TCG on a busy host this has taken more than the harness's 30 s.
 */
TEST_F_TIMEOUT(stall, backpressure_then_everything_in_order, 180)
{
	ASSERT_EQ(0, vcb_sh("ip link set sa up"));
	open_sockets(self);
	ASSERT_EQ(0, hold("sb", 1));

	ASSERT_EQ(ENOBUFS, fill(self));
	/* Held back: the receiver's queue, the mailboxes, the qdisc. */
	ASSERT_EQ(0, await_frames(RXQ_LEN));
	EXPECT_GE(self->sent, RXQ_LEN + 4 + TXQUEUELEN);
	/* + 1: the qdisc may hold one requeued skb beside its queue. */
	EXPECT_LE(self->sent, RXQ_LEN + 4 + TXQUEUELEN + 1);
	EXPECT_EQ(RXQ_LEN, vcb_stat("sa", "tx_packets"));
	/* Echoes for the completed frames only, in order. */
	EXPECT_EQ(0, expect_numbered(self->a, 0, RXQ_LEN, 1));
	/* sc was never held: it got the same frames. */
	EXPECT_EQ(0, expect_numbered(self->c, 0, RXQ_LEN, 0));

	/* Released: every frame, in order, none lost. */
	ASSERT_EQ(0, hold("sb", 0));
	EXPECT_EQ(0, expect_numbered(self->b, 0, self->sent, 0));
	EXPECT_EQ(0, expect_numbered(self->c, RXQ_LEN, self->sent - RXQ_LEN, 0));
	EXPECT_EQ(0, expect_numbered(self->a, RXQ_LEN, self->sent - RXQ_LEN, 1));
	EXPECT_EQ(self->sent, bus_frames());
	EXPECT_EQ(self->sent, vcb_stat("sa", "tx_packets"));
	EXPECT_EQ(self->sent, vcb_stat("sb", "rx_packets"));
	EXPECT_EQ(0, vcb_stat("sb", "rx_dropped"));
}

TEST_F(stall, ifdown_aborts_the_mailboxes)
{
	ASSERT_EQ(0, vcb_sh("echo 8 > %s/stall/sa/tx_mailboxes && ip link set sa up",
			    VCB_CFS));
	open_sockets(self);
	ASSERT_EQ(0, hold("sb", 1));

	ASSERT_EQ(ENOBUFS, fill(self));
	ASSERT_EQ(0, await_frames(RXQ_LEN));
	EXPECT_EQ(0, expect_numbered(self->a, 0, RXQ_LEN, 1));

	/* The 8 frames in the mailboxes never made it to the bus. */
	ASSERT_EQ(0, vcb_sh("ip link set sa down"));
	EXPECT_EQ(8, vcb_stat("sa", "tx_aborted_errors"));
	EXPECT_EQ(8, vcb_stat("sa", "tx_errors"));
	EXPECT_EQ(RXQ_LEN, vcb_stat("sa", "tx_packets"));

	ASSERT_EQ(0, hold("sb", 0));
	EXPECT_EQ(0, expect_numbered(self->b, 0, RXQ_LEN, 0));
	EXPECT_EQ(RXQ_LEN, bus_frames());
}

/* Waits (bounded) until linkwatch has given @ifname operstate @state. */
static int await_operstate(const char *ifname, const char *state)
{
	return vcb_sh("for i in $(seq 200); do grep -qx %s /sys/class/net/%s/operstate"
		      " && exit 0; sleep 0.025; done; exit 1", state, ifname);
}

static int bus_off(const char *node)
{
	return vcb_sh("echo 1 > %s/stall/%s/bus_off", VCB_CFS, node);
}

/*
 * The sender goes bus-off with full mailboxes while the bus is held back:
 * once the receiver drains, nothing more goes out. A restart drops the
 * four frames its mailboxes held (counted as can-dev counts what it
 * flushes), and it sends again. (What its qdisc held is gone too: can-dev
 * takes the carrier away at bus-off, and the stack then replaces the
 * qdisc, as for every candev. The stack does that from linkwatch, up to a
 * second later, and a restart before then gives the carrier back first:
 * the qdisc keeps its frames. The test waits for the operstate linkwatch
 * sets in the same step, under RTNL, as the restart takes it.)
 */
TEST_F_TIMEOUT(stall, bus_off_sender_sends_nothing, 180)
{
	struct can_frame f = { .can_id = 0x100, .len = 4 };

	ASSERT_EQ(0, vcb_sh("ip link set sa up"));
	open_sockets(self);
	ASSERT_EQ(0, hold("sb", 1));
	ASSERT_EQ(ENOBUFS, fill(self));
	ASSERT_EQ(0, await_frames(RXQ_LEN));

	ASSERT_EQ(0, bus_off("sa"));
	ASSERT_EQ(0, hold("sb", 0));
	EXPECT_EQ(0, expect_numbered(self->b, 0, RXQ_LEN, 0));
	EXPECT_EQ(RXQ_LEN, bus_frames());
	EXPECT_EQ(RXQ_LEN, vcb_stat("sa", "tx_packets"));
	EXPECT_EQ(0, vcb_sh("ip -d link show sa | grep -q 'state BUS-OFF'"));
	ASSERT_EQ(0, await_operstate("sa", "down"));

	ASSERT_EQ(0, vcb_sh("ip link set sa type can restart"));
	EXPECT_EQ(4, vcb_stat("sa", "tx_dropped"));
	EXPECT_EQ(4, vcb_stat("sa", "tx_aborted_errors"));
	EXPECT_EQ(0, vcb_stat("sa", "tx_errors"));
	memcpy(f.data, &self->sent, 4);
	ASSERT_EQ(0, vcb_send(self->a, &f, sizeof(f)));
	EXPECT_EQ(0, expect_numbered(self->b, self->sent, 1, 0));
	EXPECT_EQ(RXQ_LEN + 1, bus_frames());
}

/*
 * The bus waits for room in sb's queue; sb goes bus-off and takes no
 * frame any more: the bus goes on without it.
 */
TEST_F_TIMEOUT(stall, bus_off_receiver_holds_nothing_back, 180)
{
	ASSERT_EQ(0, vcb_sh("ip link set sa up"));
	open_sockets(self);
	ASSERT_EQ(0, hold("sb", 1));
	ASSERT_EQ(ENOBUFS, fill(self));
	ASSERT_EQ(0, await_frames(RXQ_LEN));

	ASSERT_EQ(0, bus_off("sb"));
	EXPECT_EQ(0, expect_numbered(self->c, 0, self->sent, 0));
	EXPECT_EQ(self->sent, bus_frames());
	/* What sb's queue held before, then nothing. */
	ASSERT_EQ(0, hold("sb", 0));
	EXPECT_EQ(0, expect_numbered(self->b, 0, RXQ_LEN, 0));
}

TEST_HARNESS_MAIN
