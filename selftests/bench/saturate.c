// SPDX-License-Identifier: GPL-2.0
/*
 * saturate: a bus in wire timing, kept busy by one sender for a while; how
 * many frames a second it carried and how late they reached a receiver.
 *
 *   saturate --tx [NS/]IF --rx [NS/]IF --seconds S [--fd | --xl LEN]
 *            [--label TEXT]
 *
 * --xl LEN: a CAN XL frame of LEN bytes (priority 0x123) on nodes with xl
 * on (kernels with CAN XL).
 *
 * The sender writes one fixed frame (so that every frame has the same bit
 * length: the theoretical rate is one number, see bench.sh) on a blocking
 * socket whose buffer, smaller than the interface's queue, keeps the node's
 * mailboxes full without ENOBUFS. The receiver reads one frame at a time
 * and stamps each with the real time it read it (a stamp per batch would
 * date a batch's first frames late, and a run would seem to beat the
 * theory), and takes the bus's end-of-frame time from its timestamp
 * (SO_TIMESTAMPNS). Printed, as one line of JSON:
 *   fps         frames per second of real time at the receiver: the frames
 *               after the first over the real time from the first one's end
 *               on the bus to the last one's reading. No frame is read
 *               before its end, so this can beat the theory only if the
 *               bus clock (bus_fps) does: a fast bus, not noise
 *   fps_slope   the least-squares slope of every frame's read time against
 *               its number: a trend in lateness over the run (a slow
 *               start) tilts it, either way, by about 1e-4
 *   fps_ends    from the first and the last read alone
 *   bus_fps     the same on the bus clock (the frames' timestamps)
 *   lateness_us real time of reading minus the frame's end on the bus, never
 *               clamped: a negative one is a frame read before its end
 *   gap_us      real time between one frame's reading and the next's
 *   bus_gap_us  the same on the bus clock
 * Every frame written must arrive, once: otherwise exit 1, no figures.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>

#include <stddef.h>

#include "bench.h"

#ifndef CANFD_FDF
#define CANFD_FDF	0x04
#endif

static struct {
	const char *tx, *rx, *label;
	int fd;
	unsigned int xl;		/* an XL frame of this many bytes */
	unsigned int seconds;
	_Atomic uint64_t sent;
	_Atomic int done;
} sat = { .seconds = 5 };

/* The frame: Classical or FD in a canfd_frame, else XL; its size. */
static size_t fixed_frame_xl(struct canxl_frame *x)
{
	memset(x, 0, sizeof(*x));
	x->prio = 0x123;
	x->flags = CANXL_XLF;
	x->len = sat.xl;
	for (unsigned int i = 0; i < sat.xl; i++)
		x->data[i] = (uint8_t)(i * 37 + 11);
	return offsetof(struct canxl_frame, data) + sat.xl;
}

static void fixed_frame(struct canfd_frame *cf)
{
	static const uint8_t cc[8] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67 };

	memset(cf, 0, sizeof(*cf));
	cf->can_id = 0x123;
	if (sat.fd) {
		cf->len = CANFD_MAX_DLEN;
		cf->flags = CANFD_BRS;
		for (unsigned int i = 0; i < CANFD_MAX_DLEN; i++)
			cf->data[i] = (uint8_t)(i * 37 + 11);
	} else {
		cf->len = sizeof(cc);
		memcpy(cf->data, cc, sizeof(cc));
	}
}

static void *tx_main(void *arg)
{
	size_t mtu = sat.fd ? CANFD_MTU : CAN_MTU;
	uint64_t end = bench_ns(CLOCK_MONOTONIC) + sat.seconds * 1000000000ull;
	static struct canxl_frame x;
	struct canfd_frame cf;
	int s = *(int *)arg;
	void *frame = &cf;

	fixed_frame(&cf);
	if (sat.xl) {
		mtu = fixed_frame_xl(&x);
		frame = &x;
	}
	while (bench_ns(CLOCK_MONOTONIC) < end) {
		if (write(s, frame, mtu) == (ssize_t)mtu)
			atomic_fetch_add(&sat.sent, 1);
		else if (errno == ENOBUFS)
			usleep(100);	/* not expected: txqueuelen too small */
		else
			bench_die("%s: write: %m", sat.label);
	}
	atomic_store(&sat.done, 1);
	return NULL;
}

/* The least-squares ns per frame of @t[i] against i. */
static double slope_ns(const uint64_t *t, uint64_t n)
{
	double mi = (n - 1) / 2.0, mt = 0, num = 0, den = 0;

	for (uint64_t i = 0; i < n; i++)
		mt += (double)(t[i] - t[0]);
	mt /= n;
	for (uint64_t i = 0; i < n; i++) {
		num += (i - mi) * ((double)(t[i] - t[0]) - mt);
		den += (i - mi) * (i - mi);
	}
	return num / den;
}

static void usage(void)
{
	fprintf(stderr, "usage: saturate --tx [NS/]IF --rx [NS/]IF --seconds S [--fd | --xl LEN] [--label TEXT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tx", required_argument, NULL, 't' },
		{ "rx", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "fd", no_argument, NULL, 'f' },
		{ "xl", required_argument, NULL, 'x' },
		{ "label", required_argument, NULL, 'l' },
		{ 0 }
	};
	static struct canxl_frame frame, want;
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctrl;
	uint64_t n = 0, since = 0, cap, *rx_ns, *bus_ns;
	int64_t *late, *gap, *bus_gap;
	size_t size = 0;
	int c, ts, rs;
	pthread_t thread;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': sat.tx = optarg; break;
		case 'r': sat.rx = optarg; break;
		case 's': sat.seconds = strtoul(optarg, NULL, 0); break;
		case 'f': sat.fd = 1; break;
		case 'x': sat.xl = strtoul(optarg, NULL, 0); break;
		case 'l': sat.label = optarg; break;
		default: usage();
		}
	}
	if (!sat.tx || !sat.rx || !sat.seconds || optind != argc ||
	    (sat.xl && (sat.fd || sat.xl > CANXL_MAX_DLEN)))
		usage();
	if (!sat.label)
		sat.label = sat.tx;
	/* 20 000 frames/s is beyond any CAN FD bus at 8 Mbit/s. */
	cap = 20000ull * sat.seconds;
	rx_ns = calloc(cap, sizeof(*rx_ns));
	bus_ns = calloc(cap, sizeof(*bus_ns));
	late = calloc(cap, sizeof(*late));
	gap = calloc(cap, sizeof(*gap));
	bus_gap = calloc(cap, sizeof(*bus_gap));
	if (!rx_ns || !bus_ns || !late || !gap || !bus_gap)
		bench_die("memory: %m");
	if (sat.xl) {
		size = fixed_frame_xl(&want);
	} else {
		fixed_frame((struct canfd_frame *)&want);
		size = sat.fd ? CANFD_MTU : CAN_MTU;
	}

	rs = bench_socket(sat.rx, sat.fd, 1, 0);
	ts = bench_socket(sat.tx, sat.fd, 0, 0);
	if (sat.xl && (bench_xl_frames(rs) || bench_xl_frames(ts)))
		bench_die("%s: CAN_RAW_XL_FRAMES: %m", sat.label);
	if (pthread_create(&thread, NULL, tx_main, &ts))
		bench_die("thread: %m");

	while (!atomic_load(&sat.done) || n < atomic_load(&sat.sent)) {
		int ready = bench_await(rs, n < atomic_load(&sat.sent), &since);
		uint64_t now;
		int got;

		if (ready < 0)
			bench_die("%s: frames written and not arrived for 5 s: %llu of %llu arrived",
				  sat.label, (unsigned long long)n,
				  (unsigned long long)atomic_load(&sat.sent));
		if (!ready)
			continue;
		/* Every frame waiting, each read and stamped on its own. */
		for (;;) {
			struct iovec iov = { &frame, sizeof(frame) };
			struct msghdr msg = {
				.msg_iov = &iov, .msg_iovlen = 1,
				.msg_control = ctrl.buf,
				.msg_controllen = sizeof(ctrl.buf),
			};
			struct msghdr *m = &msg;
			struct cmsghdr *cm;
			uint64_t stamp = 0;

			got = recvmsg(rs, &msg, MSG_DONTWAIT);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (got < 0)
				bench_die("%s: read: %m", sat.label);
			now = bench_ns(CLOCK_REALTIME);
			if (n == cap)
				bench_die("%s: more than %llu frames", sat.label,
					  (unsigned long long)cap);
			/* Linux 6.2 and later mark CAN FD frames (FDF) on receive. */
			if (!sat.xl)
				((struct canfd_frame *)&frame)->flags &= ~CANFD_FDF;
			if (got != (int)size || memcmp(&frame, &want, size))
				bench_die("%s: frame %llu is not the frame sent",
					  sat.label, (unsigned long long)n);
			for (cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
				struct timespec t;

				if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
					memcpy(&t, CMSG_DATA(cm), sizeof(t));
					stamp = t.tv_sec * 1000000000ull + t.tv_nsec;
				}
			}
			if (!stamp)
				bench_die("%s: frame %llu has no timestamp", sat.label,
					  (unsigned long long)n);
			rx_ns[n] = now;
			bus_ns[n] = stamp;
			late[n] = (int64_t)(now - stamp);
			if (n) {
				gap[n - 1] = (int64_t)(now - rx_ns[n - 1]);
				bus_gap[n - 1] = (int64_t)(stamp - bus_ns[n - 1]);
			}
			n++;
		}
	}
	pthread_join(thread, NULL);
	if (n < 2)
		bench_die("%s: %llu frames", sat.label, (unsigned long long)n);
	printf("{\"label\": \"%s\", \"fd\": %d, \"frames\": %llu, \"seconds\": %.6f, "
	       "\"fps\": %.3f, \"fps_slope\": %.3f, \"fps_ends\": %.3f, \"bus_fps\": %.3f, ",
	       sat.label, sat.fd,
	       (unsigned long long)n, (rx_ns[n - 1] - rx_ns[0]) / 1e9,
	       (n - 1) * 1e9 / (rx_ns[n - 1] - bus_ns[0]),
	       1e9 / slope_ns(rx_ns, n),
	       (n - 1) * 1e9 / (rx_ns[n - 1] - rx_ns[0]),
	       (n - 1) * 1e9 / (bus_ns[n - 1] - bus_ns[0]));
	bench_print_pct_signed(stdout, "lateness_us", late, n);
	printf(", ");
	bench_print_pct_signed(stdout, "gap_us", gap, n - 1);
	printf(", ");
	bench_print_pct_signed(stdout, "bus_gap_us", bus_gap, n - 1);
	printf("}\n");
	free(rx_ns);
	free(bus_ns);
	free(late);
	free(gap);
	free(bus_gap);
	return 0;
}
