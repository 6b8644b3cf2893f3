/* SPDX-License-Identifier: GPL-2.0 */
/* Messages on stderr (the journal, under systemd), "vcanbridge: ..." */
#ifndef VCB_LOG_H
#define VCB_LOG_H

#include <stdbool.h>

extern bool vcb_verbose;

void vcb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vcb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vcb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A line about one peer (joined, refused, dropped): at most
 * VCB_LOG_BURST of them per VCB_LOG_WINDOW_S seconds, then one line that
 * says how many were left out, so an accept storm cannot flood the journal.
 */
#define VCB_LOG_BURST		10
#define VCB_LOG_WINDOW_S	5
void vcb_info_limited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Lines vcb_info_limited() left out, in all. */
unsigned long vcb_log_suppressed(void);

#endif
