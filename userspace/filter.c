// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

/* The bits af_can compares: identifier, EFF and RTR (not ERR). */
#define VCB_FILTER_BITS	(CAN_EFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG)

/* Up to 8 hex digits at @s; the end in @end, or NULL if none or more. */
static const char *hex32(const char *s, canid_t *v)
{
	char *end;
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	if (!n || n > 8)
		return NULL;
	*v = strtoul(s, &end, 16);
	return end;
}

int vcb_filters_parse(struct vcb_filters *fl, const char *what, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *sep, *end;
		struct can_filter f;
		size_t idlen;

		if (fl->n == VCB_MAX_FILTERS) {
			fprintf(stderr, "vcanbridge: %s: at most %d filters\n",
				what, VCB_MAX_FILTERS);
			return -1;
		}
		sep = hex32(p, &f.can_id);
		if (!sep || (*sep != ':' && *sep != '~'))
			goto bad;
		idlen = sep - p;
		end = hex32(sep + 1, &f.can_mask);
		if (!end || (*end && *end != ','))
			goto bad;
		f.can_mask &= ~CAN_ERR_FLAG;
		if (idlen == 8)
			f.can_id |= CAN_EFF_FLAG;
		if (*sep == '~')
			f.can_id |= CAN_INV_FILTER;
		fl->f[fl->n++] = f;
		p = end + (*end == ',');
		if (*end == ',' && !*p)
			goto bad;
	}
	if (!fl->n)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "vcanbridge: %s '%s': expected ID:MASK or ID~MASK (hex, 8 digits for an extended ID), comma-separated\n",
		what, s);
	return -1;
}

bool vcb_filters_match(const struct vcb_filters *fl, canid_t can_id)
{
	if (!fl->n)
		return true;
	for (unsigned int i = 0; i < fl->n; i++) {
		canid_t mask = fl->f[i].can_mask & VCB_FILTER_BITS;
		bool inv = fl->f[i].can_id & CAN_INV_FILTER;

		if (((can_id & mask) == (fl->f[i].can_id & mask)) != inv)
			return true;
	}
	return false;
}
