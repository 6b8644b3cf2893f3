/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcanbridge: one CAN interface, any number of network transports. Every
 * frame that comes in from one port (the CAN socket, a UDP group, a TCP
 * peer, a corosync group) goes out to all the others, in the order it came
 * in.
 */
#ifndef VCB_BRIDGE_H
#define VCB_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "access.h"
#include "filter.h"
#include "frame.h"
#include "stats.h"

/* The structure that has @ptr as its @member. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- the event loop (loop.c) ---- */

struct vcb_source {
	int fd;
	void (*handle)(struct vcb_source *src, uint32_t events);
};

int vcb_loop_init(void);
int vcb_loop_add(struct vcb_source *src, uint32_t events);
int vcb_loop_mod(struct vcb_source *src, uint32_t events);
void vcb_loop_del(struct vcb_source *src);
/* Runs until vcb_loop_stop(); flushes every port after each batch. */
int vcb_loop_run(void);
void vcb_loop_stop(void);
/* A timerfd armed for @ms milliseconds from now (0: disarmed). */
int vcb_timer_arm(int fd, unsigned int ms);

/* Armed for *@ms, and the next wait twice as long, up to @max. */
static inline void vcb_timer_backoff(int fd, unsigned int *ms, unsigned int max)
{
	vcb_timer_arm(fd, *ms);
	*ms = *ms > max / 2 ? max : *ms * 2;
}
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t vcb_now_ms(void);

/* ---- ports: where frames go out ---- */

struct vcb_port {
	const char *name;
	/*
	 * @f came in through @origin (a port, or a TCP peer of a port): the
	 * network links' way out. The CAN side has none: it takes frames
	 * with vcb_can_take().
	 */
	void (*send)(struct vcb_port *port, const struct vcb_frame *f,
		     const void *origin);
	/* The end of a batch: write out what send() gathered. */
	void (*flush)(struct vcb_port *port);
	/* The statistics the port prints. */
	void (*report)(struct vcb_port *port, FILE *out);
	void (*close)(struct vcb_port *port);
	struct vcb_port *next;
};

void vcb_port_register(struct vcb_port *port);
/*
 * A frame from the network: to the bus, and on to the other links when
 * the bus carried it; at once if the bus does not take it.
 */
void vcb_deliver(const struct vcb_frame *f, const void *origin);
/* To every network link but @origin's. */
void vcb_relay(const struct vcb_frame *f, const void *origin);
void vcb_flush_all(void);
void vcb_report_all(FILE *out);
void vcb_close_all(void);

/* ---- the CAN side (canport.c) ---- */

struct vcb_can_config {
	const char *ifname;
	bool error_frames;		/* error frames both ways */
	struct vcb_filters to_bus;	/* which frames the bus gets */
	struct vcb_filters from_bus;	/* which of its frames go out */
	unsigned int queue;		/* frames waiting for the bus, at most */
	unsigned int bus_timeout_ms;	/* a bus that took nothing for that
					 * long is stalled (busqueue.h) */
	unsigned int bitrate;		/* 0: leave the interface as it is */
};

int vcb_can_open(const struct vcb_can_config *cfg);
const char *vcb_can_ifname(void);
/* Is the queue to the bus too full to take a burst? (TCP stops reading) */
bool vcb_can_congested(void);
/* Frames the queue to the bus still takes. */
unsigned int vcb_can_room(void);
/* Queues @f (from @origin) for the bus; false if the bus does not take it. */
bool vcb_can_take(const struct vcb_frame *f, const void *origin);
/* @origin (a TCP peer) is gone: the queue stops naming it. */
void vcb_can_forget(const void *origin);
/* The most frames a second the bus carries (from its bit rate). */
unsigned int vcb_can_frame_rate(void);
/* Called by the CAN side when its queue drained below the low mark. */
void vcb_tcp_resume(void);
void vcb_cpg_resume(void);

/* ---- transports ---- */

enum vcb_format { VCB_FORMAT_PYCAN, VCB_FORMAT_CANNELLONI, VCB_FORMAT_MAX };

/* "pycan", "cannelloni"; and the format named by the @len bytes at @s, or -1. */
const char *vcb_format_name(enum vcb_format format);
int vcb_format_lookup(const char *s, size_t len);

struct vcb_udp_config {
	enum vcb_format format;
	const char *group;		/* multicast group, or the unicast peer
					 * (then only it may send) */
	struct vcb_allow allow;		/* sources; empty: anyone */
	unsigned int port;
	unsigned int hops;
	const char *ifname;		/* outgoing interface, NULL: the route's */
	unsigned int mtu;		/* cannelloni: datagram payload, at most */
	unsigned int rate;		/* frames/s taken in, 0: the bus's */
};

int vcb_udp_open(const struct vcb_udp_config *cfg);

struct vcb_tcp_config {
	const char *listen;		/* [ADDR:]PORT or NULL */
	const char *connect;		/* HOST:PORT or NULL */
	struct vcb_allow allow;		/* the hub's peers; empty: anyone, on
					 * a loopback address only */
	struct sockaddr_storage listen_addr;
	socklen_t listen_len;
	unsigned int out_limit;		/* bytes queued per peer, at most */
	unsigned int max_peers;		/* a hub's peers, at most */
	unsigned int per_source;	/* of them from one address, at most */
	unsigned int greeting_ms;	/* a peer that has not greeted by then
					 * is dropped */
};

int vcb_tcp_open(const struct vcb_tcp_config *cfg);

/*
 * Frames in one corosync message, at most: the queue to the bus, while
 * not congested, always has room for one (--queue is at least four).
 */
#define VCB_CPG_MSG_FRAMES	256

struct vcb_cpg_config {
	const char *group;		/* the CPG group's name, NULL: none */
	unsigned int queue;		/* frames waiting for corosync, at most */
};

int vcb_cpg_open(const struct vcb_cpg_config *cfg);

/* A printable "addr:port" for logs. */
const char *vcb_addr_str(const struct sockaddr *sa, char *buf, size_t size);

#endif
