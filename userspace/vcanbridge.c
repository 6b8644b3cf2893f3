// SPDX-License-Identifier: GPL-2.0
/*
 * vcanbridge: joins one CAN interface to other hosts over UDP (python-can's
 * udp_multicast or cannelloni's format), TCP (cannelloni's protocol) and
 * corosync's closed process groups.
 * See vcanbridge.8 and docs/bridge.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bridge.h"
#include "log.h"
#include "options.h"

static struct vcb_source signals, watchdog;

/* systemd's watchdog (WatchdogSec=): a ping at half its interval. */
static void on_watchdog(struct vcb_source *src, uint32_t events)
{
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) > 0)
		sd_notify(0, "WATCHDOG=1");
}

static int watchdog_start(void)
{
	uint64_t usec;
	struct itimerspec its;

	watchdog.fd = -1;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	usec /= 2;
	its.it_value.tv_sec = its.it_interval.tv_sec = usec / 1000000;
	its.it_value.tv_nsec = its.it_interval.tv_nsec = usec % 1000000 * 1000;
	watchdog.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	watchdog.handle = on_watchdog;
	if (watchdog.fd < 0 || timerfd_settime(watchdog.fd, 0, &its, NULL) ||
	    vcb_loop_add(&watchdog, EPOLLIN)) {
		vcb_err("watchdog: %m");
		return -1;
	}
	return 0;
}

static void on_signal(struct vcb_source *src, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1)
		vcb_report_all(stderr);
	else
		vcb_loop_stop();
}

static int setup(const struct vcb_options *o)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	/* A peer that goes away must not kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) || vcb_loop_init())
		return -1;
	signals.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	signals.handle = on_signal;
	if (signals.fd < 0 || vcb_loop_add(&signals, EPOLLIN))
		return -1;
	if (vcb_can_open(&o->can))
		return -1;
	for (unsigned int i = 0; i < o->nudp; i++)
		if (vcb_udp_open(&o->udp[i]))
			return -1;
	if ((o->tcp.listen || o->tcp.connect) && vcb_tcp_open(&o->tcp))
		return -1;
	if (o->cpg.group && vcb_cpg_open(&o->cpg))
		return -1;
	if (watchdog_start())
		return -1;
	/* Under systemd (Type=notify): up, every port open. */
	sd_notifyf(0, "READY=1\nSTATUS=bridging %s", o->can.ifname);
	return 0;
}

int main(int argc, char **argv)
{
	struct vcb_options o;
	int ret;

	ret = vcb_options_parse(argc, argv, &o);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : 2;
	ret = setup(&o) || vcb_loop_run() ? EXIT_FAILURE : EXIT_SUCCESS;
	sd_notify(0, "STOPPING=1");
	vcb_report_all(stderr);
	vcb_close_all();
	if (signals.fd > 0)
		close(signals.fd);
	if (watchdog.fd > 0)
		close(watchdog.fd);
	return ret;
}
