/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VCB_OPTIONS_H
#define VCB_OPTIONS_H

#include <stdio.h>

#include "bridge.h"

#define VCB_MAX_UDP	8

struct vcb_options {
	struct vcb_can_config can;
	struct vcb_udp_config udp[VCB_MAX_UDP];
	unsigned int nudp;
	struct vcb_tcp_config tcp;
	struct vcb_cpg_config cpg;
};

/* 0: run with @o; 1: done (--help, --version, --ip-allow); -1: bad usage
 * (said why). */
int vcb_options_parse(int argc, char **argv, struct vcb_options *o);

/*
 * The addresses the bridge talks to with @o, space-separated on one line,
 * as systemd's IPAddressAllow= takes them: "any" when a link takes
 * datagrams from anyone, an empty line for loopback only. -1 when a name
 * does not resolve (said why).
 */
int vcb_ip_allow(const struct vcb_options *o, FILE *out);

#endif
