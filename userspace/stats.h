/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters: each port keeps its own and prints them as "port: name value"
 * lines, on SIGUSR1 and at exit, or with --json as one JSON object a
 * report, {"port": {"name": value, ...}, ...}, on one line.
 */
#ifndef VCB_STATS_H
#define VCB_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "frame.h"

/* What came in from the network and was refused, by reason. */
struct vcb_bad_counts {
	uint64_t n[VCB_BAD_MAX];
};

extern bool vcb_stats_json;

/* Around one report: a JSON object's braces, or the text's last line. */
void vcb_stats_begin(FILE *out);
void vcb_stats_end(FILE *out);
void vcb_stat(FILE *out, const char *port, const char *name, uint64_t value);
void vcb_stat_str(FILE *out, const char *port, const char *name, const char *value);
/* One line per reason that happened: "port: bad_<reason> N". */
void vcb_stat_bad(FILE *out, const char *port, const struct vcb_bad_counts *bad);

#endif
