// SPDX-License-Identifier: GPL-2.0
/*
 * cannelloni's frame encoding, its UDP data packets and its TCP stream.
 *
 * cannelloni itself trusts what it reads; here a length that no frame of
 * its kind has, an FD remote frame or unknown FD flags make the frame (and
 * with it the datagram, or the TCP peer) bad. A Classical frame's DLC of
 * 9..15 (len8_dlc) has no place in the format: it goes as length 8.
 */
#include <string.h>

#include "cannelloni.h"

size_t cnl_frame_size(const struct vcb_frame *f)
{
	return 4 + 1 + (f->fd ? 1 : 0) + vcb_frame_data_len(f);
}

size_t cnl_frame_encode(const struct vcb_frame *f, uint8_t *out)
{
	const struct canfd_frame *cf = &f->cf;
	unsigned int n = vcb_frame_data_len(f);
	uint8_t *p = out;

	*p++ = cf->can_id >> 24;
	*p++ = cf->can_id >> 16;
	*p++ = cf->can_id >> 8;
	*p++ = cf->can_id;
	*p++ = cf->len | (f->fd ? CNL_FD_LEN : 0);
	if (f->fd)
		*p++ = cf->flags & (CANFD_BRS | CANFD_ESI);
	memcpy(p, cf->data, n);
	return p + n - out;
}

void cnl_packet_header(uint8_t *out, uint8_t seq, uint16_t count)
{
	out[0] = CNL_VERSION;
	out[1] = CNL_OP_DATA;
	out[2] = seq;
	out[3] = count >> 8;
	out[4] = count;
}

/*
 * The frame at @p (@len bytes there): its size in @used, or 0 in @used
 * and VCB_OK when more bytes are needed.
 */
static enum vcb_bad cnl_frame_decode(const uint8_t *p, size_t len,
				     struct vcb_frame *f, size_t *used)
{
	size_t head, n;
	uint8_t l;

	*used = 0;
	if (len < 5)
		return VCB_OK;
	memset(f, 0, sizeof(*f));
	f->cf.can_id = (canid_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
	l = p[4];
	f->fd = l & CNL_FD_LEN;
	f->cf.len = l & ~CNL_FD_LEN;
	if (f->cf.len > (f->fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN))
		return VCB_BAD_LENGTH;
	head = f->fd ? 6 : 5;
	if (len < head)
		return VCB_OK;
	if (f->fd) {
		if (f->cf.can_id & CAN_RTR_FLAG ||
		    p[5] & ~(CANFD_BRS | CANFD_ESI | CANFD_FDF))
			return VCB_BAD_FLAGS;
		f->cf.flags = p[5] & (CANFD_BRS | CANFD_ESI);
	}
	n = vcb_frame_data_len(f);
	if (len < head + n)
		return VCB_OK;
	memcpy(f->cf.data, p + head, n);
	*used = head + n;
	return vcb_frame_check(f);
}

enum vcb_bad cnl_packet_decode(const uint8_t *buf, size_t len, uint8_t *seq,
			       cnl_emit_fn emit, void *ctx)
{
	struct vcb_frame f;
	unsigned int count, i;
	enum vcb_bad why;
	size_t off, used;
	int pass;

	if (len < CNL_HEADER_LEN)
		return VCB_BAD_TRUNCATED;
	if (buf[0] != CNL_VERSION || buf[1] != CNL_OP_DATA)
		return VCB_BAD_VERSION;
	*seq = buf[2];
	count = buf[3] << 8 | buf[4];
	/* Pass 0 checks everything, pass 1 hands the frames on. */
	for (pass = 0; pass < 2; pass++) {
		off = CNL_HEADER_LEN;
		for (i = 0; i < count; i++) {
			why = cnl_frame_decode(buf + off, len - off, &f, &used);
			if (why)
				return why;
			if (!used)
				return VCB_BAD_TRUNCATED;
			off += used;
			if (pass)
				emit(ctx, &f);
		}
		if (off != len)
			return VCB_BAD_TRAILING;
	}
	return VCB_OK;
}

enum vcb_bad cnl_stream_feed(struct cnl_stream *s, const uint8_t *data,
			     size_t len, cnl_emit_fn emit, void *ctx)
{
	struct vcb_frame f;
	enum vcb_bad why;
	size_t take, used;

	while (len) {
		if (!s->greeted) {
			take = CNL_GREETING_LEN - s->have;
			if (take > len)
				take = len;
			if (memcmp(data, &CNL_GREETING[s->have], take))
				return VCB_BAD_VERSION;
			s->have += take;
			data += take;
			len -= take;
			if (s->have == CNL_GREETING_LEN) {
				s->greeted = true;
				s->have = 0;
			}
			continue;
		}
		/* Complete the partial frame a byte run at a time. */
		take = sizeof(s->buf) - s->have;
		if (take > len)
			take = len;
		memcpy(s->buf + s->have, data, take);
		why = cnl_frame_decode(s->buf, s->have + take, &f, &used);
		if (why)
			return why;
		if (!used) {
			s->have += take;
			data += take;
			len -= take;
			continue;
		}
		/* The frame ended inside this run: the rest is the next one. */
		used -= s->have;
		s->have = 0;
		data += used;
		len -= used;
		emit(ctx, &f);
	}
	return VCB_OK;
}
