/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the benchmark programs (selftests/bench/): sockets on an
 * interface of any network namespace, clocks, percentiles, and one way to
 * fail: a message naming what was wrong and exit status 1, so that a broken
 * measurement never reports a number.
 */
#ifndef VCANBUS_BENCH_H
#define VCANBUS_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/can.h>
#include <linux/can/raw.h>

static inline void __attribute__((noreturn, format(printf, 1, 2)))
bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline uint64_t bench_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* CAN XL frames on raw socket @s too (Linux 6.2 and later). */
static inline int bench_xl_frames(int s)
{
	int one = 1;

	return setsockopt(s, SOL_CAN_RAW, CAN_RAW_XL_FRAMES, &one, sizeof(one));
}

/*
 * A raw CAN socket on "IF" or "NETNS/IF" (a namespace made by ip netns):
 * the socket stays in the namespace it was made in. @fd: CAN FD frames;
 * @rx: a receiver (big buffer, timestamps), else a sender that takes in
 * nothing but, with @echo, its own frames back.
 */
static inline int bench_socket(const char *spec, int fd, int rx, int echo)
{
	struct sockaddr_can addr = { .can_family = AF_CAN };
	const char *ifname = strchr(spec, '/');
	int s, one = 1, buf = 32 << 20, home = -1;

	if (ifname) {
		char path[128];
		int ns;

		snprintf(path, sizeof(path), "/run/netns/%.*s",
			 (int)(ifname - spec), spec);
		home = open("/proc/self/ns/net", O_RDONLY);
		ns = open(path, O_RDONLY);
		if (home < 0 || ns < 0 || setns(ns, CLONE_NEWNET))
			bench_die("%s: network namespace %s: %m", spec, path);
		close(ns);
		ifname++;
	} else {
		ifname = spec;
	}
	s = socket(PF_CAN, SOCK_RAW, CAN_RAW);
	addr.can_ifindex = if_nametoindex(ifname);
	if (s < 0 || !addr.can_ifindex)
		bench_die("%s: no CAN interface: %m", spec);
	setsockopt(s, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &fd, sizeof(fd));
	if (rx) {
		setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
		setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	} else {
		/* Frames of other senders on its interface are none of its business. */
		setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0);
		if (echo) {
			setsockopt(s, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, &one, sizeof(one));
			setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
			setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
		}
	}
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)))
		bench_die("%s: bind: %m", spec);
	if (home >= 0 && (setns(home, CLONE_NEWNET) || close(home)))
		bench_die("back to the initial network namespace: %m");
	return s;
}

/* Frames written and not yet read for this long: they were lost. */
#define BENCH_LOST_NS	5000000000ull

/*
 * Waits up to 100 ms for @fd to have something to read, so that a reader
 * looks again at whether its writer has finished (a reader blocked for the
 * next frame would take the end of a run for a loss). @outstanding: frames
 * written and not yet read; *@since: since when the reader has waited with
 * some outstanding (0: it has not). Returns 1: readable; 0: not yet; -1:
 * frames outstanding and nothing to read for BENCH_LOST_NS.
 */
static inline int bench_await(int fd, int outstanding, uint64_t *since)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t now;

	if (poll(&p, 1, 100) > 0) {
		*since = 0;
		return 1;
	}
	if (!outstanding) {
		*since = 0;
		return 0;
	}
	now = bench_ns(CLOCK_MONOTONIC);
	if (!*since)
		*since = now;
	return now - *since < BENCH_LOST_NS ? 0 : -1;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Prints "name": {"p1": ..., "p10": ..., ..., "p99": ..., "p99.9": ...,
 * "max": ...} of @v in us: enough of the distribution to draw it. Sorts @v.
 */
static inline void bench_print_pct(FILE *out, const char *name, uint64_t *v, size_t n)
{
	static const double pct[] = { 1, 10, 25, 50, 75, 90, 95, 99, 99.9 };

	if (!n) {
		fprintf(out, "\"%s\": null", name);
		return;
	}
	qsort(v, n, sizeof(*v), bench_cmp_u64);
	fprintf(out, "\"%s\": {", name);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		fprintf(out, "\"p%g\": %.1f, ", pct[i], v[(size_t)(n * pct[i] / 100)] / 1e3);
	fprintf(out, "\"max\": %.1f}", v[n - 1] / 1e3);
}

static inline int bench_cmp_s64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The same for values that may be negative (a lateness below zero is a
 * frame read before its end on the bus: a bug to show, never clamped),
 * with "min" too. Sorts @v.
 */
static inline void bench_print_pct_signed(FILE *out, const char *name, int64_t *v, size_t n)
{
	static const double pct[] = { 1, 10, 25, 50, 75, 90, 95, 99, 99.9 };

	if (!n) {
		fprintf(out, "\"%s\": null", name);
		return;
	}
	qsort(v, n, sizeof(*v), bench_cmp_s64);
	fprintf(out, "\"%s\": {\"min\": %.1f, ", name, v[0] / 1e3);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		fprintf(out, "\"p%g\": %.1f, ", pct[i], v[(size_t)(n * pct[i] / 100)] / 1e3);
	fprintf(out, "\"max\": %.1f}", v[n - 1] / 1e3);
}

#endif /* VCANBUS_BENCH_H */
