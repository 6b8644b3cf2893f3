// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop: one epoll set, the object behind each fd in
 * event.data.ptr, level-triggered. After each batch of events every port
 * flushes, so frames read in one batch go out together (sendmmsg, full
 * cannelloni packets) without waiting for a timer.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"

#define VCB_EVENTS	32

static int epfd = -1;
static volatile int running;
static struct vcb_port *ports;

int vcb_loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -errno : 0;
}

int vcb_loop_add(struct vcb_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, src->fd, &ev) ? -errno : 0;
}

int vcb_loop_mod(struct vcb_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, src->fd, &ev) ? -errno : 0;
}

void vcb_loop_del(struct vcb_source *src)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

void vcb_loop_stop(void)
{
	running = 0;
}

int vcb_loop_run(void)
{
	struct epoll_event ev[VCB_EVENTS];
	int n;

	running = 1;
	while (running) {
		n = epoll_wait(epfd, ev, VCB_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			vcb_err("epoll_wait: %m");
			return -1;
		}
		for (int i = 0; i < n && running; i++) {
			struct vcb_source *src = ev[i].data.ptr;

			src->handle(src, ev[i].events);
		}
		vcb_flush_all();
	}
	return 0;
}

int vcb_timer_arm(int fd, unsigned int ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = ms / 1000,
		.it_value.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

uint64_t vcb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vcb_port_register(struct vcb_port *port)
{
	struct vcb_port **p = &ports;

	/* In the order they were set up: the CAN side first. */
	while (*p)
		p = &(*p)->next;
	port->next = NULL;
	*p = port;
}

void vcb_deliver(const struct vcb_frame *f, const void *origin)
{
	if (!vcb_can_take(f, origin))
		vcb_relay(f, origin);
}

void vcb_relay(const struct vcb_frame *f, const void *origin)
{
	for (struct vcb_port *p = ports; p; p = p->next)
		if (p->send)
			p->send(p, f, origin);
}

void vcb_flush_all(void)
{
	for (struct vcb_port *p = ports; p; p = p->next)
		if (p->flush)
			p->flush(p);
}

void vcb_report_all(FILE *out)
{
	vcb_stats_begin(out);
	for (struct vcb_port *p = ports; p; p = p->next)
		p->report(p, out);
	vcb_stat(out, "log", "lines_left_out", vcb_log_suppressed());
	vcb_stats_end(out);
}

void vcb_close_all(void)
{
	struct vcb_port *p = ports, *next;

	ports = NULL;
	for (; p; p = next) {
		next = p->next;
		p->close(p);
	}
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
}
