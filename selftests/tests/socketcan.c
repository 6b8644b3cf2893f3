// SPDX-License-Identifier: GPL-2.0
/*
 * libsocketcan sees a node as the controller it emulates: state, error
 * counters, clock, bit-timing limits, bit timing, modes, start/stop and
 * restart, as on hardware.
 */
#include <libsocketcan.h>
#include <linux/can/netlink.h>

#include "kselftest_harness.h"
#include "vcanbus.h"

FIXTURE(node) {
};

FIXTURE_SETUP(node)
{
	vcb_bus_remove("sockcan");
	ASSERT_EQ(0, vcb_bus_make("sockcan", "instant"));
	ASSERT_EQ(0, vcb_node_make("sockcan", "sca", NULL));
}

FIXTURE_TEARDOWN(node)
{
	vcb_bus_remove("sockcan");
}

TEST_F(node, state_and_counters)
{
	struct can_berr_counter bec = { 1, 1 };
	int state = -1;

	ASSERT_EQ(0, can_get_state("sca", &state));
	EXPECT_EQ(CAN_STATE_ERROR_ACTIVE, state);
	ASSERT_EQ(0, can_get_berr_counter("sca", &bec));
	EXPECT_EQ(0, bec.txerr);
	EXPECT_EQ(0, bec.rxerr);

	ASSERT_EQ(0, can_do_stop("sca"));
	ASSERT_EQ(0, can_get_state("sca", &state));
	EXPECT_EQ(CAN_STATE_STOPPED, state);
	ASSERT_EQ(0, can_do_start("sca"));
	ASSERT_EQ(0, can_get_state("sca", &state));
	EXPECT_EQ(CAN_STATE_ERROR_ACTIVE, state);
}

/*
 * The emulated controller's clock: 40 MHz, as the common CAN FD cores,
 * and 160 MHz where can-dev has CAN XL (6.19 on), for the XL data rates.
 */
static unsigned int clock_hz(void)
{
	return vcb_kernel_at_least(6, 19) ? 160000000 : 40000000;
}

TEST_F(node, clock_and_limits)
{
	struct can_bittiming_const btc;
	struct can_clock clock;

	ASSERT_EQ(0, can_get_clock("sca", &clock));
	EXPECT_EQ(clock_hz(), clock.freq);
	ASSERT_EQ(0, can_get_bittiming_const("sca", &btc));
	EXPECT_STREQ("vcanbus", btc.name);
	EXPECT_EQ(256, btc.tseg1_max);
	EXPECT_EQ(128, btc.tseg2_max);
}

TEST_F(node, bitrate)
{
	struct can_bittiming bt;

	ASSERT_EQ(0, can_get_bittiming("sca", &bt));
	EXPECT_EQ(500000, bt.bitrate);
	EXPECT_EQ(875, bt.sample_point);
	/* The preset: 25 ns quanta at either clock (brp 1 or 4). */
	EXPECT_EQ(25, bt.tq);
	EXPECT_EQ(clock_hz() / 40000000, bt.brp);

	/* Refused while up, as by every controller. */
	EXPECT_NE(0, can_set_bitrate("sca", 125000));
	ASSERT_EQ(0, can_do_stop("sca"));
	ASSERT_EQ(0, can_set_bitrate("sca", 125000));
	ASSERT_EQ(0, can_do_start("sca"));
	ASSERT_EQ(0, can_get_bittiming("sca", &bt));
	EXPECT_EQ(125000, bt.bitrate);
	/* can-dev computed the segments from the node's clock. */
	EXPECT_EQ(clock_hz() / bt.brp / (1 + bt.prop_seg + bt.phase_seg1 + bt.phase_seg2),
		  125000);
}

TEST_F(node, ctrlmode)
{
	struct can_ctrlmode cm = {
		.mask = CAN_CTRLMODE_LISTENONLY | CAN_CTRLMODE_ONE_SHOT,
		.flags = CAN_CTRLMODE_LISTENONLY | CAN_CTRLMODE_ONE_SHOT,
	};

	ASSERT_EQ(0, can_do_stop("sca"));
	ASSERT_EQ(0, can_set_ctrlmode("sca", &cm));
	memset(&cm, 0, sizeof(cm));
	ASSERT_EQ(0, can_get_ctrlmode("sca", &cm));
	EXPECT_EQ(CAN_CTRLMODE_LISTENONLY | CAN_CTRLMODE_ONE_SHOT,
		  cm.flags & (CAN_CTRLMODE_LISTENONLY | CAN_CTRLMODE_ONE_SHOT));
	ASSERT_EQ(0, can_do_start("sca"));
}

TEST_F(node, restart)
{
	__u32 ms = 1;

	/* A manual restart is only for a bus-off controller. */
	EXPECT_NE(0, can_do_restart("sca"));
	ASSERT_EQ(0, can_do_stop("sca"));
	ASSERT_EQ(0, can_set_restart_ms("sca", 100));
	ASSERT_EQ(0, can_get_restart_ms("sca", &ms));
	EXPECT_EQ(100, ms);
	ASSERT_EQ(0, can_do_start("sca"));
}

TEST_HARNESS_MAIN
