/* SPDX-License-Identifier: GPL-2.0 */
/* Messages on stderr (the journal, under systemd), "vcanbridge: ..." */
#ifndef VCB_LOG_H
#define VCB_LOG_H

#include <stdbool.h>

extern bool vcb_verbose;

void vcb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vcb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vcb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
