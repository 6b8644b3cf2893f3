// SPDX-License-Identifier: GPL-2.0
/*
 * vcanbridge: joins one CAN interface to other hosts over UDP (python-can's
 * udp_multicast or cannelloni's format) and TCP (cannelloni's protocol).
 * See vcanbridge.8 and docs/bridge.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"
#include "options.h"

static struct vcb_source signals;

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
	vcb_report_all(stderr);
	vcb_close_all();
	if (signals.fd > 0)
		close(signals.fd);
	return ret;
}
