// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: cnl_stream_feed() of any TCP byte stream.
 *
 * TCP cuts a stream anywhere: in one feed, in two at a point the input
 * picks, or a byte at a time, the stream must give the same frames and
 * the same verdict. The frames must be ones the bus takes, and the stream
 * the bridge would send for them must give them back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cannelloni.h"
#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_sink(const struct sink *a, const struct sink *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (!same_frame(&a->f[i], &b->f[i]))
			abort();
}

/* One feed from its own buffer, so that ASan sees a read past its end. */
static enum vcb_bad feed(struct cnl_stream *st, const uint8_t *data, size_t len,
			 struct sink *s)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum vcb_bad why;

	if (!copy)
		abort();
	memcpy(copy, data, len);
	why = cnl_stream_feed(st, copy, len, sink_emit, s);
	free(copy);
	return why;
}

/* Feeds @data in pieces of @step bytes (0: at @split, in two). */
static enum vcb_bad run(const uint8_t *data, size_t size, size_t split, size_t step,
			struct sink *s)
{
	struct cnl_stream st;
	enum vcb_bad why;
	size_t off;

	memset(&st, 0, sizeof(st));
	s->n = 0;
	if (!step) {
		why = feed(&st, data, split, s);
		return why ? why : feed(&st, data + split, size - split, s);
	}
	for (off = 0, why = VCB_OK; off < size && !why; off += step)
		why = feed(&st, data + off, size - off < step ? size - off : step, s);
	return why;
}

/* The greeting and @s's frames, as the bridge sends them: its length. */
static size_t reencode(const struct sink *s, uint8_t *out)
{
	size_t len = CNL_GREETING_LEN;

	memcpy(out, CNL_GREETING, CNL_GREETING_LEN);
	for (size_t i = 0; i < s->n; i++) {
		if (vcb_frame_check(&s->f[i]))
			abort();
		len += cnl_frame_encode(&s->f[i], out + len);
	}
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A frame takes 5 bytes at least; the greeting, 12. */
	size_t max = size / 5 + 1, split = 0, len;
	struct sink a = { .f = calloc(max, sizeof(*a.f)), .max = max };
	struct sink b = { .f = calloc(max, sizeof(*b.f)), .max = max };
	uint8_t *buf = malloc(CNL_GREETING_LEN + max * CNL_FRAME_MAX);
	enum vcb_bad why;

	if (!a.f || !b.f || !buf)
		abort();
	if (size)
		split = (data[0] | data[size - 1] << 8) % (size + 1);
	why = run(data, size, 0, size ? size : 1, &a);
	if (run(data, size, split, 0, &b) != why)
		abort();
	same_sink(&a, &b);
	if (run(data, size, 0, 1, &b) != why)
		abort();
	same_sink(&a, &b);

	/* Whatever came out before a verdict was good, and comes back. */
	len = reencode(&a, buf);
	if (run(buf, len, 0, len, &b))
		abort();
	same_sink(&a, &b);

	free(buf);
	free(a.f);
	free(b.f);
	return 0;
}
