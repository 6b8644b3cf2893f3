/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VCB_OPTIONS_H
#define VCB_OPTIONS_H

#include "bridge.h"

#define VCB_MAX_UDP	8

struct vcb_options {
	struct vcb_can_config can;
	struct vcb_udp_config udp[VCB_MAX_UDP];
	unsigned int nudp;
	struct vcb_tcp_config tcp;
};

/* 0: run with @o; 1: done (--help, --version); -1: bad usage (said why). */
int vcb_options_parse(int argc, char **argv, struct vcb_options *o);

#endif
