// SPDX-License-Identifier: GPL-2.0
/*
 * flood: frames/s and one-way latency from one sender to several receivers,
 * on any CAN interfaces (vcanbus nodes, a vxcan pair, one vcan, two hosts
 * joined by vcanbridge).
 *
 *   flood --tx [NS/]IF --rx [NS/]IF [--rx ...] [--frames N] [--window W]
 *         [--rate FPS] [--fd] [--label TEXT]
 *
 * The frame mix is the same everywhere: Classical frames of 8 bytes (CAN FD
 * frames of 64 bytes with BRS under --fd), base and extended identifiers in
 * turn, carrying a sequence number and the send time. At most W frames are
 * on their way (sent, not yet read by every receiver): vcan and vxcan drop
 * what their receive backlog cannot take, so without that window a fast
 * sender measures losses, not throughput. --rate paces the sender instead
 * (for latency at a given load); the window still bounds it.
 *
 * Every receiver must get every frame, in order, once: anything else is a
 * failure (exit 1, no figures). Prints one line of JSON.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench.h"

#define MAX_RX		64
#define BATCH		64

struct receiver {
	pthread_t thread;
	const char *spec;
	int sock;
	_Atomic uint64_t got;
	uint64_t *latency;	/* ns per frame; receiver 0 only */
	const char *error;
	uint64_t bad_seq, bad_at;
	uint64_t done_ns;	/* CLOCK_MONOTONIC when it read its last frame */
};

static struct {
	uint64_t frames, window, rate;
	_Atomic uint64_t sent;	/* frames written so far */
	int fd;
	const char *label;
	unsigned int nrx;
	struct receiver rx[MAX_RX];
	pthread_mutex_t lock;
	pthread_cond_t progress;
	_Atomic int waiting;
	_Atomic int failed;
} fl = {
	.frames = 100000, .window = 256,
	.lock = PTHREAD_MUTEX_INITIALIZER, .progress = PTHREAD_COND_INITIALIZER,
};

/* Frame i: its identifier alternates between base and extended format. */
static canid_t flood_id(uint64_t i)
{
	return (i & 1) ? (0x12345 | CAN_EFF_FLAG) : 0x123;
}

static void flood_frame(struct canfd_frame *cf, uint64_t i, uint64_t now)
{
	uint32_t seq = (uint32_t)i, us = (uint32_t)(now / 1000);

	memset(cf, 0, sizeof(*cf));
	cf->can_id = flood_id(i);
	cf->len = fl.fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN;
	if (fl.fd)
		cf->flags = CANFD_BRS;
	memcpy(cf->data, &seq, sizeof(seq));
	memcpy(cf->data + 4, &us, sizeof(us));
	for (unsigned int k = 8; k < cf->len; k++)
		cf->data[k] = (uint8_t)(i + k);
}

static void wake_sender(void)
{
	if (atomic_load(&fl.waiting)) {
		pthread_mutex_lock(&fl.lock);
		pthread_cond_signal(&fl.progress);
		pthread_mutex_unlock(&fl.lock);
	}
}

static void rx_fail(struct receiver *r, const char *why, uint64_t seq, uint64_t at)
{
	r->error = why;
	r->bad_seq = seq;
	r->bad_at = at;
	atomic_store(&fl.failed, 1);
	wake_sender();
}

static void *rx_main(void *arg)
{
	struct receiver *r = arg;
	struct canfd_frame frames[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t want = 0;
	uint64_t since = 0;

	while (want < fl.frames) {
		int n, ready = bench_await(r->sock, want < atomic_load(&fl.sent), &since);

		if (ready < 0) {
			rx_fail(r, "frames written and not read for 5 s: lost", want, want);
			return NULL;
		}
		if (!ready)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ &frames[i], sizeof(frames[i]) };
			msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i],
							   .msg_iovlen = 1 };
		}
		n = recvmmsg(r->sock, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			rx_fail(r, "read failed", want, want);
			return NULL;
		}
		uint64_t now = bench_ns(CLOCK_MONOTONIC);

		for (int i = 0; i < n; i++, want++) {
			struct canfd_frame *cf = &frames[i];
			uint32_t seq, us;

			memcpy(&seq, cf->data, sizeof(seq));
			memcpy(&us, cf->data + 4, sizeof(us));
			if (seq != (uint32_t)want || cf->can_id != flood_id(want) ||
			    msgs[i].msg_len != (fl.fd ? CANFD_MTU : CAN_MTU)) {
				rx_fail(r, "a frame lost, repeated or out of order", seq, want);
				return NULL;
			}
			if (r->latency)
				r->latency[want] = (uint32_t)(now / 1000 - us) * 1000ull;
		}
		atomic_store(&r->got, want);
		r->done_ns = now;
		wake_sender();
	}
	return NULL;
}

static uint64_t slowest(void)
{
	uint64_t min = UINT64_MAX;

	for (unsigned int i = 0; i < fl.nrx; i++) {
		uint64_t g = atomic_load(&fl.rx[i].got);

		if (g < min)
			min = g;
	}
	return min;
}

/* Blocks until the window has room (or a receiver failed). */
static void await_window(uint64_t sent)
{
	if (sent - slowest() < fl.window)
		return;
	pthread_mutex_lock(&fl.lock);
	atomic_store(&fl.waiting, 1);
	while (sent - slowest() >= fl.window && !atomic_load(&fl.failed))
		pthread_cond_wait(&fl.progress, &fl.lock);
	atomic_store(&fl.waiting, 0);
	pthread_mutex_unlock(&fl.lock);
}

static uint64_t send_all(int s, uint64_t *enobufs)
{
	struct canfd_frame cf;
	size_t mtu = fl.fd ? CANFD_MTU : CAN_MTU;
	uint64_t start = bench_ns(CLOCK_MONOTONIC), i;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < fl.frames && !atomic_load(&fl.failed); i++) {
		await_window(i);
		if (fl.rate) {
			uint64_t at = start + i * 1000000000ull / fl.rate;

			next.tv_sec = at / 1000000000ull;
			next.tv_nsec = at % 1000000000ull;
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		flood_frame(&cf, i, bench_ns(CLOCK_MONOTONIC));
		while (write(s, &cf, mtu) != (ssize_t)mtu) {
			/* A full interface queue: as cangen -p does, wait a little. */
			if (errno != ENOBUFS)
				bench_die("%s: write: %m", fl.label);
			(*enobufs)++;
			usleep(20);
		}
		atomic_store_explicit(&fl.sent, i + 1, memory_order_release);
	}
	return start;
}

static void usage(void)
{
	fprintf(stderr, "usage: flood --tx [NS/]IF --rx [NS/]IF [--rx ...] [--frames N]\n"
		"             [--window W] [--rate FPS] [--fd] [--label TEXT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tx", required_argument, NULL, 't' },
		{ "rx", required_argument, NULL, 'r' },
		{ "frames", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'R' },
		{ "fd", no_argument, NULL, 'f' },
		{ "label", required_argument, NULL, 'l' },
		{ 0 }
	};
	const char *tx = NULL;
	uint64_t start, end = 0, enobufs = 0, *lat;
	int c, s;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': tx = optarg; break;
		case 'r':
			if (fl.nrx == MAX_RX)
				bench_die("at most %d receivers", MAX_RX);
			fl.rx[fl.nrx++].spec = optarg;
			break;
		case 'n': fl.frames = strtoull(optarg, NULL, 0); break;
		case 'w': fl.window = strtoull(optarg, NULL, 0); break;
		case 'R': fl.rate = strtoull(optarg, NULL, 0); break;
		case 'f': fl.fd = 1; break;
		case 'l': fl.label = optarg; break;
		default: usage();
		}
	}
	if (!tx || !fl.nrx || !fl.frames || !fl.window || optind != argc)
		usage();
	if (!fl.label)
		fl.label = tx;
	lat = calloc(fl.frames, sizeof(*lat));
	if (!lat)
		bench_die("%llu frames: %m", (unsigned long long)fl.frames);
	fl.rx[0].latency = lat;

	s = bench_socket(tx, fl.fd, 0, 0);
	for (unsigned int i = 0; i < fl.nrx; i++) {
		fl.rx[i].sock = bench_socket(fl.rx[i].spec, fl.fd, 1, 0);
		if (pthread_create(&fl.rx[i].thread, NULL, rx_main, &fl.rx[i]))
			bench_die("thread: %m");
	}
	start = send_all(s, &enobufs);
	for (unsigned int i = 0; i < fl.nrx; i++)
		pthread_join(fl.rx[i].thread, NULL);
	for (unsigned int i = 0; i < fl.nrx; i++) {
		struct receiver *r = &fl.rx[i];

		if (r->error)
			bench_die("%s: receiver %s: %s (frame %llu where %llu was due; %llu of %llu read)",
				  fl.label, r->spec, r->error,
				  (unsigned long long)r->bad_seq,
				  (unsigned long long)r->bad_at,
				  (unsigned long long)atomic_load(&r->got),
				  (unsigned long long)fl.frames);
		if (r->done_ns > end)
			end = r->done_ns;
	}

	double secs = (end - start) / 1e9;

	printf("{\"label\": \"%s\", \"frames\": %llu, \"receivers\": %u, \"fd\": %d, "
	       "\"window\": %llu, \"rate\": %llu, \"seconds\": %.6f, \"fps\": %.1f, "
	       "\"enobufs\": %llu, ", fl.label, (unsigned long long)fl.frames, fl.nrx,
	       fl.fd, (unsigned long long)fl.window, (unsigned long long)fl.rate,
	       secs, fl.frames / secs, (unsigned long long)enobufs);
	bench_print_pct(stdout, "latency_us", lat, fl.frames);
	printf("}\n");
	free(lat);
	return 0;
}
