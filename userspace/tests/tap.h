/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host unit tests' TAP: one numbered test per function, the failed
 * checks of a test as "#" lines after it; exit status 0 only if every
 * test passed. Each test program includes it once.
 */
#ifndef VCB_TAP_H
#define VCB_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct tap_test {
	void (*fn)(void);
	const char *name;
};

static bool test_ok;
static char test_ctx[96];		/* what a loop is at, for diagnostics */
static char diag_buf[8192];
static size_t diag_len;
static unsigned int diag_lines;

/* Diagnostics go after the "not ok" line: keep them until then. */
static inline void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;
	int n;

	/* A broken loop would print thousands: the first few say enough. */
	if (++diag_lines > 24 || diag_len >= sizeof(diag_buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(diag_buf + diag_len, sizeof(diag_buf) - diag_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		diag_len += (size_t)n;
	if (diag_len > sizeof(diag_buf))
		diag_len = sizeof(diag_buf);
}

static inline void __attribute__((format(printf, 1, 2))) ctx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(test_ctx, sizeof(test_ctx), fmt, ap);
	va_end(ap);
}

static inline bool fail(int line, const char *what)
{
	test_ok = false;
	diag("#   line %d%s%s%s: %s\n", line, *test_ctx ? " (" : "", test_ctx,
	     *test_ctx ? ")" : "", what);
	return false;
}

static inline bool check(bool cond, int line, const char *what)
{
	return cond ? true : fail(line, what);
}

static inline bool check_eq(long long got, long long want, int line, const char *what)
{
	char msg[256];

	if (got == want)
		return true;
	snprintf(msg, sizeof(msg), "%s: got %lld (%#llx), want %lld (%#llx)",
		 what, got, got, want, want);
	return fail(line, msg);
}

#define CHECK(cond)		check((cond), __LINE__, #cond)
#define CHECK_EQ(got, want)	check_eq((long long)(got), (long long)(want), \
					 __LINE__, #got)

static inline int tap_run(const struct tap_test *tests, size_t n)
{
	unsigned int failed = 0;

	printf("TAP version 13\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		test_ok = true;
		test_ctx[0] = 0;
		diag_len = 0;
		diag_lines = 0;
		tests[i].fn();
		printf("%sok %zu - %s\n", test_ok ? "" : "not ", i + 1, tests[i].name);
		if (diag_len)
			fwrite(diag_buf, 1, diag_len, stdout);
		if (diag_lines > 24)
			printf("#   ... %u more\n", diag_lines - 24);
		failed += !test_ok;
		fflush(stdout);
	}
	if (failed)
		printf("# %u of %zu tests failed\n", failed, n);
	return failed ? 1 : 0;
}

#endif
