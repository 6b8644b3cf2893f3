// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <string.h>

#include "stats.h"

bool vcb_stats_json;

/* JSON: the port whose object is open ("" before the first). */
static char json_port[160];

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* Opens @port's object, closing the one before if it is another. */
static void json_key(FILE *out, const char *port, const char *name)
{
	if (strcmp(port, json_port)) {
		fputs(*json_port ? "}, " : "", out);
		json_string(out, port);
		fputs(": {", out);
		snprintf(json_port, sizeof(json_port), "%s", port);
	} else {
		fputs(", ", out);
	}
	json_string(out, name);
	fputs(": ", out);
}

void vcb_stats_begin(FILE *out)
{
	if (vcb_stats_json) {
		fputc('{', out);
		json_port[0] = '\0';
	}
}

void vcb_stats_end(FILE *out)
{
	/* Text: where a reader of the log knows the report is complete. */
	if (vcb_stats_json)
		fputs(*json_port ? "}}\n" : "}\n", out);
	else
		fputs("vcanbridge: end of statistics\n", out);
	fflush(out);
}

void vcb_stat(FILE *out, const char *port, const char *name, uint64_t value)
{
	if (vcb_stats_json) {
		json_key(out, port, name);
		fprintf(out, "%llu", (unsigned long long)value);
		return;
	}
	fprintf(out, "%s: %s %llu\n", port, name, (unsigned long long)value);
}

void vcb_stat_str(FILE *out, const char *port, const char *name, const char *value)
{
	if (vcb_stats_json) {
		json_key(out, port, name);
		json_string(out, value);
		return;
	}
	fprintf(out, "%s: %s %s\n", port, name, value);
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
