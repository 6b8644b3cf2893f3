/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters: each port keeps its own and prints them as "port: name value"
 * lines, on SIGUSR1 and at exit.
 */
#ifndef VCB_STATS_H
#define VCB_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "frame.h"

/* What came in from the network and was refused, by reason. */
struct vcb_bad_counts {
	uint64_t n[VCB_BAD_MAX];
};

void vcb_stat(FILE *out, const char *port, const char *name, uint64_t value);
/* One line per reason that happened: "port: bad_<reason> N". */
void vcb_stat_bad(FILE *out, const char *port, const struct vcb_bad_counts *bad);

#endif
