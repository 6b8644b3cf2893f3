/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the cannelloni fuzz targets share: a bounded list the decoders emit
 * frames into, and whole-frame equality (every byte the kernel would see).
 */
#ifndef VCB_FUZZ_SINK_H
#define VCB_FUZZ_SINK_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

struct sink {
	struct vcb_frame *f;
	size_t n, max;
};

static inline void sink_emit(void *ctx, const struct vcb_frame *f)
{
	struct sink *s = ctx;

	if (s->n == s->max)
		abort();
	s->f[s->n++] = *f;
}

static inline bool same_frame(const struct vcb_frame *a, const struct vcb_frame *b)
{
	return a->fd == b->fd && a->cf.can_id == b->cf.can_id &&
	       a->cf.len == b->cf.len && a->cf.flags == b->cf.flags &&
	       a->cf.__res0 == b->cf.__res0 && a->cf.__res1 == b->cf.__res1 &&
	       !memcmp(a->cf.data, b->cf.data, sizeof(a->cf.data));
}

#endif
