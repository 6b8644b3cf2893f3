// SPDX-License-Identifier: GPL-2.0
/*
 * python-can's udp_multicast datagrams, through msgpack-c.
 *
 * python-can packs a dict of the Message fields with use_bin_type=True
 * and unpacks it into can.Message(check=True, **fields): an unknown key is
 * a TypeError there, a missing one takes Message's default. This decoder
 * accepts only what both take: what python-can accepts and a CAN
 * controller could send. It is stricter where python-can is lax: a remote
 * frame with data, 0 or 1 for a boolean (docs/bridge.md lists these).
 */
#include <string.h>

#include <msgpack.h>

#include "pycan.h"

struct pycan_out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static int pycan_write(void *data, const char *buf, size_t len)
{
	struct pycan_out *out = data;

	if (len > out->size - out->len) {
		out->overflow = true;
		return -1;
	}
	memcpy(out->buf + out->len, buf, len);
	out->len += len;
	return 0;
}

static void pack_key(msgpack_packer *pk, const char *key)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
}

static void pack_bool(msgpack_packer *pk, const char *key, bool value)
{
	pack_key(pk, key);
	if (value)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

ssize_t pycan_encode(const struct vcb_frame *f, double timestamp,
		     const char *channel, void *buf, size_t size)
{
	const struct canfd_frame *cf = &f->cf;
	struct pycan_out out = { .buf = buf, .size = size };
	bool err = cf->can_id & CAN_ERR_FLAG;
	msgpack_packer pk;

	msgpack_packer_init(&pk, &out, pycan_write);
	/* The keys and their order of python-can's pack_message(). */
	msgpack_pack_map(&pk, 11);
	pack_key(&pk, "timestamp");
	msgpack_pack_double(&pk, timestamp);
	pack_key(&pk, "arbitration_id");
	msgpack_pack_uint32(&pk, cf->can_id & (err || (cf->can_id & CAN_EFF_FLAG) ?
					       CAN_EFF_MASK : CAN_SFF_MASK));
	pack_bool(&pk, "is_extended_id", cf->can_id & CAN_EFF_FLAG);
	pack_bool(&pk, "is_remote_frame", cf->can_id & CAN_RTR_FLAG);
	pack_bool(&pk, "is_error_frame", err);
	pack_key(&pk, "channel");
	if (channel)
		msgpack_pack_str_with_body(&pk, channel, strlen(channel));
	else
		msgpack_pack_nil(&pk);
	/* python-can's dlc is the data length, also for CAN FD. */
	pack_key(&pk, "dlc");
	msgpack_pack_uint8(&pk, cf->len);
	pack_key(&pk, "data");
	msgpack_pack_bin_with_body(&pk, cf->data, vcb_frame_data_len(f));
	pack_bool(&pk, "is_fd", f->fd);
	pack_bool(&pk, "bitrate_switch", f->fd && (cf->flags & CANFD_BRS));
	pack_bool(&pk, "error_state_indicator", f->fd && (cf->flags & CANFD_ESI));
	return out.overflow ? -1 : (ssize_t)out.len;
}

/*
 * msgpack-c allocates a container's elements when it reads the count, so
 * a 5-byte datagram could ask for gigabytes: first check that every
 * count fits in the bytes left (an element takes at least one byte).
 * Running out of bytes is a truncated datagram, as msgpack-c would say.
 */
static enum vcb_bad pycan_sizes_plausible(const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	uint64_t pending = 1, n;

	while (pending) {
		size_t skip = 0, hdr = 1;
		uint8_t t;

		if (p >= end)
			return VCB_BAD_TRUNCATED;
		t = *p;
		pending--;
		n = 0;
		if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
			/* fixint, nil, bool */
		} else if (t <= 0x8f) {
			n = 2 * (t & 0x0f);
		} else if (t <= 0x9f) {
			n = t & 0x0f;
		} else if (t <= 0xbf) {
			skip = t & 0x1f;
		} else if (t == 0xc4 || t == 0xd9) {
			hdr = 2;
		} else if (t == 0xc5 || t == 0xda) {
			hdr = 3;
		} else if (t == 0xc6 || t == 0xdb) {
			hdr = 5;
		} else if (t == 0xcc || t == 0xd0) {
			skip = 1;
		} else if (t == 0xcd || t == 0xd1) {
			skip = 2;
		} else if (t == 0xca || t == 0xce || t == 0xd2) {
			skip = 4;
		} else if (t == 0xcb || t == 0xcf || t == 0xd3) {
			skip = 8;
		} else if (t == 0xdc || t == 0xde) {
			hdr = 3;
		} else if (t == 0xdd || t == 0xdf) {
			hdr = 5;
		} else if (t >= 0xd4 && t <= 0xd8) {
			skip = 1 + (1u << (t - 0xd4));	/* fixext: type + data */
		} else if (t >= 0xc7 && t <= 0xc9) {
			hdr = 1 + (1u << (t - 0xc7));	/* ext 8/16/32 */
		} else {
			return VCB_BAD_ENCODING;	/* 0xc1: never used */
		}
		if ((size_t)(end - p) < hdr)
			return VCB_BAD_TRUNCATED;
		if (hdr > 1) {
			uint64_t v = 0;

			for (size_t i = 1; i < hdr; i++)
				v = v << 8 | p[i];
			if (t == 0xdc || t == 0xdd)
				n = v;
			else if (t == 0xde || t == 0xdf)
				n = 2 * v;
			else if (t >= 0xc7 && t <= 0xc9)
				skip = v + 1;		/* ext: type byte + data */
			else
				skip = v;
		}
		p += hdr;
		if ((size_t)(end - p) < skip || n > (uint64_t)(end - p))
			return VCB_BAD_TRUNCATED;
		p += skip;
		pending += n;
	}
	return VCB_OK;
}

struct pycan_fields {
	uint64_t id;
	uint64_t dlc;
	bool has_dlc, ext, rtr, err, fd, brs, esi;
	const char *data;
	uint32_t data_len;
};

static bool key_is(const msgpack_object *k, const char *name)
{
	return k->via.str.size == strlen(name) &&
	       !memcmp(k->via.str.ptr, name, k->via.str.size);
}

static enum vcb_bad get_bool(const msgpack_object *v, bool *out)
{
	if (v->type != MSGPACK_OBJECT_BOOLEAN)
		return VCB_BAD_ENCODING;
	*out = v->via.boolean;
	return VCB_OK;
}

static enum vcb_bad get_uint(const msgpack_object *v, uint64_t *out)
{
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return VCB_BAD_ENCODING;
	*out = v->via.u64;
	return VCB_OK;
}

static enum vcb_bad pycan_field(const msgpack_object *k, const msgpack_object *v,
				struct pycan_fields *fl)
{
	if (k->type != MSGPACK_OBJECT_STR)
		return VCB_BAD_ENCODING;
	if (key_is(k, "timestamp"))
		return v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32 ||
		       v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? VCB_OK : VCB_BAD_ENCODING;
	if (key_is(k, "channel"))
		return VCB_OK;		/* any value: the sender's name for its bus */
	if (key_is(k, "is_rx")) {
		bool rx;

		return get_bool(v, &rx);	/* python-can takes it; no meaning here */
	}
	if (key_is(k, "arbitration_id"))
		return get_uint(v, &fl->id);
	if (key_is(k, "dlc")) {
		fl->has_dlc = true;
		return get_uint(v, &fl->dlc);
	}
	if (key_is(k, "data")) {
		if (v->type != MSGPACK_OBJECT_BIN)
			return VCB_BAD_ENCODING;
		fl->data = v->via.bin.ptr;
		fl->data_len = v->via.bin.size;
		return VCB_OK;
	}
	if (key_is(k, "is_extended_id"))
		return get_bool(v, &fl->ext);
	if (key_is(k, "is_remote_frame"))
		return get_bool(v, &fl->rtr);
	if (key_is(k, "is_error_frame"))
		return get_bool(v, &fl->err);
	if (key_is(k, "is_fd"))
		return get_bool(v, &fl->fd);
	if (key_is(k, "bitrate_switch"))
		return get_bool(v, &fl->brs);
	if (key_is(k, "error_state_indicator"))
		return get_bool(v, &fl->esi);
	return VCB_BAD_ENCODING;	/* python-can: unexpected keyword argument */
}

/* python-can's Message._check(), then what a controller can send. */
static enum vcb_bad pycan_frame(const struct pycan_fields *fl, struct vcb_frame *f)
{
	uint64_t dlc = fl->has_dlc ? fl->dlc : fl->data_len;

	if (fl->rtr && (fl->err || fl->fd))
		return VCB_BAD_FLAGS;
	if (fl->id >= (fl->ext ? 0x20000000u : 0x800u))
		return VCB_BAD_ID;
	if (dlc > (fl->fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN))
		return VCB_BAD_LENGTH;
	if (fl->rtr ? fl->data_len != 0 : dlc != fl->data_len)
		return VCB_BAD_LENGTH;
	if (!fl->fd && (fl->brs || fl->esi))
		return VCB_BAD_FLAGS;

	memset(f, 0, sizeof(*f));
	f->fd = fl->fd;
	f->cf.can_id = fl->id | (fl->ext ? CAN_EFF_FLAG : 0) |
		       (fl->rtr ? CAN_RTR_FLAG : 0) | (fl->err ? CAN_ERR_FLAG : 0);
	f->cf.len = dlc;
	if (fl->fd)
		f->cf.flags = (fl->brs ? CANFD_BRS : 0) | (fl->esi ? CANFD_ESI : 0);
	if (fl->data_len)
		memcpy(f->cf.data, fl->data, fl->data_len);
	return vcb_frame_check(f);
}

enum vcb_bad pycan_decode(const void *buf, size_t len, struct vcb_frame *f)
{
	/* can.Message's defaults for keys a sender left out. */
	struct pycan_fields fl = { .ext = true };
	enum vcb_bad why = VCB_OK;
	msgpack_unpacked u;
	size_t off = 0;

	if (len > PYCAN_DATAGRAM_MAX)
		return VCB_BAD_LENGTH;
	why = pycan_sizes_plausible(buf, len);
	if (why)
		return why;
	msgpack_unpacked_init(&u);
	switch (msgpack_unpack_next(&u, buf, len, &off)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_CONTINUE:
		why = VCB_BAD_TRUNCATED;
		goto out;
	default:
		why = VCB_BAD_ENCODING;
		goto out;
	}
	if (off != len) {
		why = VCB_BAD_TRAILING;
		goto out;
	}
	if (u.data.type != MSGPACK_OBJECT_MAP) {
		why = VCB_BAD_ENCODING;
		goto out;
	}
	for (uint32_t i = 0; i < u.data.via.map.size && !why; i++)
		why = pycan_field(&u.data.via.map.ptr[i].key,
				  &u.data.via.map.ptr[i].val, &fl);
	if (!why)
		why = pycan_frame(&fl, f);
out:
	msgpack_unpacked_destroy(&u);
	return why;
}
