// SPDX-License-Identifier: GPL-2.0
/*
 * CAN XL controllers (kernels whose can-dev has CAN XL: 6.19 and later),
 * configured over rtnetlink as "ip link set NODE type can bitrate 500000
 * xl on xbitrate 10000000" does (Debian 12's iproute2 has no "xl"):
 * settings and limits read back, refusals, XL frames of 1, 64 and 2048
 * bytes crossing a mixed bus in one order with Classical and FD frames,
 * and in wire timing the exact spacing of XL frames, arbitration between
 * XL and Classical frames, an FD node's protocol exception and a
 * Classical-only node's error flags.
 *
 * On older kernels every test is skipped (listed, not counted).
 */
#include <libgen.h>
#include <limits.h>
#include <libsocketcan.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vcanbus.h"
#include "vcbnl.h"

#define RX_TIMEOUT_MS	3000
#define NO_RX_MS	200
#define CLOCK_HZ	160000000
#define CANXL_HDR	((int)offsetof(struct canxl_frame, data))
#define XL_PRIO		0x123
#define ORDER_FRAMES	2000	/* per sender, order_mixed */

#define FD_XL		(CAN_CTRLMODE_FD | VCB_CAN_CTRLMODE_XL)

/*
 * A node on @bus in the given modes (CAN_CTRLMODE_FD, VCB_CAN_CTRLMODE_XL
 * among @modes), at 500 kbit/s, FD data 2 Mbit/s, XL data @xbitrate; up.
 */
static int xl_node(const char *bus, const char *node, uint32_t modes,
		   uint32_t xbitrate)
{
	struct vcb_can_req req = {
		.bitrate = 500000,
		.dbitrate = (modes & CAN_CTRLMODE_FD) ? 2000000 : 0,
		.xbitrate = (modes & VCB_CAN_CTRLMODE_XL) ? xbitrate : 0,
		.mode_mask = FD_XL | CAN_CTRLMODE_BERR_REPORTING,
		.mode_flags = modes,
	};
	char why[256];
	int err;

	if (vcb_sh("mkdir %s/%s/%s", VCB_CFS, bus, node))
		return -1;
	err = vcb_nl_can_set(node, &req, why, sizeof(why));
	if (err) {
		fprintf(stderr, "# %s: %s (%s)\n", node, strerror(-err), why);
		return -1;
	}
	return vcb_sh("ip link set %s up", node);
}

/* A raw socket on @ifname that sends and receives every frame format. */
static int xl_socket(const char *ifname, int own)
{
	int s = vcb_socket(ifname, own, 1), on = 1;

	if (s >= 0 && setsockopt(s, SOL_CAN_RAW, CAN_RAW_XL_FRAMES, &on,
				 sizeof(on))) {
		close(s);
		return -1;
	}
	return s;
}

/* An XL frame of @len bytes, its data counting from @seed. */
static int xl_frame(struct canxl_frame *x, canid_t prio, int len, int seed)
{
	memset(x, 0, sizeof(*x));
	x->prio = prio;
	x->flags = CANXL_XLF;
	x->len = len;
	for (int i = 0; i < len; i++)
		x->data[i] = (uint8_t)(seed + i);
	return CANXL_HDR + len;
}

/* One frame of any format into @buf; its size, 0 on timeout. */
static int xl_recv(int s, void *buf, int *flags, int timeout_ms)
{
	return vcb_recv_buf(s, buf, sizeof(struct canxl_frame), flags, timeout_ms);
}

/* The same with the frame's SO_TIMESTAMPNS (end of frame, bus clock). */
static int xl_recv_stamp(int s, void *buf, struct timespec *ts)
{
	char ctrl[CMSG_SPACE(sizeof(*ts))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(struct canxl_frame) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
	};
	struct pollfd p = { .fd = s, .events = POLLIN };
	struct cmsghdr *cm;
	ssize_t n;

	if (poll(&p, 1, RX_TIMEOUT_MS) <= 0)
		return 0;
	n = recvmsg(s, &msg, 0);
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_type == SO_TIMESTAMPNS)
			memcpy(ts, CMSG_DATA(cm), sizeof(*ts));
	return n < 0 ? -1 : (int)n;
}

static long long ts_ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static bool xl_kernel(void)
{
	return vcb_kernel_at_least(6, 19);
}

/*
 * Instant timing: xa, xb, xf with fd and xl on, xc XL-only (xl on, fd
 * off), xd Classical-only, xe FD without XL.
 */
FIXTURE(mixed) {
};

FIXTURE_SETUP(mixed)
{
	if (!xl_kernel())
		SKIP(return, "can-dev has no CAN XL before Linux 6.19");
	vcb_bus_remove("xl");
	ASSERT_EQ(0, vcb_bus_make("xl", "instant"));
	ASSERT_EQ(0, xl_node("xl", "xa", FD_XL, 10000000));
	ASSERT_EQ(0, xl_node("xl", "xb", FD_XL, 10000000));
	ASSERT_EQ(0, xl_node("xl", "xc", VCB_CAN_CTRLMODE_XL, 10000000));
	ASSERT_EQ(0, xl_node("xl", "xd", 0, 0));
	ASSERT_EQ(0, xl_node("xl", "xe", CAN_CTRLMODE_FD, 0));
	ASSERT_EQ(0, xl_node("xl", "xf", FD_XL, 10000000));
}

FIXTURE_TEARDOWN(mixed)
{
	vcb_bus_remove("xl");
}

/* What "ip -details link show xa" shows of its XL controller. */
TEST_F(mixed, settings_and_limits)
{
	const uint32_t xl_modes = VCB_CAN_CTRLMODE_XL | VCB_CAN_CTRLMODE_XL_TDC_AUTO |
		VCB_CAN_CTRLMODE_XL_TDC_MANUAL | VCB_CAN_CTRLMODE_XL_TMS |
		VCB_CAN_CTRLMODE_RESTRICTED;
	struct vcb_can_info info;
	uint32_t tq;

	ASSERT_EQ(0, vcb_nl_can_get("xa", &info));
	EXPECT_EQ(CLOCK_HZ, info.clock);
	EXPECT_EQ(xl_modes, info.ctrlmode_supported & xl_modes);
	EXPECT_EQ(FD_XL, info.ctrlmode & FD_XL);
	EXPECT_EQ(500000, info.bt.bitrate);
	ASSERT_TRUE(info.has_xbt);
	EXPECT_EQ(10000000, info.xbt.bitrate);
	tq = 1 + info.xbt.prop_seg + info.xbt.phase_seg1 + info.xbt.phase_seg2;
	EXPECT_EQ(CLOCK_HZ / 10000000, info.xbt.brp * tq);
	ASSERT_TRUE(info.has_xbtc);
	EXPECT_STREQ("vcanbus", info.xbtc.name);
	EXPECT_EQ(64, info.xbtc.tseg1_max);
	EXPECT_EQ(32, info.xbtc.tseg2_max);
	EXPECT_EQ(32, info.xbtc.brp_max);
	ASSERT_TRUE(info.has_pwm);
	/* PWMS, PWML, PWMO: min and max, 6-bit fields. */
	EXPECT_EQ(1, info.pwm[VCB_IFLA_CAN_PWM_PWMS_MIN]);
	EXPECT_EQ(63, info.pwm[VCB_IFLA_CAN_PWM_PWMS_MIN + 1]);
	EXPECT_EQ(2, info.pwm[VCB_IFLA_CAN_PWM_PWMS_MIN + 2]);
	EXPECT_EQ(63, info.pwm[VCB_IFLA_CAN_PWM_PWMS_MIN + 3]);
	EXPECT_EQ(0, info.pwm[VCB_IFLA_CAN_PWM_PWMS_MIN + 4]);
	EXPECT_EQ(63, info.pwm[VCB_IFLA_CAN_PWM_PWMS_MIN + 5]);
	/* The MTU follows the modes (can-dev). */
	EXPECT_EQ(sizeof(struct canxl_frame), vcb_read_ull("/sys/class/net/xa/mtu"));
	EXPECT_EQ(sizeof(struct canxl_frame), vcb_read_ull("/sys/class/net/xc/mtu"));
	EXPECT_EQ(CAN_MTU, vcb_read_ull("/sys/class/net/xd/mtu"));
	EXPECT_EQ(CANFD_MTU, vcb_read_ull("/sys/class/net/xe/mtu"));
}

/* What a node refuses, and what it takes instead. */
TEST_F(mixed, refusals)
{
	struct vcb_can_req req = {
		.bitrate = 500000, .xbitrate = 5000000,
		.mode_mask = FD_XL, .mode_flags = VCB_CAN_CTRLMODE_XL,
	};
	struct vcb_can_info info;
	char why[256];

	/* Up: no new bit timing or modes. */
	EXPECT_EQ(-EBUSY, vcb_nl_can_set("xa", &req, why, sizeof(why)));
	ASSERT_EQ(0, vcb_sh("ip link set xa down"));

	/* Beyond the transceiver's 20 Mbit/s. */
	req.xbitrate = 25000000;
	EXPECT_EQ(-EINVAL, vcb_nl_can_set("xa", &req, why, sizeof(why)));
	/* An XL data bit rate without xl on. */
	req.xbitrate = 10000000;
	req.mode_flags = 0;
	EXPECT_EQ(-EOPNOTSUPP, vcb_nl_can_set("xa", &req, why, sizeof(why)));
	/* TMS only in XL-only mode (fd off). */
	req.dbitrate = 2000000;
	req.mode_mask = FD_XL | VCB_CAN_CTRLMODE_XL_TMS;
	req.mode_flags = FD_XL | VCB_CAN_CTRLMODE_XL_TMS;
	EXPECT_EQ(-EOPNOTSUPP, vcb_nl_can_set("xa", &req, why, sizeof(why)));

	/*
	 * can-dev takes an XL data phase slower than the arbitration; the
	 * node does not come up with it (can-dev checks only FD's).
	 */
	memset(&req, 0, sizeof(req));
	req.bitrate = 1000000;
	req.xbitrate = 500000;
	req.mode_mask = FD_XL;
	req.mode_flags = VCB_CAN_CTRLMODE_XL;
	ASSERT_EQ(0, vcb_nl_can_set("xa", &req, why, sizeof(why)));
	EXPECT_NE(0, vcb_sh("ip link set xa up 2>/dev/null"));
	EXPECT_NE(0, vcb_sh("ip -o link show xa | grep -q '[<,]UP[,>]'"));

	/* XL-only with TMS: can-dev computes the PWM symbols. */
	req.bitrate = 500000;
	req.xbitrate = 10000000;
	req.mode_mask = FD_XL | VCB_CAN_CTRLMODE_XL_TMS;
	req.mode_flags = VCB_CAN_CTRLMODE_XL | VCB_CAN_CTRLMODE_XL_TMS;
	ASSERT_EQ(0, vcb_nl_can_set("xa", &req, why, sizeof(why)));
	ASSERT_EQ(0, vcb_nl_can_get("xa", &info));
	/* 16 minimum time quanta a bit, one symbol: 4 + 12, offset 0. */
	EXPECT_EQ(4, info.pwm[VCB_IFLA_CAN_PWM_PWMS]);
	EXPECT_EQ(12, info.pwm[VCB_IFLA_CAN_PWM_PWML]);
	EXPECT_EQ(0, info.pwm[VCB_IFLA_CAN_PWM_PWMO]);
	EXPECT_EQ(0, vcb_sh("ip link set xa up"));
}

/*
 * XL frames of 1, 64 and 2048 bytes from xa: every XL node gets them as
 * sent, xa its echoes; the Classical-only and the FD node none, but the
 * Classical frame after them, as the XL-only node does.
 */
TEST_F(mixed, xl_frames_cross)
{
	static const int lens[] = { 1, 64, 2048 };
	static struct canxl_frame sent[3], got;
	struct can_frame marker = { .can_id = 0x7ff, .len = 2, .data = { 0xab, 0xcd } };
	const char *xl_rx[] = { "xb", "xc", "xf" }, *other[] = { "xd", "xe" };
	int a = xl_socket("xa", 1), s, n, flags = 0;

	ASSERT_GE(a, 0);
	int rx[3], ox[2];

	for (int i = 0; i < 3; i++)
		ASSERT_GE(rx[i] = xl_socket(xl_rx[i], 0), 0);
	for (int i = 0; i < 2; i++)
		ASSERT_GE(ox[i] = xl_socket(other[i], 0), 0);

	for (int i = 0; i < 3; i++) {
		n = xl_frame(&sent[i], XL_PRIO, lens[i], i * 7);
		if (i == 1)
			sent[i].flags |= CANXL_SEC;
		sent[i].sdt = 0x05;
		sent[i].af = 0x12345678;
		ASSERT_EQ(0, vcb_send(a, &sent[i], n));
	}
	ASSERT_EQ(0, vcb_send(a, &marker, sizeof(marker)));

	for (int r = 0; r < 3; r++) {
		s = rx[r];
		for (int i = 0; i < 3; i++) {
			n = xl_recv(s, &got, NULL, RX_TIMEOUT_MS);
			ASSERT_EQ(CANXL_HDR + lens[i], n) TH_LOG("%s frame %d", xl_rx[r], i);
			EXPECT_EQ(0, memcmp(&sent[i], &got, n));
		}
		ASSERT_EQ(CAN_MTU, xl_recv(s, &got, NULL, RX_TIMEOUT_MS));
		EXPECT_EQ(0x7ff, got.prio);
	}
	for (int i = 0; i < 3; i++) {
		n = xl_recv(a, &got, &flags, RX_TIMEOUT_MS);
		ASSERT_EQ(CANXL_HDR + lens[i], n);
		EXPECT_TRUE(flags & MSG_CONFIRM);
		EXPECT_EQ(0, memcmp(&sent[i], &got, n));
	}
	ASSERT_EQ(CAN_MTU, xl_recv(a, &got, &flags, RX_TIMEOUT_MS));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(CAN_MTU, xl_recv(ox[i], &got, NULL, RX_TIMEOUT_MS))
			TH_LOG("%s got an XL frame", other[i]);
		EXPECT_EQ(0x7ff, got.prio);
		EXPECT_EQ(0, xl_recv(ox[i], &got, NULL, NO_RX_MS));
	}

	EXPECT_EQ(4, vcb_stat("xa", "tx_packets"));
	EXPECT_EQ(1 + 64 + 2048 + 2, vcb_stat("xa", "tx_bytes"));
	for (int r = 0; r < 3; r++) {
		EXPECT_EQ(4, vcb_stat(xl_rx[r], "rx_packets"));
		EXPECT_EQ(1 + 64 + 2048 + 2, vcb_stat(xl_rx[r], "rx_bytes"));
	}
	EXPECT_EQ(1, vcb_stat("xd", "rx_packets"));
	EXPECT_EQ(1, vcb_stat("xe", "rx_packets"));
	EXPECT_EQ(4, vcb_read_ull(VCB_CFS "/xl/frames"));

	close(a);
	for (int i = 0; i < 3; i++)
		close(rx[i]);
	for (int i = 0; i < 2; i++)
		close(ox[i]);
}

struct sender {
	const char *ifname;
	int format;	/* 0 Classical, 1 FD, 2 XL */
	int s;
};

static void *send_all(void *arg)
{
	struct sender *t = arg;
	struct canxl_frame x;
	struct canfd_frame f;

	for (uint32_t i = 0; i < ORDER_FRAMES; i++) {
		int rc;

		if (t->format == 2) {
			int n = xl_frame(&x, 0x100, 8, 0);

			memcpy(x.data, &i, sizeof(i));
			rc = vcb_send(t->s, &x, n);
		} else {
			memset(&f, 0, sizeof(f));
			f.can_id = 0x200 + t->format;
			f.len = 8;
			memcpy(f.data, &i, sizeof(i));
			rc = vcb_send(t->s, &f, t->format ? CANFD_MTU : CAN_MTU);
		}
		if (rc)
			return (void *)1;
	}
	return NULL;
}

/* A frame as (format, number): what the order test compares. */
static uint32_t order_key(const struct canxl_frame *x, int n)
{
	const struct canfd_frame *f = (const void *)x;
	uint32_t i;

	if (n == CAN_MTU || n == CANFD_MTU) {
		memcpy(&i, f->data, sizeof(i));
		return (n == CANFD_MTU ? 1u : 0u) << 24 | i;
	}
	memcpy(&i, x->data, sizeof(i));
	return 2u << 24 | i;
}

/*
 * Classical, FD and XL frames from three senders at once: three nodes
 * that take all three formats see them in one and the same order, each
 * sender's in its own.
 */
TEST_F(mixed, one_order_with_cc_fd_xl_senders)
{
	struct sender tx[3] = {
		{ .ifname = "xd", .format = 0 }, { .ifname = "xb", .format = 1 },
		{ .ifname = "xa", .format = 2 },
	};
	const char *rx_names[3] = { "xa", "xb", "xf" };
	static uint32_t seq[3][3 * ORDER_FRAMES];
	static struct canxl_frame got;
	pthread_t th[3];
	int rx[3];
	void *ret;

	for (int r = 0; r < 3; r++)
		ASSERT_GE(rx[r] = xl_socket(rx_names[r], 0), 0);
	for (int t = 0; t < 3; t++) {
		ASSERT_GE(tx[t].s = xl_socket(tx[t].ifname, 0), 0);
		ASSERT_EQ(0, pthread_create(&th[t], NULL, send_all, &tx[t]));
	}
	for (int t = 0; t < 3; t++) {
		pthread_join(th[t], &ret);
		EXPECT_EQ(NULL, ret);
	}
	for (int r = 0; r < 3; r++) {
		uint32_t next[3] = { 0, 0, 0 };

		for (int i = 0; i < 3 * ORDER_FRAMES; i++) {
			int n = xl_recv(rx[r], &got, NULL, RX_TIMEOUT_MS);

			ASSERT_GT(n, 0) TH_LOG("%s: frame %d missing", rx_names[r], i);
			seq[r][i] = order_key(&got, n);
			/* Each sender's frames in the order it sent them. */
			ASSERT_EQ(next[seq[r][i] >> 24]++, seq[r][i] & 0xffffff);
		}
		EXPECT_EQ(0, xl_recv(rx[r], &got, NULL, NO_RX_MS));
	}
	EXPECT_EQ(0, memcmp(seq[0], seq[1], sizeof(seq[0])));
	EXPECT_EQ(0, memcmp(seq[0], seq[2], sizeof(seq[0])));
	for (int i = 0; i < 3; i++) {
		close(rx[i]);
		close(tx[i].s);
	}
}

/* vcanbridge (its ASan build), next to this program's build folder. */
static void bridge_path(char *path, size_t size)
{
	char self[PATH_MAX] = "";

	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		abort();
	snprintf(path, size, "%s/../userspace/vcanbridge-asan", dirname(self));
}

/* Starts it with @argv (NULL-terminated, argv[0] its path), output to @log. */
static pid_t bridge_start(const char *log, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Does the log say @text within 10 s (the bridge writes it)? */
static bool bridge_said(const char *log, const char *text)
{
	char line[512];
	bool said = false;
	FILE *f;

	for (int i = 0; i < 1000 && !said; i++) {
		f = fopen(log, "r");
		while (f && !said && fgets(line, sizeof(line), f))
			said = strstr(line, text) != NULL;
		if (f)
			fclose(f);
		if (!said)
			usleep(10000);
	}
	return said;
}

/*
 * The bridge's counter @name of the port whose name starts with @port
 * (its lines are "PORT: NAME VALUE"), from a report asked for now
 * (SIGUSR1): -1 if it does not come within 10 s.
 */
static long long bridge_stat(pid_t pid, const char *log, const char *port,
			     const char *name)
{
	struct stat st;
	long long value = -1;
	char line[512];
	FILE *f;

	if (stat(log, &st) || kill(pid, SIGUSR1))
		return -1;
	for (int i = 0; i < 1000; i++) {
		bool end = false;

		f = fopen(log, "r");
		if (!f)
			return -1;
		fseek(f, st.st_size, SEEK_SET);
		while (fgets(line, sizeof(line), f)) {
			char *at = strstr(line, name);

			end |= strstr(line, "end of statistics") != NULL;
			if (!end && at && !strncmp(line, port, strlen(port)) &&
			    !strncmp(at - 2, ": ", 2) && at[strlen(name)] == ' ')
				value = strtoll(at + strlen(name) + 1, NULL, 10);
		}
		fclose(f);
		if (end)
			return value;
		usleep(10000);	/* the report is written by another process */
	}
	return -1;
}

/*
 * vcanbridge on xa (cannelloni over UDP to a peer on loopback): neither
 * of its formats carries XL frames. It counts the three the bus carried
 * as not carried and sends only the Classical frame, never an XL frame
 * cut to fit.
 */
TEST_F(mixed, bridge_counts_xl_frames_not_carried)
{
	char bin[PATH_MAX], log[] = "/tmp/vcb-xl-bridge.log";
	char *argv[] = { bin, "--udp", "cannelloni,peer=127.0.0.1,port=29817",
			 "xa", NULL };
	struct can_frame marker = { .can_id = 0x7ff, .len = 1 };
	static struct canxl_frame x;
	int b = xl_socket("xb", 0), status, n;
	pid_t pid;

	ASSERT_GE(b, 0);
	bridge_path(bin, sizeof(bin));
	ASSERT_EQ(0, access(bin, X_OK)) TH_LOG("%s", bin);
	pid = bridge_start(log, argv);
	ASSERT_GT(pid, 0);
	/* Up: its signals are handled (SIGUSR1 would kill it before). */
	ASSERT_TRUE(bridge_said(log, "joined"));
	ASSERT_EQ(0, bridge_stat(pid, log, "xa: ", "rx_xl_not_carried"));
	for (int i = 0; i < 3; i++) {
		n = xl_frame(&x, XL_PRIO, (int[]){ 1, 64, 2048 }[i], i);
		ASSERT_EQ(0, vcb_send(b, &x, n));
	}
	ASSERT_EQ(0, vcb_send(b, &marker, sizeof(marker)));
	/* The bridge has read the bus up to the marker when it sent it. */
	for (int i = 0; i < 1000 && bridge_stat(pid, log, "udp ", "tx_frames") < 1; i++)
		usleep(10000);
	EXPECT_EQ(1, bridge_stat(pid, log, "udp ", "tx_frames"));
	EXPECT_EQ(3, bridge_stat(pid, log, "xa: ", "rx_xl_not_carried"));
	EXPECT_EQ(1, bridge_stat(pid, log, "xa: ", "rx_frames"));
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("vcanbridge: see %s", log);
	close(b);
}

/*
 * Wire timing at 500 kbit/s, XL data phase 1 Mbit/s (so that a 2048-byte
 * frame takes 18 ms and the frames queued after it are sure to be in
 * their mailboxes before it ends, even under TCG): wa, wb, wc with fd and
 * xl on, we FD without XL.
 */
FIXTURE(wire) {
};

FIXTURE_SETUP(wire)
{
	if (!xl_kernel())
		SKIP(return, "can-dev has no CAN XL before Linux 6.19");
	vcb_bus_remove("xlw");
	ASSERT_EQ(0, vcb_bus_make("xlw", "wire"));
	ASSERT_EQ(0, xl_node("xlw", "wa", FD_XL, 1000000));
	ASSERT_EQ(0, xl_node("xlw", "wb", FD_XL, 1000000));
	ASSERT_EQ(0, xl_node("xlw", "wc", FD_XL, 1000000));
	ASSERT_EQ(0, xl_node("xlw", "we", CAN_CTRLMODE_FD, 0));
}

FIXTURE_TEARDOWN(wire)
{
	vcb_bus_remove("xlw");
}

/*
 * Hand-computed (frame.c, canbits.py): priority 0x123 has no stuff bit,
 * so 31 bits at 500 kbit/s (2 us each) and, at the XL data rate, 134,
 * 689 and 18148 bits for 1, 64 and 2048 bytes (1 us each at 1 Mbit/s);
 * 3 bits of intermission between frames.
 */
#define NS_2048	(31 * 2000LL + 18148 * 1000LL)
#define NS_1	(31 * 2000LL + 134 * 1000LL)
#define NS_64	(31 * 2000LL + 689 * 1000LL)
#define NS_IFS	(3 * 2000LL)

/*
 * Four XL frames back to back: on the bus clock, each ends its duration
 * plus the intermission after the one before; none is read before it
 * ended (real time).
 */
TEST_F(wire, xl_frame_spacing)
{
	static const int lens[] = { 2048, 1, 64, 2048 };
	static const long long ns[] = { NS_2048, NS_1, NS_64, NS_2048 };
	static struct canxl_frame x;
	struct timespec ts[4], now;
	int a = xl_socket("wa", 0), b = xl_socket("wb", 0), one = 1, n;
	unsigned long long bits = vcb_read_ull(VCB_CFS "/xlw/bits");

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, setsockopt(b, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)));
	for (int i = 0; i < 4; i++) {
		n = xl_frame(&x, XL_PRIO, lens[i], i);
		ASSERT_EQ(0, vcb_send(a, &x, n));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(CANXL_HDR + lens[i], xl_recv_stamp(b, &x, &ts[i]));
		clock_gettime(CLOCK_REALTIME, &now);
		EXPECT_LE(ts_ns(&ts[i]), ts_ns(&now));
	}
	for (int i = 1; i < 4; i++) {
		EXPECT_EQ(NS_IFS + ns[i], ts_ns(&ts[i]) - ts_ns(&ts[i - 1]))
			TH_LOG("frame %d", i);
	}
	EXPECT_EQ(4 * 31 + 2 * 18148 + 134 + 689,
		  vcb_read_ull(VCB_CFS "/xlw/bits") - bits);
	/* The FD node took the protocol exception: no error, no frame. */
	EXPECT_EQ(0, vcb_read_ull(VCB_CFS "/xlw/errors"));
	EXPECT_EQ(0, vcb_stat("we", "rx_packets"));
	close(a);
	close(b);
}

/*
 * wc holds the bus with a 2048-byte XL frame while wa queues an XL
 * frame and wb a Classical one; the lower arbitration field wins, and on
 * the same identifier the Classical frame (its FDF bit is dominant).
 */
TEST_F(wire, xl_against_classical_arbitration)
{
	static const struct { canid_t xl, cc; bool xl_first; } round[] = {
		{ 0x100, 0x0ff, false },
		{ 0x0ff, 0x100, true },
		{ 0x123, 0x123, false },
	};
	static struct canxl_frame x, got;
	struct can_frame cf = { .len = 1 };
	struct can_device_stats sa, sb;
	int a = xl_socket("wa", 0), b = xl_socket("wb", 0), c = xl_socket("wc", 0);
	int e = xl_socket("we", 0), n, lost_a = 0, lost_b = 0;

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_GE(c, 0);
	ASSERT_GE(e, 0);
	for (int r = 0; r < 3; r++) {
		n = xl_frame(&x, 0x7ff, 2048, r);
		ASSERT_EQ(0, vcb_send(c, &x, n));
		n = xl_frame(&x, round[r].xl, 4, r);
		ASSERT_EQ(0, vcb_send(a, &x, n));
		cf.can_id = round[r].cc;
		ASSERT_EQ(0, vcb_send(b, &cf, sizeof(cf)));

		/* we, an FD node, sees the Classical frame only. */
		ASSERT_EQ(CAN_MTU, xl_recv(e, &got, NULL, RX_TIMEOUT_MS));
		EXPECT_EQ(round[r].cc, got.prio);
		/* wc: its blocker ended, then the winner, then the other. */
		n = xl_recv(c, &got, NULL, RX_TIMEOUT_MS);
		ASSERT_EQ(round[r].xl_first ? CANXL_HDR + 4 : CAN_MTU, n);
		EXPECT_EQ(round[r].xl_first ? round[r].xl : round[r].cc, got.prio);
		n = xl_recv(c, &got, NULL, RX_TIMEOUT_MS);
		ASSERT_EQ(round[r].xl_first ? CAN_MTU : CANXL_HDR + 4, n);
		EXPECT_EQ(round[r].xl_first ? round[r].cc : round[r].xl, got.prio);
		if (round[r].xl_first)
			lost_b++;
		else
			lost_a++;
		ASSERT_EQ(0, can_get_device_stats("wa", &sa));
		ASSERT_EQ(0, can_get_device_stats("wb", &sb));
		EXPECT_EQ(lost_a, sa.arbitration_lost) TH_LOG("round %d", r);
		EXPECT_EQ(lost_b, sb.arbitration_lost) TH_LOG("round %d", r);
	}
	EXPECT_EQ(0, vcb_read_ull(VCB_CFS "/xlw/errors"));
	close(a);
	close(b);
	close(c);
	close(e);
}

/*
 * A Classical-only node (fd off) takes an XL frame's recessive FDF bit
 * for a form error, as it does an FD frame's: while error-active its flag
 * destroys every XL frame, REC + 9 a frame (rule 2 adds 8), until it is
 * error-passive after 15; the 16th goes through. The same counts as
 * errors.py's CAN FD case: sender TEC 15 x 8 - 1, the Classical-only
 * node REC 136, the XL receiver REC 15 - 1. An FD node (xl off) reads
 * each error flag, which starts at XLF, its reserved bit, before it could
 * take the protocol exception there: a stuff error each, REC 15; the
 * frame that goes through it ignores from XLF on, REC stays 15.
 */
TEST(classical_node_destroys_xl_frames)
{
	struct can_berr_counter ea, eb, ecc, efd;
	static struct canxl_frame x;
	unsigned long long bits;
	int a, b, n;

	if (!xl_kernel())
		SKIP(return, "can-dev has no CAN XL before Linux 6.19");
	vcb_bus_remove("xlc");
	ASSERT_EQ(0, vcb_bus_make("xlc", "wire"));
	ASSERT_EQ(0, xl_node("xlc", "ca", FD_XL, 1000000));
	ASSERT_EQ(0, xl_node("xlc", "cb", FD_XL, 1000000));
	ASSERT_EQ(0, xl_node("xlc", "cc", 0, 0));
	ASSERT_EQ(0, xl_node("xlc", "cd", CAN_CTRLMODE_FD, 0));
	a = xl_socket("ca", 0);
	b = xl_socket("cb", 0);
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	bits = vcb_read_ull(VCB_CFS "/xlc/bits");
	n = xl_frame(&x, XL_PRIO, 64, 0);
	ASSERT_EQ(0, vcb_send(a, &x, n));
	ASSERT_EQ(n, xl_recv(b, &x, NULL, RX_TIMEOUT_MS));
	ASSERT_EQ(0, can_get_berr_counter("ca", &ea));
	ASSERT_EQ(0, can_get_berr_counter("cb", &eb));
	ASSERT_EQ(0, can_get_berr_counter("cc", &ecc));
	ASSERT_EQ(0, can_get_berr_counter("cd", &efd));
	EXPECT_EQ(15 * 8 - 1, ea.txerr);
	EXPECT_EQ(136, ecc.rxerr);
	EXPECT_EQ(14, eb.rxerr);
	EXPECT_EQ(15, efd.rxerr);
	EXPECT_EQ(0, vcb_stat("cd", "rx_packets"));
	EXPECT_EQ(15, vcb_read_ull(VCB_CFS "/xlc/errors"));
	/*
	 * Each destroyed frame: SOF to the FDF bit (bit 14), the error
	 * flag's first bit seen there, then 6 + 6 flag bits and 8 of the
	 * delimiter; then the whole frame.
	 */
	EXPECT_EQ(15 * (14 + 1 + 20) + 31 + 689,
		  vcb_read_ull(VCB_CFS "/xlc/bits") - bits);
	close(a);
	close(b);
	vcb_bus_remove("xlc");
}

/*
 * Nodes that signal no errors: in restricted operation (M_CAN's manuals:
 * no error flag, counters frozen, it still acknowledges) and XL-only (xl
 * on, fd off: can-dev's "error signalling off"). At 250 kbit/s on a
 * 500 kbit/s bus, either would destroy every frame with its flag if it
 * signalled errors (errors.sh: a node at 250k destroys 15); here the
 * frames go through, no error on the bus, their REC stays 0. Alone with
 * a sender at the right rate, a restricted node acknowledges.
 */
TEST(restricted_and_xl_only_signal_no_errors)
{
	struct vcb_can_req restricted = {
		.bitrate = 250000, .mode_mask = FD_XL | VCB_CAN_CTRLMODE_RESTRICTED,
		.mode_flags = VCB_CAN_CTRLMODE_RESTRICTED,
	};
	struct vcb_can_req xl_only = {
		.bitrate = 250000, .xbitrate = 1000000, .mode_mask = FD_XL,
		.mode_flags = VCB_CAN_CTRLMODE_XL,
	};
	struct can_berr_counter ea, eb, ed;
	static struct canxl_frame x;
	struct can_frame cf = { .can_id = 0x123, .len = 2 };
	char why[256];
	int a, c, n;

	if (!xl_kernel())
		SKIP(return, "can-dev has no CAN XL before Linux 6.19");
	vcb_bus_remove("xlr");
	ASSERT_EQ(0, vcb_bus_make("xlr", "wire"));
	ASSERT_EQ(0, xl_node("xlr", "ra", FD_XL, 1000000));
	ASSERT_EQ(0, xl_node("xlr", "rc", FD_XL, 1000000));
	ASSERT_EQ(0, vcb_sh("mkdir %s/xlr/rb %s/xlr/rd", VCB_CFS, VCB_CFS));
	ASSERT_EQ(0, vcb_nl_can_set("rb", &restricted, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, vcb_nl_can_set("rd", &xl_only, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, vcb_sh("ip link set rb up && ip link set rd up"));
	a = xl_socket("ra", 0);
	c = xl_socket("rc", 0);
	ASSERT_GE(a, 0);
	ASSERT_GE(c, 0);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, vcb_send(a, &cf, sizeof(cf)));
	n = xl_frame(&x, XL_PRIO, 64, 0);
	ASSERT_EQ(0, vcb_send(a, &x, n));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(CAN_MTU, xl_recv(c, &x, NULL, RX_TIMEOUT_MS));
	ASSERT_EQ(n, xl_recv(c, &x, NULL, RX_TIMEOUT_MS));
	EXPECT_EQ(0, vcb_read_ull(VCB_CFS "/xlr/errors"));
	EXPECT_EQ(4, vcb_read_ull(VCB_CFS "/xlr/frames"));
	ASSERT_EQ(0, can_get_berr_counter("ra", &ea));
	ASSERT_EQ(0, can_get_berr_counter("rb", &eb));
	ASSERT_EQ(0, can_get_berr_counter("rd", &ed));
	EXPECT_EQ(0, ea.txerr);
	EXPECT_EQ(0, eb.rxerr);
	EXPECT_EQ(0, ed.rxerr);
	/* Neither at 250k received what it could not read. */
	EXPECT_EQ(0, vcb_stat("rb", "rx_packets"));
	EXPECT_EQ(0, vcb_stat("rd", "rx_packets"));

	/* Only ra and a restricted node at its rate: that one acknowledges. */
	ASSERT_EQ(0, vcb_sh("ip link set rc down && ip link set rd down && ip link set rb down"));
	restricted.bitrate = 500000;
	ASSERT_EQ(0, vcb_nl_can_set("rb", &restricted, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, vcb_sh("ip link set rb up"));
	ASSERT_EQ(0, vcb_send(a, &cf, sizeof(cf)));
	for (int i = 0; i < 1000 && vcb_stat("rb", "rx_packets") < 1; i++)
		usleep(1000);
	EXPECT_EQ(1, vcb_stat("rb", "rx_packets"));
	ASSERT_EQ(0, can_get_berr_counter("ra", &ea));
	EXPECT_EQ(0, ea.txerr);
	EXPECT_EQ(0, vcb_read_ull(VCB_CFS "/xlr/errors"));
	close(a);
	close(c);
	vcb_bus_remove("xlr");
}

/*
 * An XL-only node (xl on, fd off) signals no errors as a sender either:
 * alone on the bus, every frame it sends ends with an ACK error and is
 * sent again, and its TEC stays 0, where a node with error signalling
 * goes error-passive at 128 (errors.sh).
 */
TEST(xl_only_sender_counts_no_errors)
{
	struct can_berr_counter e;
	static struct canxl_frame x;
	int a, n, state = -1;

	if (!xl_kernel())
		SKIP(return, "can-dev has no CAN XL before Linux 6.19");
	vcb_bus_remove("xls");
	ASSERT_EQ(0, vcb_bus_make("xls", "wire"));
	ASSERT_EQ(0, xl_node("xls", "sa", VCB_CAN_CTRLMODE_XL, 1000000));
	a = xl_socket("sa", 0);
	ASSERT_GE(a, 0);
	n = xl_frame(&x, XL_PRIO, 8, 0);
	ASSERT_EQ(0, vcb_send(a, &x, n));
	/* 20 attempts: beyond the 16 that make TEC 128. */
	for (int i = 0; i < 5000 && vcb_read_ull(VCB_CFS "/xls/errors") < 20; i++)
		usleep(1000);
	EXPECT_LE(20, vcb_read_ull(VCB_CFS "/xls/errors"));
	ASSERT_EQ(0, can_get_berr_counter("sa", &e));
	EXPECT_EQ(0, e.txerr);
	ASSERT_EQ(0, can_get_state("sa", &state));
	EXPECT_EQ(CAN_STATE_ERROR_ACTIVE, state);
	EXPECT_EQ(0, vcb_stat("sa", "tx_packets"));
	close(a);
	vcb_bus_remove("xls");
}

TEST_HARNESS_MAIN
