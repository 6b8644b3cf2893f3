/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CAN ID filters in candump's syntax, matched as the kernel's CAN_RAW
 * sockets match theirs: which frames go to the bus, and which from it.
 */
#ifndef VCB_FILTER_H
#define VCB_FILTER_H

#include <stdbool.h>
#include <linux/can.h>

#define VCB_MAX_FILTERS	32

struct vcb_filters {
	unsigned int n;			/* 0: every frame passes */
	struct can_filter f[VCB_MAX_FILTERS];
};

/*
 * Adds the comma-separated filters of @s to @fl: "ID:MASK" passes a frame
 * whose (can_id & MASK) == (ID & MASK), "ID~MASK" one where they differ;
 * an ID of 8 hex digits means the extended format, as in candump. On a
 * bad filter says why on stderr, naming @what, and returns -1.
 */
int vcb_filters_parse(struct vcb_filters *fl, const char *what, const char *s);
/* Does a frame with @can_id pass (any filter matches)? */
bool vcb_filters_match(const struct vcb_filters *fl, canid_t can_id);

#endif
