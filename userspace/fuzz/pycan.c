// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: pycan_decode() of any datagram.
 *
 * A frame the decoder takes must be one the bus takes (vcb_frame_check()),
 * and what the bridge would send for it must decode to the very same
 * frame: otherwise a frame changes on its way through two bridges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pycan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every field, and all 64 data bytes: the decoder leaves none stale. */
static bool same_frame(const struct vcb_frame *a, const struct vcb_frame *b)
{
	return a->fd == b->fd && a->cf.can_id == b->cf.can_id &&
	       a->cf.len == b->cf.len && a->cf.flags == b->cf.flags &&
	       a->cf.__res0 == b->cf.__res0 && a->cf.__res1 == b->cf.__res1 &&
	       !memcmp(a->cf.data, b->cf.data, sizeof(a->cf.data));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[PYCAN_DATAGRAM_MAX], again[PYCAN_DATAGRAM_MAX];
	struct vcb_frame f, g;
	ssize_t n, m;

	if (pycan_decode(data, size, &f))
		return 0;
	if (vcb_frame_check(&f))
		abort();
	/* A fixed timestamp: the encoding is then a function of the frame. */
	n = pycan_encode(&f, 1700000000.5, "vcan0", buf, sizeof(buf));
	if (n <= 0)
		abort();
	if (pycan_decode(buf, n, &g) || !same_frame(&f, &g))
		abort();
	m = pycan_encode(&g, 1700000000.5, "vcan0", again, sizeof(again));
	if (m != n || memcmp(buf, again, n))
		abort();
	return 0;
}
