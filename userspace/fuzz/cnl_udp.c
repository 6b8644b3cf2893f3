// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: cnl_packet_decode() of any datagram.
 *
 * A packet is taken whole or not at all: a refused one emits no frame.
 * The frames of a packet taken must be ones the bus takes, and the packet
 * the bridge would build from them must decode to the same frames, with
 * the same sequence number, in as many bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cannelloni.h"
#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The packet of @s's frames, as the bridge sends it: its length. */
static size_t reencode(const struct sink *s, uint8_t seq, uint8_t *out)
{
	size_t len = CNL_HEADER_LEN;

	cnl_packet_header(out, seq, s->n);
	for (size_t i = 0; i < s->n; i++) {
		size_t n = cnl_frame_encode(&s->f[i], out + len);

		if (n != cnl_frame_size(&s->f[i]) || vcb_frame_check(&s->f[i]))
			abort();
		len += n;
	}
	return len;
}

static void check(const uint8_t *data, size_t size, struct sink *a, struct sink *b)
{
	uint8_t seq = 0, seq2 = 0, *buf;
	size_t len;

	if (cnl_packet_decode(data, size, &seq, sink_emit, a)) {
		if (a->n)
			abort();
		return;
	}
	if (a->n != (size_t)(data[3] << 8 | data[4]))
		abort();
	/* Each frame takes as many bytes again: the packet is as long. */
	buf = malloc(size);
	if (!buf)
		abort();
	len = reencode(a, seq, buf);
	if (len != size)
		abort();
	if (cnl_packet_decode(buf, len, &seq2, sink_emit, b) || seq2 != seq || b->n != a->n)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (!same_frame(&a->f[i], &b->f[i]))
			abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* No frame takes fewer than 5 bytes. */
	size_t max = size / 5 + 1;
	struct sink a = { .f = calloc(max, sizeof(*a.f)), .max = max };
	struct sink b = { .f = calloc(max, sizeof(*b.f)), .max = max };

	if (!a.f || !b.f)
		abort();
	check(data, size, &a, &b);
	free(a.f);
	free(b.f);
	return 0;
}
