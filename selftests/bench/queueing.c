// SPDX-License-Identifier: GPL-2.0
/*
 * queueing: several senders share a bus in wire timing, each on its own
 * node with its own identifier, frames arriving at random (a Poisson
 * process at each sender's rate); how long each identifier's frames wait
 * for the bus.
 *
 *   queueing --seconds S --tx [NS/]IF:ID:FPS:NS [--tx ...] [--rx IF]
 *
 * ID is the sender's (base format) identifier, FPS its mean frame rate, NS
 * its frame's exact wire time (the frame is fixed: see bench.sh). A frame's
 * queueing delay is the start of its frame on the bus (the end, from the
 * echo's timestamp, minus NS) minus the real time it was written: the wait
 * for its own node's earlier frames and for the arbitrations it lost.
 * Every frame written must come back as its echo: otherwise exit 1.
 *
 * --rx IF: a receiving node, read by a socket of its own: it must get every
 * frame of every sender (else exit 1), and each frame's lateness, its read
 * time minus its end on the bus (the receive timestamp), is reported. It
 * may be negative: a frame read before its end would be a bug to show.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench.h"

#define MAX_TX		16

struct sender {
	const char *spec;
	canid_t id;
	double fps;
	uint64_t wire_ns;
	int sock;
	pthread_t tx, rx;
	uint64_t *sent_ns, *delay_ns;	/* per frame */
	uint64_t cap;
	_Atomic uint64_t sent;
	_Atomic int done;	/* its writer has written its last frame */
	uint64_t echoed, enobufs;
	const char *error;
};

static struct sender senders[MAX_TX];
static unsigned int nsenders, seconds = 10;
static _Atomic int stop;

/* --rx: the receiving node's socket and what it read. */
static struct {
	const char *spec;
	int sock;
	pthread_t thread;
	int64_t *late_ns;
	uint64_t cap, frames;
	const char *error;
} rx;

static void frame_of(const struct sender *t, struct can_frame *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->can_id = t->id;
	cf->len = 8;
	memcpy(cf->data, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
}

static void *tx_main(void *arg)
{
	struct sender *t = arg;
	unsigned short rnd[3] = { (unsigned short)t->id, 0x5eed, 7 };
	uint64_t at = bench_ns(CLOCK_MONOTONIC);
	struct can_frame cf;
	struct timespec ts;

	frame_of(t, &cf);
	while (!atomic_load(&stop)) {
		uint64_t k = atomic_load(&t->sent);

		/* Exponential gaps: a Poisson arrival process at t->fps. */
		at += (uint64_t)(-log(1.0 - erand48(rnd)) / t->fps * 1e9);
		ts.tv_sec = at / 1000000000ull;
		ts.tv_nsec = at % 1000000000ull;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (k == t->cap)
			bench_die("%s: more than %llu frames", t->spec,
				  (unsigned long long)t->cap);
		/* Counted before the write: its echo may come back first. */
		t->sent_ns[k] = bench_ns(CLOCK_REALTIME);
		atomic_store(&t->sent, k + 1);
		while (write(t->sock, &cf, CAN_MTU) != CAN_MTU) {
			if (errno != ENOBUFS)
				bench_die("%s: write: %m", t->spec);
			t->enobufs++;
			usleep(100);	/* not expected: txqueuelen too small */
		}
	}
	atomic_store(&t->done, 1);
	return NULL;
}

/* Reads the echoes: the k-th echo is the k-th frame written (FIFO node). */
static void *rx_main(void *arg)
{
	struct sender *t = arg;
	char ctrl[CMSG_SPACE(sizeof(struct timespec))];
	struct can_frame cf;
	struct iovec iov = { &cf, sizeof(cf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint64_t since = 0;

	while (!atomic_load(&t->done) || t->echoed < atomic_load(&t->sent)) {
		struct cmsghdr *cm;
		uint64_t end = 0;
		int ready = bench_await(t->sock, t->echoed < atomic_load(&t->sent),
					&since);

		if (ready < 0) {
			t->error = "a frame not echoed for 5 s";
			return NULL;
		}
		if (!ready)
			continue;
		m.msg_control = ctrl;
		m.msg_controllen = sizeof(ctrl);
		if (recvmsg(t->sock, &m, 0) != CAN_MTU || !(m.msg_flags & MSG_CONFIRM) ||
		    cf.can_id != t->id) {
			t->error = "a frame that is not its echo";
			return NULL;
		}
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct timespec ts;

			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				end = ts.tv_sec * 1000000000ull + ts.tv_nsec;
			}
		}
		if (!end || t->echoed >= atomic_load(&t->sent)) {
			t->error = "an echo without timestamp, or before its write";
			return NULL;
		}
		/* Written just after the driver queued it: never below 0. */
		end -= t->wire_ns;
		t->delay_ns[t->echoed] = end > t->sent_ns[t->echoed] ?
					 end - t->sent_ns[t->echoed] : 0;
		t->echoed++;
	}
	return NULL;
}

/* Frames written and not yet read by the receiver; all written: *@all. */
static uint64_t rx_outstanding(int *all)
{
	uint64_t sent = 0;

	*all = 1;
	for (unsigned int i = 0; i < nsenders; i++) {
		*all &= atomic_load(&senders[i].done);
		sent += atomic_load(&senders[i].sent);
	}
	return sent > rx.frames ? sent - rx.frames : 0;
}

/* Reads every frame on the receiving node, with its lateness. */
static void *rx_node_main(void *arg)
{
	char ctrl[CMSG_SPACE(sizeof(struct timespec))];
	struct can_frame cf;
	struct iovec iov = { &cf, sizeof(cf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint64_t since = 0;
	int all;

	(void)arg;
	for (;;) {
		uint64_t left = rx_outstanding(&all), end = 0, now;
		struct cmsghdr *cm;
		int ready;

		if (all && !left)
			return NULL;
		ready = bench_await(rx.sock, left > 0, &since);
		if (ready < 0) {
			rx.error = "frames not received for 5 s";
			return NULL;
		}
		if (!ready)
			continue;
		m.msg_control = ctrl;
		m.msg_controllen = sizeof(ctrl);
		if (recvmsg(rx.sock, &m, 0) != CAN_MTU) {
			rx.error = "a read that is no Classical frame";
			return NULL;
		}
		now = bench_ns(CLOCK_REALTIME);
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct timespec ts;

			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				end = ts.tv_sec * 1000000000ull + ts.tv_nsec;
			}
		}
		if (!end || rx.frames == rx.cap) {
			rx.error = "a frame without timestamp, or more than were sent";
			return NULL;
		}
		rx.late_ns[rx.frames++] = (int64_t)(now - end);
	}
}

static void add_sender(char *arg)
{
	struct sender *t = &senders[nsenders];
	char *id = strchr(arg, ':'), *fps, *ns;

	if (nsenders == MAX_TX)
		bench_die("at most %d senders", MAX_TX);
	fps = id ? strchr(id + 1, ':') : NULL;
	ns = fps ? strchr(fps + 1, ':') : NULL;
	if (!ns)
		bench_die("--tx %s: want [NS/]IF:ID:FPS:NS", arg);
	*id++ = *fps++ = *ns++ = '\0';
	t->spec = arg;
	t->id = strtoul(id, NULL, 16) & CAN_SFF_MASK;
	t->fps = strtod(fps, NULL);
	t->wire_ns = strtoull(ns, NULL, 0);
	if (t->fps <= 0 || !t->wire_ns)
		bench_die("--tx %s: rate and wire time must be positive", arg);
	nsenders++;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--tx") && i + 1 < argc)
			add_sender(argv[++i]);
		else if (!strcmp(argv[i], "--rx") && i + 1 < argc)
			rx.spec = argv[++i];
		else
			bench_die("usage: queueing --seconds S --tx [NS/]IF:ID:FPS:NS [--tx ...] [--rx IF]");
	}
	if (!nsenders || !seconds)
		bench_die("usage: queueing --seconds S --tx [NS/]IF:ID:FPS:NS [--tx ...] [--rx IF]");

	for (unsigned int i = 0; i < nsenders; i++) {
		struct sender *t = &senders[i];
		struct can_filter own = { t->id, CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG };

		t->cap = (uint64_t)(t->fps * seconds * 2) + 1000;
		t->sent_ns = calloc(t->cap, sizeof(uint64_t));
		t->delay_ns = calloc(t->cap, sizeof(uint64_t));
		if (!t->sent_ns || !t->delay_ns)
			bench_die("memory: %m");
		t->sock = bench_socket(t->spec, 0, 0, 1);
		setsockopt(t->sock, SOL_CAN_RAW, CAN_RAW_FILTER, &own, sizeof(own));
	}
	if (rx.spec) {
		for (unsigned int i = 0; i < nsenders; i++)
			rx.cap += senders[i].cap;
		rx.late_ns = calloc(rx.cap, sizeof(int64_t));
		if (!rx.late_ns)
			bench_die("memory: %m");
		rx.sock = bench_socket(rx.spec, 0, 1, 0);
		if (pthread_create(&rx.thread, NULL, rx_node_main, NULL))
			bench_die("thread: %m");
	}
	for (unsigned int i = 0; i < nsenders; i++)
		if (pthread_create(&senders[i].rx, NULL, rx_main, &senders[i]) ||
		    pthread_create(&senders[i].tx, NULL, tx_main, &senders[i]))
			bench_die("thread: %m");
	sleep(seconds);
	atomic_store(&stop, 1);
	for (unsigned int i = 0; i < nsenders; i++) {
		pthread_join(senders[i].tx, NULL);
		pthread_join(senders[i].rx, NULL);
	}
	if (rx.spec)
		pthread_join(rx.thread, NULL);

	printf("{\"seconds\": %u, \"ids\": [", seconds);
	for (unsigned int i = 0; i < nsenders; i++) {
		struct sender *t = &senders[i];
		double sum = 0;

		if (t->error)
			bench_die("%s (ID %03X): %s: %llu of %llu frames came back",
				  t->spec, t->id, t->error, (unsigned long long)t->echoed,
				  (unsigned long long)atomic_load(&t->sent));
		for (uint64_t k = 0; k < t->echoed; k++)
			sum += t->delay_ns[k];
		printf("%s{\"id\": \"%03X\", \"fps\": %.1f, \"frames\": %llu, \"wire_ns\": %llu, "
		       "\"enobufs\": %llu, \"mean_us\": %.1f, ", i ? ", " : "", t->id,
		       t->echoed / (double)seconds, (unsigned long long)t->echoed,
		       (unsigned long long)t->wire_ns, (unsigned long long)t->enobufs,
		       t->echoed ? sum / t->echoed / 1e3 : 0.0);
		bench_print_pct(stdout, "delay_us", t->delay_ns, t->echoed);
		printf("}");
	}
	printf("]");
	if (rx.spec) {
		uint64_t sent = 0;

		for (unsigned int i = 0; i < nsenders; i++)
			sent += atomic_load(&senders[i].sent);
		if (rx.error || rx.frames != sent)
			bench_die("%s: %s: %llu of %llu frames received", rx.spec,
				  rx.error ?: "frames lost", (unsigned long long)rx.frames,
				  (unsigned long long)sent);
		printf(", \"rx\": {\"iface\": \"%s\", \"frames\": %llu, ", rx.spec,
		       (unsigned long long)rx.frames);
		bench_print_pct_signed(stdout, "lateness_us", rx.late_ns, rx.frames);
		printf("}");
	}
	printf("}\n");
	return 0;
}
