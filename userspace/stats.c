// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

void vcb_stat(FILE *out, const char *port, const char *name, uint64_t value)
{
	fprintf(out, "%s: %s %llu\n", port, name, (unsigned long long)value);
}

void vcb_stat_bad(FILE *out, const char *port, const struct vcb_bad_counts *bad)
{
	char name[32];

	for (int i = VCB_OK + 1; i < VCB_BAD_MAX; i++) {
		if (!bad->n[i])
			continue;
		snprintf(name, sizeof(name), "bad_%s", vcb_bad_name(i));
		vcb_stat(out, port, name, bad->n[i]);
	}
}
