// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

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
