// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

bool vcb_verbose;

static void vcb_log(const char *fmt, va_list ap)
{
	fputs("vcanbridge: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void vcb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcb_log(fmt, ap);
	va_end(ap);
}

void vcb_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcb_log(fmt, ap);
	va_end(ap);
}

void vcb_debug(const char *fmt, ...)
{
	va_list ap;

	if (!vcb_verbose)
		return;
	va_start(ap, fmt);
	vcb_log(fmt, ap);
	va_end(ap);
}

static struct {
	time_t window;			/* start, CLOCK_MONOTONIC seconds */
	unsigned int lines;		/* printed in this window */
	unsigned long left_out;		/* in this window */
	unsigned long total;
} limit;

void vcb_info_limited(const char *fmt, ...)
{
	struct timespec now;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - limit.window >= VCB_LOG_WINDOW_S) {
		if (limit.left_out)
			fprintf(stderr, "vcanbridge: %lu more such lines left out in %d s\n",
				limit.left_out, VCB_LOG_WINDOW_S);
		limit.window = now.tv_sec;
		limit.lines = 0;
		limit.left_out = 0;
	}
	if (limit.lines == VCB_LOG_BURST) {
		limit.left_out++;
		limit.total++;
		return;
	}
	limit.lines++;
	va_start(ap, fmt);
	vcb_log(fmt, ap);
	va_end(ap);
}

unsigned long vcb_log_suppressed(void)
{
	return limit.total;
}
