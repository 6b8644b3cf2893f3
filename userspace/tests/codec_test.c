// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of vcanbridge's codecs: frame.c, pycan.c, cannelloni.c.
 *
 * Prints TAP: one numbered test per function below, the failed checks of
 * a test as "#" lines after it. Exit status 0 only if every test passed.
 * Every decoder input is copied to a buffer of exactly its length first,
 * so that ASan sees a read past the end of a datagram.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cannelloni.h"
#include "frame.h"
#include "pycan.h"
#include "tap.h"

static bool check_bad(enum vcb_bad got, enum vcb_bad want, int line,
		      const char *what)
{
	char msg[256];

	if (got == want)
		return true;
	snprintf(msg, sizeof(msg), "%s: got %s, want %s", what,
		 vcb_bad_name(got), vcb_bad_name(want));
	return fail(line, msg);
}

#define CHECK_BAD(got, want)	check_bad((got), (want), __LINE__, #got)

/* ---- frames ------------------------------------------------------------- */

/* A Classical frame with recognisable data (none for a remote frame). */
static struct vcb_frame cc(canid_t id, unsigned int len, uint8_t seed)
{
	struct vcb_frame f;

	memset(&f, 0, sizeof(f));
	f.cf.can_id = id;
	f.cf.len = len;
	for (unsigned int i = 0; i < len && i < CANFD_MAX_DLEN; i++)
		f.cf.data[i] = (id & CAN_RTR_FLAG) ? 0 : (uint8_t)(seed + 7 * i);
	return f;
}

static struct vcb_frame fd(canid_t id, unsigned int len, uint8_t flags,
			   uint8_t seed)
{
	struct vcb_frame f = cc(id, len, seed);

	f.fd = true;
	f.cf.flags = flags;
	return f;
}

/* What a decoder must give back: every field, the data it carries. */
static bool frame_eq(const struct vcb_frame *a, const struct vcb_frame *b)
{
	return a->fd == b->fd && a->cf.can_id == b->cf.can_id &&
	       a->cf.len == b->cf.len && a->cf.flags == b->cf.flags &&
	       a->cf.__res0 == b->cf.__res0 && a->cf.__res1 == b->cf.__res1 &&
	       !memcmp(a->cf.data, b->cf.data, vcb_frame_data_len(a) <= CANFD_MAX_DLEN ?
		       vcb_frame_data_len(a) : CANFD_MAX_DLEN);
}

static void frame_str(const struct vcb_frame *f, char *buf, size_t size)
{
	unsigned int n = vcb_frame_data_len(f);
	int len;

	len = snprintf(buf, size, "%s id=%08x len=%u flags=%02x res=%02x/%02x data=",
		       f->fd ? "fd" : "cc", f->cf.can_id, f->cf.len, f->cf.flags,
		       f->cf.__res0, f->cf.__res1);
	for (unsigned int i = 0; i < n && i < CANFD_MAX_DLEN && len > 0 &&
	     (size_t)len + 3 < size; i++)
		len += snprintf(buf + len, size - len, "%02x", f->cf.data[i]);
}

static bool check_frame(const struct vcb_frame *got, const struct vcb_frame *want,
			int line)
{
	char g[256], w[256], msg[600];

	if (frame_eq(got, want))
		return true;
	frame_str(got, g, sizeof(g));
	frame_str(want, w, sizeof(w));
	snprintf(msg, sizeof(msg), "frame differs:\n#     got  %s\n#     want %s", g, w);
	return fail(line, msg);
}

#define CHECK_FRAME(got, want)	check_frame((got), (want), __LINE__)

/* Decoders emit frames here. */
struct sink {
	struct vcb_frame f[128];
	size_t n;
};

static void sink_emit(void *c, const struct vcb_frame *f)
{
	struct sink *s = c;

	if (s->n < ARRAY_SIZE(s->f))
		s->f[s->n] = *f;
	s->n++;
}

/* A repeatable PRNG for chunk sizes (xorshift32): same run, same chunks. */
static uint32_t rnd(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* ---- vcb_frame_check ---------------------------------------------------- */

static void t_check_sff_id(void)
{
	static const canid_t good[] = { 0, 1, 0x123, 0x7ff };
	static const canid_t bad[] = { 0x800, 0x801, 0xfff, 0x12345, 0x1fffffff };

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct vcb_frame a = cc(good[i], 8, 1), b = fd(good[i], 64, 0, 1);
		struct vcb_frame r = cc(good[i] | CAN_RTR_FLAG, 2, 0);

		ctx("id %#x", good[i]);
		CHECK_BAD(vcb_frame_check(&a), VCB_OK);
		CHECK_BAD(vcb_frame_check(&b), VCB_OK);
		CHECK_BAD(vcb_frame_check(&r), VCB_OK);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vcb_frame a = cc(bad[i], 8, 1), b = fd(bad[i], 64, 0, 1);
		struct vcb_frame r = cc(bad[i] | CAN_RTR_FLAG, 2, 0);

		ctx("id %#x", bad[i]);
		CHECK_BAD(vcb_frame_check(&a), VCB_BAD_ID);
		CHECK_BAD(vcb_frame_check(&b), VCB_BAD_ID);
		CHECK_BAD(vcb_frame_check(&r), VCB_BAD_ID);
	}
}

static void t_check_eff_id(void)
{
	static const canid_t ids[] = { 0, 0x7ff, 0x800, 0x12345678, 0x1fffffff };

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		struct vcb_frame a = cc(ids[i] | CAN_EFF_FLAG, 3, 2);
		struct vcb_frame b = fd(ids[i] | CAN_EFF_FLAG, 12, CANFD_BRS, 2);
		struct vcb_frame r = cc(ids[i] | CAN_EFF_FLAG | CAN_RTR_FLAG, 8, 0);

		ctx("id %#x", ids[i]);
		CHECK_BAD(vcb_frame_check(&a), VCB_OK);
		CHECK_BAD(vcb_frame_check(&b), VCB_OK);
		CHECK_BAD(vcb_frame_check(&r), VCB_OK);
	}
}

static void t_check_error_frames(void)
{
	/* The error class is no identifier: any of its 29 bits may be set. */
	static const canid_t classes[] = { 0x40, 0x7ff, 0x800, 0x1fffffff };

	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		struct vcb_frame e = cc(CAN_ERR_FLAG | classes[i], 8, 3);
		struct vcb_frame x = cc(CAN_ERR_FLAG | CAN_EFF_FLAG | classes[i], 8, 3);
		struct vcb_frame f = fd(CAN_ERR_FLAG | classes[i], 8, 0, 3);
		struct vcb_frame l = cc(CAN_ERR_FLAG | classes[i], 9, 3);

		ctx("class %#x", classes[i]);
		CHECK_BAD(vcb_frame_check(&e), VCB_OK);
		CHECK_BAD(vcb_frame_check(&x), VCB_OK);
		/* No error frames in CAN FD. */
		CHECK_BAD(vcb_frame_check(&f), VCB_BAD_FLAGS);
		CHECK_BAD(vcb_frame_check(&l), VCB_BAD_LENGTH);
	}
}

static void t_check_cc_len(void)
{
	for (unsigned int len = 0; len < 256; len++) {
		struct vcb_frame d = cc(0x100, len, 4), r = cc(0x100 | CAN_RTR_FLAG, len, 0);
		enum vcb_bad want = len <= CAN_MAX_DLEN ? VCB_OK : VCB_BAD_LENGTH;

		ctx("len %u", len);
		CHECK_BAD(vcb_frame_check(&d), want);
		/* A remote frame's len is its DLC: the same limit. */
		CHECK_BAD(vcb_frame_check(&r), want);
	}
}

static void t_check_fd_len(void)
{
	for (unsigned int len = 0; len < 256; len++) {
		struct vcb_frame f = fd(0x100, len, CANFD_BRS, 5);

		ctx("len %u", len);
		CHECK_BAD(vcb_frame_check(&f), len <= CANFD_MAX_DLEN ? VCB_OK : VCB_BAD_LENGTH);
	}
}

static void t_check_fd_rtr(void)
{
	struct vcb_frame a = fd(0x123 | CAN_RTR_FLAG, 0, 0, 0);
	struct vcb_frame b = fd(0x123 | CAN_RTR_FLAG | CAN_EFF_FLAG, 8, CANFD_BRS, 0);

	CHECK_BAD(vcb_frame_check(&a), VCB_BAD_FLAGS);
	CHECK_BAD(vcb_frame_check(&b), VCB_BAD_FLAGS);
}

static void t_check_fd_flags(void)
{
	for (unsigned int flags = 0; flags < 256; flags++) {
		struct vcb_frame f = fd(0x321, 16, flags, 6);
		bool known = !(flags & ~(CANFD_BRS | CANFD_ESI | CANFD_FDF));

		ctx("flags %#x", flags);
		CHECK_BAD(vcb_frame_check(&f), known ? VCB_OK : VCB_BAD_FLAGS);
	}
}

static void t_check_len8_dlc(void)
{
	for (unsigned int dlc = 0; dlc < 256; dlc++) {
		struct vcb_frame f = cc(0x42, 8, 7), s = cc(0x42, 7, 7);
		struct vcb_frame r = cc(0x42 | CAN_RTR_FLAG, 8, 0);
		enum vcb_bad want = !dlc || (dlc >= 9 && dlc <= 15) ? VCB_OK : VCB_BAD_LENGTH;

		ctx("len8_dlc %u", dlc);
		f.cf.__res1 = dlc;
		s.cf.__res1 = dlc;
		r.cf.__res1 = dlc;
		CHECK_BAD(vcb_frame_check(&f), want);
		CHECK_BAD(vcb_frame_check(&r), want);
		/* Only with 8 bytes of data. */
		CHECK_BAD(vcb_frame_check(&s), dlc ? VCB_BAD_LENGTH : VCB_OK);
	}
}

static void t_bad_names(void)
{
	static const char *const names[] = {
		"ok", "truncated", "trailing", "version", "length", "id",
		"flags", "encoding",
	};

	CHECK_EQ(ARRAY_SIZE(names), VCB_BAD_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		CHECK(!strcmp(vcb_bad_name(i), names[i]));
	CHECK(!strcmp(vcb_bad_name(VCB_BAD_MAX), "?"));
}

/* ---- pycan: helpers ----------------------------------------------------- */

/*
 * python-can 4.1's own pack_message() of four can.Message, made once with
 * /usr/bin/python3 (can.interfaces.udp_multicast.utils.pack_message): the
 * datagrams a python-can peer really sends.
 */

/*
 * Message(timestamp=1700000000.25, arbitration_id=0x123,
 *	   is_extended_id=False, data=de ad be ef, channel="vcan0")
 */
static const uint8_t pycan_py_cc[] = {
	0x8b, 0xa9, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0xcb,
	0x41, 0xd9, 0x54, 0xfc, 0x40, 0x10, 0x00, 0x00, 0xae, 0x61, 0x72, 0x62,
	0x69, 0x74, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x5f, 0x69, 0x64, 0xcd,
	0x01, 0x23, 0xae, 0x69, 0x73, 0x5f, 0x65, 0x78, 0x74, 0x65, 0x6e, 0x64,
	0x65, 0x64, 0x5f, 0x69, 0x64, 0xc2, 0xaf, 0x69, 0x73, 0x5f, 0x72, 0x65,
	0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x66, 0x72, 0x61, 0x6d, 0x65, 0xc2, 0xae,
	0x69, 0x73, 0x5f, 0x65, 0x72, 0x72, 0x6f, 0x72, 0x5f, 0x66, 0x72, 0x61,
	0x6d, 0x65, 0xc2, 0xa7, 0x63, 0x68, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0xa5,
	0x76, 0x63, 0x61, 0x6e, 0x30, 0xa3, 0x64, 0x6c, 0x63, 0x04, 0xa4, 0x64,
	0x61, 0x74, 0x61, 0xc4, 0x04, 0xde, 0xad, 0xbe, 0xef, 0xa5, 0x69, 0x73,
	0x5f, 0x66, 0x64, 0xc2, 0xae, 0x62, 0x69, 0x74, 0x72, 0x61, 0x74, 0x65,
	0x5f, 0x73, 0x77, 0x69, 0x74, 0x63, 0x68, 0xc2, 0xb5, 0x65, 0x72, 0x72,
	0x6f, 0x72, 0x5f, 0x73, 0x74, 0x61, 0x74, 0x65, 0x5f, 0x69, 0x6e, 0x64,
	0x69, 0x63, 0x61, 0x74, 0x6f, 0x72, 0xc2,
};

/*
 * Message(timestamp=1.5, arbitration_id=0x1abcdef0, is_extended_id=True,
 *	   is_remote_frame=True, dlc=5, channel=None)
 */
static const uint8_t pycan_py_eff_rtr[] = {
	0x8b, 0xa9, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0xcb,
	0x3f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xae, 0x61, 0x72, 0x62,
	0x69, 0x74, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x5f, 0x69, 0x64, 0xce,
	0x1a, 0xbc, 0xde, 0xf0, 0xae, 0x69, 0x73, 0x5f, 0x65, 0x78, 0x74, 0x65,
	0x6e, 0x64, 0x65, 0x64, 0x5f, 0x69, 0x64, 0xc3, 0xaf, 0x69, 0x73, 0x5f,
	0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x66, 0x72, 0x61, 0x6d, 0x65,
	0xc3, 0xae, 0x69, 0x73, 0x5f, 0x65, 0x72, 0x72, 0x6f, 0x72, 0x5f, 0x66,
	0x72, 0x61, 0x6d, 0x65, 0xc2, 0xa7, 0x63, 0x68, 0x61, 0x6e, 0x6e, 0x65,
	0x6c, 0xc0, 0xa3, 0x64, 0x6c, 0x63, 0x05, 0xa4, 0x64, 0x61, 0x74, 0x61,
	0xc4, 0x00, 0xa5, 0x69, 0x73, 0x5f, 0x66, 0x64, 0xc2, 0xae, 0x62, 0x69,
	0x74, 0x72, 0x61, 0x74, 0x65, 0x5f, 0x73, 0x77, 0x69, 0x74, 0x63, 0x68,
	0xc2, 0xb5, 0x65, 0x72, 0x72, 0x6f, 0x72, 0x5f, 0x73, 0x74, 0x61, 0x74,
	0x65, 0x5f, 0x69, 0x6e, 0x64, 0x69, 0x63, 0x61, 0x74, 0x6f, 0x72, 0xc2,
};

/*
 * Message(timestamp=2.0, arbitration_id=0x7ff, is_extended_id=False,
 *	   is_fd=True, bitrate_switch=True, data=bytes(range(64)),
 *	   channel="can1")
 */
static const uint8_t pycan_py_fd_brs64[] = {
	0x8b, 0xa9, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0xcb,
	0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xae, 0x61, 0x72, 0x62,
	0x69, 0x74, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x5f, 0x69, 0x64, 0xcd,
	0x07, 0xff, 0xae, 0x69, 0x73, 0x5f, 0x65, 0x78, 0x74, 0x65, 0x6e, 0x64,
	0x65, 0x64, 0x5f, 0x69, 0x64, 0xc2, 0xaf, 0x69, 0x73, 0x5f, 0x72, 0x65,
	0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x66, 0x72, 0x61, 0x6d, 0x65, 0xc2, 0xae,
	0x69, 0x73, 0x5f, 0x65, 0x72, 0x72, 0x6f, 0x72, 0x5f, 0x66, 0x72, 0x61,
	0x6d, 0x65, 0xc2, 0xa7, 0x63, 0x68, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0xa4,
	0x63, 0x61, 0x6e, 0x31, 0xa3, 0x64, 0x6c, 0x63, 0x40, 0xa4, 0x64, 0x61,
	0x74, 0x61, 0xc4, 0x40, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
	0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b,
	0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0xa5, 0x69, 0x73, 0x5f,
	0x66, 0x64, 0xc3, 0xae, 0x62, 0x69, 0x74, 0x72, 0x61, 0x74, 0x65, 0x5f,
	0x73, 0x77, 0x69, 0x74, 0x63, 0x68, 0xc3, 0xb5, 0x65, 0x72, 0x72, 0x6f,
	0x72, 0x5f, 0x73, 0x74, 0x61, 0x74, 0x65, 0x5f, 0x69, 0x6e, 0x64, 0x69,
	0x63, 0x61, 0x74, 0x6f, 0x72, 0xc2,
};

/*
 * Message(timestamp=3.0, arbitration_id=0x40, is_extended_id=False,
 *	   is_error_frame=True, data=bytes(8), channel="vcan0")
 */
static const uint8_t pycan_py_err[] = {
	0x8b, 0xa9, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0xcb,
	0x40, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xae, 0x61, 0x72, 0x62,
	0x69, 0x74, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x5f, 0x69, 0x64, 0x40,
	0xae, 0x69, 0x73, 0x5f, 0x65, 0x78, 0x74, 0x65, 0x6e, 0x64, 0x65, 0x64,
	0x5f, 0x69, 0x64, 0xc2, 0xaf, 0x69, 0x73, 0x5f, 0x72, 0x65, 0x6d, 0x6f,
	0x74, 0x65, 0x5f, 0x66, 0x72, 0x61, 0x6d, 0x65, 0xc2, 0xae, 0x69, 0x73,
	0x5f, 0x65, 0x72, 0x72, 0x6f, 0x72, 0x5f, 0x66, 0x72, 0x61, 0x6d, 0x65,
	0xc3, 0xa7, 0x63, 0x68, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0xa5, 0x76, 0x63,
	0x61, 0x6e, 0x30, 0xa3, 0x64, 0x6c, 0x63, 0x08, 0xa4, 0x64, 0x61, 0x74,
	0x61, 0xc4, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5,
	0x69, 0x73, 0x5f, 0x66, 0x64, 0xc2, 0xae, 0x62, 0x69, 0x74, 0x72, 0x61,
	0x74, 0x65, 0x5f, 0x73, 0x77, 0x69, 0x74, 0x63, 0x68, 0xc2, 0xb5, 0x65,
	0x72, 0x72, 0x6f, 0x72, 0x5f, 0x73, 0x74, 0x61, 0x74, 0x65, 0x5f, 0x69,
	0x6e, 0x64, 0x69, 0x63, 0x61, 0x74, 0x6f, 0x72, 0xc2,
};

static const struct {
	const char *name;
	const uint8_t *bytes;
	size_t len;
} pycan_py[] = {
	{ "cc", pycan_py_cc, sizeof(pycan_py_cc) },
	{ "eff_rtr", pycan_py_eff_rtr, sizeof(pycan_py_eff_rtr) },
	{ "fd_brs64", pycan_py_fd_brs64, sizeof(pycan_py_fd_brs64) },
	{ "err", pycan_py_err, sizeof(pycan_py_err) },
};

/* The frames those datagrams are, and how python-can stamped them. */
static struct vcb_frame pycan_py_frame(size_t i, double *ts, const char **channel)
{
	static const double stamps[] = { 1700000000.25, 1.5, 2.0, 3.0 };
	static const char *const channels[] = { "vcan0", NULL, "can1", "vcan0" };
	struct vcb_frame f;

	switch (i) {
	case 0:
		f = cc(0x123, 4, 0);
		memcpy(f.cf.data, "\xde\xad\xbe\xef", 4);
		break;
	case 1:
		f = cc(0x1abcdef0 | CAN_EFF_FLAG | CAN_RTR_FLAG, 5, 0);
		break;
	case 2:
		f = fd(0x7ff, 64, CANFD_BRS, 0);
		for (unsigned int j = 0; j < 64; j++)
			f.cf.data[j] = j;
		break;
	default:
		f = cc(CAN_ERR_FLAG | 0x40, 8, 0);
		memset(f.cf.data, 0, 8);
		break;
	}
	*ts = stamps[i];
	*channel = channels[i];
	return f;
}

/* pycan_decode() of a copy exactly @len long: ASan sees any overread. */
static enum vcb_bad pycan_decode_exact(const void *buf, size_t len, struct vcb_frame *f)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum vcb_bad why;

	if (!copy)
		abort();
	memcpy(copy, buf, len);
	why = pycan_decode(copy, len, f);
	free(copy);
	return why;
}

/* Encodes @f and decodes it again: the same frame must come back. */
static void pycan_round_trip(const struct vcb_frame *f, const char *channel, int line)
{
	uint8_t buf[PYCAN_DATAGRAM_MAX];
	struct vcb_frame got;
	ssize_t n;

	memset(&got, 0x5a, sizeof(got));
	n = pycan_encode(f, 12.5, channel, buf, sizeof(buf));
	if (!check(n > 0, line, "pycan_encode() > 0"))
		return;
	if (check_bad(pycan_decode_exact(buf, n, &got), VCB_OK, line, "pycan_decode()"))
		check_frame(&got, f, line);
}

#define PYCAN_ROUND_TRIP(f, channel)	pycan_round_trip((f), (channel), __LINE__)

/*
 * Hand-made datagrams: a msgpack map of keys and raw msgpack values, so
 * that each test changes, adds or drops one of them.
 */
struct kv {
	const char *key;
	const uint8_t *val;
	size_t len;
};

/*
 * Raw msgpack bytes as the two arguments (or fields) pointer, length:
 * dg_set(&d, "dlc", MP(0xcc, 0x04)). Unparenthesised on purpose. A
 * compound literal lives as long as its block: use it within that.
 */
#define MP(...)	(const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const uint8_t mp_true[] = { 0xc3 }, mp_false[] = { 0xc2 };

struct dg {
	struct kv kv[16];
	size_t n;
};

/* A good Classical frame, 0x123 de ad be ef, as python-can sends it. */
static const struct kv dg_base[] = {
	{ "timestamp", MP(0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0) },
	{ "arbitration_id", MP(0xcd, 0x01, 0x23) },
	{ "is_extended_id", MP(0xc2) },
	{ "is_remote_frame", MP(0xc2) },
	{ "is_error_frame", MP(0xc2) },
	{ "channel", MP(0xa5, 'v', 'c', 'a', 'n', '0') },
	{ "dlc", MP(0x04) },
	{ "data", MP(0xc4, 0x04, 0xde, 0xad, 0xbe, 0xef) },
	{ "is_fd", MP(0xc2) },
	{ "bitrate_switch", MP(0xc2) },
	{ "error_state_indicator", MP(0xc2) },
};

static struct dg dg_new(void)
{
	struct dg d = { .n = ARRAY_SIZE(dg_base) };

	memcpy(d.kv, dg_base, sizeof(dg_base));
	return d;
}

static struct dg dg_empty(void)
{
	struct dg d = { .n = 0 };

	return d;
}

/* Replaces the value of @key, or adds it. */
static void dg_set(struct dg *d, const char *key, const uint8_t *val, size_t len)
{
	size_t i;

	for (i = 0; i < d->n && strcmp(d->kv[i].key, key); i++)
		;
	if (i == d->n) {
		if (d->n == ARRAY_SIZE(d->kv))
			abort();
		d->n++;
	}
	d->kv[i] = (struct kv){ key, val, len };
}

static void dg_del(struct dg *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++) {
		if (!strcmp(d->kv[i].key, key)) {
			memmove(&d->kv[i], &d->kv[i + 1], (d->n - i - 1) * sizeof(d->kv[0]));
			d->n--;
			return;
		}
	}
}

/* The datagram in @out (fixmap, fixstr keys): its length. */
static size_t dg_pack(const struct dg *d, uint8_t *out, size_t size)
{
	size_t len = 0;

	if (size < 1)
		abort();
	out[len++] = 0x80 | d->n;
	for (size_t i = 0; i < d->n; i++) {
		size_t k = strlen(d->kv[i].key);

		if (k > 31 || len + 1 + k + d->kv[i].len > size)
			abort();
		out[len++] = 0xa0 | k;
		memcpy(out + len, d->kv[i].key, k);
		len += k;
		memcpy(out + len, d->kv[i].val, d->kv[i].len);
		len += d->kv[i].len;
	}
	return len;
}

static enum vcb_bad dg_decode(const struct dg *d, struct vcb_frame *f)
{
	uint8_t buf[PYCAN_DATAGRAM_MAX + 64];

	return pycan_decode_exact(buf, dg_pack(d, buf, sizeof(buf)), f);
}

/* ---- pycan: round trips ------------------------------------------------- */

static void t_pycan_rt_cc(void)
{
	for (unsigned int len = 0; len <= CAN_MAX_DLEN; len++) {
		struct vcb_frame f = cc(0x7ff - len, len, 0x10 * len);

		ctx("len %u", len);
		PYCAN_ROUND_TRIP(&f, "vcan0");
		PYCAN_ROUND_TRIP(&f, NULL);
	}
}

static void t_pycan_rt_rtr(void)
{
	for (unsigned int dlc = 0; dlc <= CAN_MAX_DLC; dlc++) {
		struct vcb_frame s = cc(0x100 | CAN_RTR_FLAG, dlc, 0);
		struct vcb_frame e = cc(0x1000 | CAN_RTR_FLAG | CAN_EFF_FLAG, dlc, 0);
		uint8_t buf[256], *p;
		ssize_t n;

		ctx("dlc %u", dlc);
		PYCAN_ROUND_TRIP(&s, "vcan0");
		PYCAN_ROUND_TRIP(&e, "vcan0");
		/* The DLC goes as "dlc", with no data ("data": bin8 of 0). */
		n = pycan_encode(&s, 0, NULL, buf, sizeof(buf));
		p = n > 0 ? memmem(buf, n, "\xa3" "dlc", 4) : NULL;
		CHECK(p && p[4] == dlc);
		CHECK(n > 0 && memmem(buf, n, "\xa4" "data" "\xc4\x00", 7));
	}
}

static void t_pycan_rt_eff(void)
{
	static const canid_t ids[] = { 0, 0x7ff, 0x800, 0x12345, 0x1abcdef0, 0x1fffffff };

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		struct vcb_frame f = cc(ids[i] | CAN_EFF_FLAG, 8, i);

		ctx("id %#x", ids[i]);
		PYCAN_ROUND_TRIP(&f, "can0");
	}
}

static void t_pycan_rt_err(void)
{
	struct vcb_frame a = cc(CAN_ERR_FLAG | 0x40, 8, 0);
	struct vcb_frame b = cc(CAN_ERR_FLAG | 0x7ff, 8, 9);
	struct vcb_frame c = cc(CAN_ERR_FLAG | CAN_EFF_FLAG | 0x1fffffff, 8, 9);
	struct vcb_frame d = cc(CAN_ERR_FLAG | 0x04, 0, 0);

	PYCAN_ROUND_TRIP(&a, "vcan0");
	PYCAN_ROUND_TRIP(&b, "vcan0");
	PYCAN_ROUND_TRIP(&c, "vcan0");
	PYCAN_ROUND_TRIP(&d, NULL);
}

static void t_pycan_rt_fd(void)
{
	static const uint8_t flags[] = { 0, CANFD_BRS, CANFD_ESI, CANFD_BRS | CANFD_ESI };

	for (unsigned int len = 0; len <= CANFD_MAX_DLEN; len++) {
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
			struct vcb_frame s = fd(0x555, len, flags[i], len);
			struct vcb_frame e = fd(0x15555555 | CAN_EFF_FLAG, len, flags[i], ~len);

			ctx("len %u flags %#x", len, flags[i]);
			PYCAN_ROUND_TRIP(&s, "vcan0");
			PYCAN_ROUND_TRIP(&e, NULL);
		}
	}
}

static void t_pycan_fdf_not_carried(void)
{
	/* python-can has no FDF: is_fd says it, and FDF comes back clear. */
	struct vcb_frame f = fd(0x10, 3, CANFD_FDF | CANFD_BRS, 1), got, want = f;
	uint8_t buf[256];
	ssize_t n = pycan_encode(&f, 1, "x", buf, sizeof(buf));

	want.cf.flags = CANFD_BRS;
	CHECK(n > 0);
	CHECK_BAD(pycan_decode_exact(buf, n, &got), VCB_OK);
	CHECK_FRAME(&got, &want);
}

/* Every size below the one needed gives -1 and no byte past @size. */
static void pycan_small_buffer(const struct vcb_frame *f, const char *channel, int line)
{
	uint8_t full[PYCAN_DATAGRAM_MAX], buf[PYCAN_DATAGRAM_MAX + 32];
	ssize_t need = pycan_encode(f, 1e9, channel, full, sizeof(full));

	if (!check(need > 0, line, "pycan_encode() > 0"))
		return;
	for (size_t size = 0; size <= (size_t)need; size++) {
		ssize_t n;
		size_t i;

		ctx("size %zu of %zd", size, need);
		memset(buf, 0xa5, sizeof(buf));
		n = pycan_encode(f, 1e9, channel, buf, size);
		check_eq(n, size < (size_t)need ? -1 : need, line, "pycan_encode()");
		for (i = size; i < sizeof(buf) && buf[i] == 0xa5; i++)
			;
		check_eq(i, sizeof(buf), line, "first byte written past size");
		if (size == (size_t)need)
			check(!memcmp(buf, full, need), line, "same bytes at the exact size");
	}
}

static void t_pycan_small_buffer(void)
{
	struct vcb_frame a = cc(0x123, 8, 1);
	struct vcb_frame b = fd(0x1fffffff | CAN_EFF_FLAG, 64, CANFD_BRS | CANFD_ESI, 2);
	struct vcb_frame c = cc(0x7ff | CAN_RTR_FLAG, 8, 0);

	pycan_small_buffer(&a, "vcan0", __LINE__);
	pycan_small_buffer(&b, "a-rather-long-interface-name-for-str8", __LINE__);
	pycan_small_buffer(&c, NULL, __LINE__);
}

/* ---- pycan: against python-can ------------------------------------------ */

static void t_pycan_decode_python(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(pycan_py); i++) {
		const char *channel;
		double ts;
		struct vcb_frame want = pycan_py_frame(i, &ts, &channel), got;

		ctx("%s", pycan_py[i].name);
		memset(&got, 0x5a, sizeof(got));
		CHECK_BAD(pycan_decode_exact(pycan_py[i].bytes, pycan_py[i].len, &got), VCB_OK);
		CHECK_FRAME(&got, &want);
	}
}

static void t_pycan_decode_python_values(void)
{
	struct vcb_frame f;

	/* The same, field by field, as python-can printed them. */
	CHECK_BAD(pycan_decode_exact(pycan_py_cc, sizeof(pycan_py_cc), &f), VCB_OK);
	CHECK(!f.fd);
	CHECK_EQ(f.cf.can_id, 0x123);
	CHECK_EQ(f.cf.len, 4);
	CHECK(!memcmp(f.cf.data, "\xde\xad\xbe\xef", 4));

	CHECK_BAD(pycan_decode_exact(pycan_py_eff_rtr, sizeof(pycan_py_eff_rtr), &f), VCB_OK);
	CHECK(!f.fd);
	CHECK_EQ(f.cf.can_id, 0x1abcdef0 | CAN_EFF_FLAG | CAN_RTR_FLAG);
	CHECK_EQ(f.cf.len, 5);
	CHECK_EQ(vcb_frame_data_len(&f), 0);

	CHECK_BAD(pycan_decode_exact(pycan_py_fd_brs64, sizeof(pycan_py_fd_brs64), &f), VCB_OK);
	CHECK(f.fd);
	CHECK_EQ(f.cf.can_id, 0x7ff);
	CHECK_EQ(f.cf.len, 64);
	CHECK_EQ(f.cf.flags, CANFD_BRS);
	CHECK_EQ(f.cf.data[0], 0x00);
	CHECK_EQ(f.cf.data[63], 0x3f);

	CHECK_BAD(pycan_decode_exact(pycan_py_err, sizeof(pycan_py_err), &f), VCB_OK);
	CHECK(!f.fd);
	CHECK_EQ(f.cf.can_id, CAN_ERR_FLAG | 0x40);
	CHECK_EQ(f.cf.len, 8);
}

/*
 * pycan_encode() gives python-can's own bytes, key order and smallest
 * integer encodings included (checked once by hand: msgpack.unpackb() and
 * can.Message(check=True, **d) take them). A change here is a change of
 * the wire format.
 */
static void t_pycan_encode_python_bytes(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(pycan_py); i++) {
		const char *channel;
		double ts;
		struct vcb_frame f = pycan_py_frame(i, &ts, &channel);
		uint8_t buf[PYCAN_DATAGRAM_MAX];
		ssize_t n = pycan_encode(&f, ts, channel, buf, sizeof(buf));

		ctx("%s", pycan_py[i].name);
		CHECK_EQ(n, pycan_py[i].len);
		CHECK(n == (ssize_t)pycan_py[i].len && !memcmp(buf, pycan_py[i].bytes, n));
	}
}

/* ---- pycan: malformed --------------------------------------------------- */

static void t_pycan_truncated(void)
{
	struct vcb_frame f;

	/* Every prefix of a datagram, down to nothing at all. */
	for (size_t i = 0; i < ARRAY_SIZE(pycan_py); i++) {
		for (size_t len = 0; len < pycan_py[i].len; len++) {
			ctx("%s, %zu of %zu bytes", pycan_py[i].name, len, pycan_py[i].len);
			CHECK_BAD(pycan_decode_exact(pycan_py[i].bytes, len, &f),
				  VCB_BAD_TRUNCATED);
		}
	}
}

static void t_pycan_trailing(void)
{
	static const uint8_t extra[] = { 0x00, 0xc0, 0xc1, 0x80, 0xff };
	uint8_t buf[512];
	struct vcb_frame f;
	size_t n = sizeof(pycan_py_cc);

	memcpy(buf, pycan_py_cc, n);
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
		ctx("extra %#x", extra[i]);
		buf[n] = extra[i];
		CHECK_BAD(pycan_decode_exact(buf, n + 1, &f), VCB_BAD_TRAILING);
	}
	ctx("two datagrams in one");
	memcpy(buf + n, pycan_py_cc, n);
	CHECK_BAD(pycan_decode_exact(buf, 2 * n, &f), VCB_BAD_TRAILING);
}

static void t_pycan_not_a_map(void)
{
	const struct {
		const char *what;
		const uint8_t *val;
		size_t len;
	} top[] = {
		{ "nil", MP(0xc0) },
		{ "true", MP(0xc3) },
		{ "int", MP(0x05) },
		{ "negative int", MP(0xff) },
		{ "float", MP(0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0) },
		{ "str", MP(0xa3, 'd', 'l', 'c') },
		{ "bin", MP(0xc4, 0x02, 0x01, 0x02) },
		{ "empty array", MP(0x90) },
		{ "array of a map", MP(0x91, 0x81, 0xa3, 'd', 'l', 'c', 0x00) },
		{ "ext", MP(0xd4, 0x01, 0x00) },
		{ "never used 0xc1", MP(0xc1) },
	};
	struct vcb_frame f;

	for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
		ctx("%s", top[i].what);
		CHECK_BAD(pycan_decode_exact(top[i].val, top[i].len, &f), VCB_BAD_ENCODING);
	}
}

static void t_pycan_unknown_key(void)
{
	static const char *const keys[] = {
		"foo", "check", "dlC", "data ", "is_extended", "timestamps", "",
	};
	struct vcb_frame f;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		struct dg d = dg_new();

		ctx("key \"%s\"", keys[i]);
		dg_set(&d, keys[i], MP(0xc2));
		CHECK_BAD(dg_decode(&d, &f), VCB_BAD_ENCODING);
	}

	/* Keys that are no str: python-can takes no bytes or int keywords. */
	static const uint8_t bin_key[] = { 0x81, 0xc4, 0x03, 'd', 'l', 'c', 0x00 };
	static const uint8_t int_key[] = { 0x81, 0x01, 0x00 };
	static const uint8_t nil_key[] = { 0x81, 0xc0, 0x00 };
	static const uint8_t map_key[] = { 0x81, 0x81, 0xa3, 'd', 'l', 'c', 0x00, 0x00 };

	ctx("bin key");
	CHECK_BAD(pycan_decode_exact(bin_key, sizeof(bin_key), &f), VCB_BAD_ENCODING);
	ctx("int key");
	CHECK_BAD(pycan_decode_exact(int_key, sizeof(int_key), &f), VCB_BAD_ENCODING);
	ctx("nil key");
	CHECK_BAD(pycan_decode_exact(nil_key, sizeof(nil_key), &f), VCB_BAD_ENCODING);
	ctx("map as key");
	CHECK_BAD(pycan_decode_exact(map_key, sizeof(map_key), &f), VCB_BAD_ENCODING);
}

static const struct kv wrong_types[] = {
	{ "timestamp", MP(0xa1, 'x') },
	{ "timestamp", MP(0xc0) },
	{ "timestamp", MP(0xc3) },
	{ "timestamp", MP(0xff) },
	{ "timestamp", MP(0xc4, 0x00) },
	{ "timestamp", MP(0x90) },
	{ "timestamp", MP(0xd6, 0xff, 0, 0, 0, 1) },	/* msgpack's timestamp ext */
	{ "arbitration_id", MP(0xff) },
	{ "arbitration_id", MP(0xd1, 0xfe, 0xdd) },
	{ "arbitration_id", MP(0xcb, 0x40, 0x72, 0x30, 0, 0, 0, 0, 0) },
	{ "arbitration_id", MP(0xca, 0x43, 0x91, 0x80, 0x00) },
	{ "arbitration_id", MP(0xa3, '2', '9', '1') },
	{ "arbitration_id", MP(0xc0) },
	{ "arbitration_id", MP(0xc3) },
	{ "arbitration_id", MP(0x91, 0x01) },
	{ "is_extended_id", MP(0x01) },
	{ "is_extended_id", MP(0x00) },
	{ "is_extended_id", MP(0xc0) },
	{ "is_extended_id", MP(0xa4, 't', 'r', 'u', 'e') },
	{ "is_remote_frame", MP(0x01) },
	{ "is_remote_frame", MP(0xc0) },
	{ "is_error_frame", MP(0x00) },
	{ "is_error_frame", MP(0xc4, 0x01, 0x01) },
	{ "is_fd", MP(0x01) },
	{ "is_fd", MP(0xc0) },
	{ "bitrate_switch", MP(0x00) },
	{ "bitrate_switch", MP(0x80) },
	{ "error_state_indicator", MP(0x00) },
	{ "error_state_indicator", MP(0xa0) },
	{ "dlc", MP(0xc0) },
	{ "dlc", MP(0xff) },
	{ "dlc", MP(0xca, 0x40, 0x80, 0x00, 0x00) },
	{ "dlc", MP(0xa1, '4') },
	{ "dlc", MP(0xc2) },
	{ "data", MP(0xa4, 0xde, 0xad, 0xbe, 0xef) },
	{ "data", MP(0x94, 0xcc, 0xde, 0xcc, 0xad, 0xcc, 0xbe, 0xcc, 0xef) },
	{ "data", MP(0xc0) },
	{ "data", MP(0x04) },
	{ "data", MP(0x81, 0xa1, 'a', 0x01) },
	{ "data", MP(0xd6, 0x01, 0xde, 0xad, 0xbe, 0xef) },
};

static void t_pycan_wrong_types(void)
{
	struct vcb_frame f;

	for (size_t i = 0; i < ARRAY_SIZE(wrong_types); i++) {
		struct dg d = dg_new();
		char hex[8];

		snprintf(hex, sizeof(hex), "%02x", wrong_types[i].val[0]);
		ctx("%s = %s...", wrong_types[i].key, hex);
		dg_set(&d, wrong_types[i].key, wrong_types[i].val, wrong_types[i].len);
		CHECK_BAD(dg_decode(&d, &f), VCB_BAD_ENCODING);
	}
}

static void t_pycan_good_types(void)
{
	const struct kv good[] = {
		/* python-can replaces the timestamp with its receive time. */
		{ "timestamp", MP(0xca, 0x3f, 0x80, 0x00, 0x00) },
		{ "timestamp", MP(0x00) },
		{ "timestamp", MP(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) },
		/* Any channel: its sender's name for its bus. */
		{ "channel", MP(0xc0) },
		{ "channel", MP(0x00) },
		{ "channel", MP(0xff) },
		{ "channel", MP(0xc3) },
		{ "channel", MP(0xc4, 0x01, 0x00) },
		{ "channel", MP(0x92, 0x01, 0xa1, 'x') },
		{ "channel", MP(0x81, 0xa1, 'x', 0x80) },
		/* Integers in any width msgpack has for them. */
		{ "arbitration_id", MP(0xcf, 0, 0, 0, 0, 0, 0, 0x01, 0x23) },
		{ "arbitration_id", MP(0xd1, 0x01, 0x23) },
		{ "dlc", MP(0xcc, 0x04) },
		{ "dlc", MP(0xd0, 0x04) },
		{ "dlc", MP(0xcf, 0, 0, 0, 0, 0, 0, 0, 0x04) },
		{ "data", MP(0xc5, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef) },
		{ "data", MP(0xc6, 0x00, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef) },
	};
	struct vcb_frame want = cc(0x123, 4, 0), f;

	memcpy(want.cf.data, "\xde\xad\xbe\xef", 4);
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct dg d = dg_new();
		char hex[8];

		snprintf(hex, sizeof(hex), "%02x", good[i].val[0]);
		ctx("%s = %s...", good[i].key, hex);
		dg_set(&d, good[i].key, good[i].val, good[i].len);
		CHECK_BAD(dg_decode(&d, &f), VCB_OK);
		CHECK_FRAME(&f, &want);
	}
}

static void t_pycan_nested(void)
{
	uint8_t deep[128], *p = deep;
	struct vcb_frame f;
	struct dg d;

	/* Containers where a scalar belongs. */
	d = dg_new();
	dg_set(&d, "data", MP(0x91, 0xc4, 0x01, 0x00));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_ENCODING);
	d = dg_new();
	dg_set(&d, "is_fd", MP(0x81, 0xa5, 'i', 's', '_', 'f', 'd', 0xc3));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_ENCODING);
	d = dg_new();
	dg_set(&d, "arbitration_id", MP(0x81, 0x01, 0x02));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_ENCODING);

	/*
	 * Nesting deeper than msgpack-c's parse stack (32) is refused, even
	 * in the channel, where any value goes.
	 */
	d = dg_new();
	for (int i = 0; i < 64; i++)
		*p++ = 0x91;
	*p++ = 0xc0;
	dg_set(&d, "channel", deep, p - deep);
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_ENCODING);
	/* A little nesting there is fine. */
	d = dg_new();
	dg_set(&d, "channel", deep + 64 - 8, 9);
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
}

static void t_pycan_id(void)
{
	const struct {
		bool ext;
		const uint8_t *val;
		size_t len;
		enum vcb_bad want;
	} ids[] = {
		{ false, MP(0xcd, 0x07, 0xff), VCB_OK },
		{ false, MP(0xcd, 0x08, 0x00), VCB_BAD_ID },
		{ false, MP(0xce, 0x1f, 0xff, 0xff, 0xff), VCB_BAD_ID },
		{ true, MP(0xce, 0x1f, 0xff, 0xff, 0xff), VCB_OK },
		{ true, MP(0xce, 0x20, 0x00, 0x00, 0x00), VCB_BAD_ID },
		{ true, MP(0xce, 0xff, 0xff, 0xff, 0xff), VCB_BAD_ID },
		{ true, MP(0xcf, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x23), VCB_BAD_ID },
		{ false, MP(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), VCB_BAD_ID },
	};
	struct vcb_frame f;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		struct dg d = dg_new();

		ctx("#%zu", i);
		dg_set(&d, "is_extended_id", ids[i].ext ? mp_true : mp_false, 1);
		dg_set(&d, "arbitration_id", ids[i].val, ids[i].len);
		/* An error frame's id is checked as python-can checks it, too. */
		CHECK_BAD(dg_decode(&d, &f), ids[i].want);
		dg_set(&d, "is_error_frame", MP(0xc3));
		dg_set(&d, "dlc", MP(0x08));
		dg_set(&d, "data", MP(0xc4, 0x08, 0, 0, 0, 0, 0, 0, 0, 0));
		CHECK_BAD(dg_decode(&d, &f), ids[i].want);
	}
}

/* A "data" of @len bytes (bin8), in @buf. */
static size_t bin8(uint8_t *buf, unsigned int len)
{
	buf[0] = 0xc4;
	buf[1] = len;
	for (unsigned int i = 0; i < len; i++)
		buf[2 + i] = i;
	return 2 + len;
}

static void t_pycan_dlc(void)
{
	uint8_t data[2 + 255], dlc[2];
	struct vcb_frame f;

	/* dlc equal to len(data): up to 8 Classical, up to 64 FD. */
	for (unsigned int len = 0; len <= 255; len++) {
		struct dg d = dg_new();
		enum vcb_bad cc_want = len <= 8 ? VCB_OK : VCB_BAD_LENGTH;
		enum vcb_bad fd_want = len <= 64 ? VCB_OK : VCB_BAD_LENGTH;

		ctx("dlc = len(data) = %u", len);
		dlc[0] = 0xcc;
		dlc[1] = len;
		dg_set(&d, "dlc", dlc, 2);
		dg_set(&d, "data", data, bin8(data, len));
		CHECK_BAD(dg_decode(&d, &f), cc_want);
		dg_set(&d, "is_fd", MP(0xc3));
		CHECK_BAD(dg_decode(&d, &f), fd_want);
		if (len <= 64) {
			CHECK(f.fd && f.cf.len == len);
			CHECK(!memcmp(f.cf.data, data + 2, len));
		}
	}
}

static void t_pycan_dlc_mismatch(void)
{
	const struct {
		const char *what;
		const uint8_t *val;
		size_t len;
	} dlcs[] = {
		{ "dlc 3", MP(0x03) },
		{ "dlc 5", MP(0x05) },
		{ "dlc 0", MP(0x00) },
		{ "dlc 9", MP(0x09) },
		{ "dlc 2^64-1", MP(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) },
	};
	struct vcb_frame f;

	/* The base has 4 bytes of data. */
	for (size_t i = 0; i < ARRAY_SIZE(dlcs); i++) {
		struct dg d = dg_new();

		ctx("%s", dlcs[i].what);
		dg_set(&d, "dlc", dlcs[i].val, dlcs[i].len);
		CHECK_BAD(dg_decode(&d, &f), VCB_BAD_LENGTH);
		dg_set(&d, "is_fd", MP(0xc3));
		CHECK_BAD(dg_decode(&d, &f), VCB_BAD_LENGTH);
	}
}

static void t_pycan_rtr_rules(void)
{
	struct vcb_frame f;
	struct dg d;

	/* Remote frame: dlc is the DLC, no data. */
	d = dg_new();
	dg_set(&d, "is_remote_frame", MP(0xc3));
	dg_set(&d, "data", MP(0xc4, 0x00));
	dg_set(&d, "dlc", MP(0x08));
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK_EQ(f.cf.can_id, 0x123 | CAN_RTR_FLAG);
	CHECK_EQ(f.cf.len, 8);
	dg_set(&d, "dlc", MP(0x09));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_LENGTH);

	ctx("remote frame with data");
	d = dg_new();
	dg_set(&d, "is_remote_frame", MP(0xc3));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_LENGTH);

	ctx("remote FD frame");
	d = dg_new();
	dg_set(&d, "is_remote_frame", MP(0xc3));
	dg_set(&d, "is_fd", MP(0xc3));
	dg_set(&d, "data", MP(0xc4, 0x00));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_FLAGS);

	ctx("remote error frame");
	d = dg_new();
	dg_set(&d, "is_remote_frame", MP(0xc3));
	dg_set(&d, "is_error_frame", MP(0xc3));
	dg_set(&d, "data", MP(0xc4, 0x00));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_FLAGS);
}

static void t_pycan_flags_rules(void)
{
	struct vcb_frame f;
	struct dg d;

	ctx("BRS on Classical");
	d = dg_new();
	dg_set(&d, "bitrate_switch", MP(0xc3));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_FLAGS);
	ctx("ESI on Classical");
	d = dg_new();
	dg_set(&d, "error_state_indicator", MP(0xc3));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_FLAGS);
	ctx("BRS and ESI on FD");
	dg_set(&d, "bitrate_switch", MP(0xc3));
	dg_set(&d, "is_fd", MP(0xc3));
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK(f.fd && f.cf.flags == (CANFD_BRS | CANFD_ESI));
	/* python-can takes an FD error frame; no controller sends one. */
	ctx("FD error frame");
	d = dg_new();
	dg_set(&d, "is_error_frame", MP(0xc3));
	dg_set(&d, "is_fd", MP(0xc3));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_FLAGS);
}

/* The base datagram with a channel (str16) making it @len bytes long. */
static size_t pycan_sized(uint8_t *buf, size_t size, size_t len)
{
	static uint8_t chan[PYCAN_DATAGRAM_MAX + 64];
	struct dg d = dg_new();
	size_t base, n;

	dg_del(&d, "channel");
	base = dg_pack(&d, buf, size) + 1 + strlen("channel") + 3;
	if (len < base || len - base + 3 > sizeof(chan))
		abort();
	n = len - base;
	chan[0] = 0xda;
	chan[1] = n >> 8;
	chan[2] = n;
	memset(chan + 3, 'c', n);
	dg_set(&d, "channel", chan, n + 3);
	return dg_pack(&d, buf, size);
}

static void t_pycan_oversize(void)
{
	uint8_t buf[PYCAN_DATAGRAM_MAX + 64];
	struct vcb_frame f;
	size_t n;

	n = pycan_sized(buf, sizeof(buf), PYCAN_DATAGRAM_MAX);
	CHECK_EQ(n, PYCAN_DATAGRAM_MAX);
	CHECK_BAD(pycan_decode_exact(buf, n, &f), VCB_OK);
	n = pycan_sized(buf, sizeof(buf), PYCAN_DATAGRAM_MAX + 1);
	CHECK_EQ(n, PYCAN_DATAGRAM_MAX + 1);
	CHECK_BAD(pycan_decode_exact(buf, n, &f), VCB_BAD_LENGTH);
	/* Checked before anything else: valid msgpack or not. */
	memset(buf, 0xc1, sizeof(buf));
	CHECK_BAD(pycan_decode_exact(buf, PYCAN_DATAGRAM_MAX + 1, &f), VCB_BAD_LENGTH);
}

/*
 * Headers that claim more elements or bytes than the datagram holds.
 * Unchecked, msgpack-c would allocate 2^32 elements at once for a map32;
 * ASan would abort on that allocation, so getting here means none was made.
 */
static void t_pycan_huge_headers(void)
{
	const struct {
		const char *what;
		const uint8_t *val;
		size_t len;
	} top[] = {
		{ "map32", MP(0xdf, 0xff, 0xff, 0xff, 0xff) },
		{ "array32", MP(0xdd, 0xff, 0xff, 0xff, 0xff) },
		{ "bin32", MP(0xc6, 0xff, 0xff, 0xff, 0xff) },
		{ "str32", MP(0xdb, 0xff, 0xff, 0xff, 0xff) },
		{ "ext32", MP(0xc9, 0xff, 0xff, 0xff, 0xff) },
		{ "map16", MP(0xde, 0xff, 0xff) },
		{ "array16", MP(0xdc, 0xff, 0xff) },
		{ "map32 of 2 in 3 bytes", MP(0xdf, 0, 0, 0, 2, 0xa0, 0xc0, 0xa0) },
		{ "array32 of 4 in 3 bytes", MP(0xdd, 0, 0, 0, 4, 0xc0, 0xc0, 0xc0) },
	};
	const struct kv inner[] = {
		{ "data", MP(0xc6, 0x7f, 0xff, 0xff, 0xff) },
		{ "channel", MP(0xdd, 0xff, 0xff, 0xff, 0xff) },
		{ "channel", MP(0xdf, 0x10, 0x00, 0x00, 0x00, 0xc0, 0xc0) },
		{ "channel", MP(0x91, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xf0) },
		{ "timestamp", MP(0xc9, 0xff, 0xff, 0xff, 0xff, 0x01) },
	};
	struct vcb_frame f;

	for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
		ctx("%s", top[i].what);
		CHECK_BAD(pycan_decode_exact(top[i].val, top[i].len, &f), VCB_BAD_TRUNCATED);
	}
	for (size_t i = 0; i < ARRAY_SIZE(inner); i++) {
		struct dg d = dg_new();

		ctx("%s = %02x...", inner[i].key, inner[i].val[0]);
		dg_set(&d, inner[i].key, inner[i].val, inner[i].len);
		CHECK_BAD(dg_decode(&d, &f), VCB_BAD_TRUNCATED);
	}
}

static void t_pycan_defaults(void)
{
	struct vcb_frame f;
	struct dg d;

	/* can.Message(): arbitration_id 0, is_extended_id True, no data. */
	ctx("empty map");
	d = dg_empty();
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK(!f.fd);
	CHECK_EQ(f.cf.can_id, CAN_EFF_FLAG);
	CHECK_EQ(f.cf.len, 0);

	ctx("no is_extended_id");
	d = dg_new();
	dg_del(&d, "is_extended_id");
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK_EQ(f.cf.can_id, 0x123 | CAN_EFF_FLAG);
	CHECK_EQ(f.cf.len, 4);

	/* dlc: len(data). */
	ctx("no dlc");
	d = dg_new();
	dg_del(&d, "dlc");
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK_EQ(f.cf.can_id, 0x123);
	CHECK_EQ(f.cf.len, 4);
	CHECK(!memcmp(f.cf.data, "\xde\xad\xbe\xef", 4));

	ctx("no dlc, FD");
	dg_set(&d, "is_fd", MP(0xc3));
	dg_set(&d, "data", MP(0xc4, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK(f.fd);
	CHECK_EQ(f.cf.len, 12);
	CHECK_EQ(f.cf.data[11], 12);

	ctx("no dlc, 9 bytes of data");
	dg_set(&d, "is_fd", MP(0xc2));
	dg_set(&d, "data", MP(0xc4, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9));
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_LENGTH);

	ctx("no data");
	d = dg_new();
	dg_del(&d, "data");
	CHECK_BAD(dg_decode(&d, &f), VCB_BAD_LENGTH);	/* dlc 4, no data */
	dg_del(&d, "dlc");
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK_EQ(f.cf.len, 0);

	ctx("remote frame, only its dlc");
	d = dg_empty();
	dg_set(&d, "is_remote_frame", MP(0xc3));
	dg_set(&d, "dlc", MP(0x03));
	dg_set(&d, "arbitration_id", MP(0x7f));
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK_EQ(f.cf.can_id, 0x7f | CAN_EFF_FLAG | CAN_RTR_FLAG);
	CHECK_EQ(f.cf.len, 3);

	ctx("no timestamp, no channel, no flags");
	d = dg_new();
	dg_del(&d, "timestamp");
	dg_del(&d, "channel");
	dg_del(&d, "is_fd");
	dg_del(&d, "bitrate_switch");
	dg_del(&d, "error_state_indicator");
	dg_del(&d, "is_remote_frame");
	dg_del(&d, "is_error_frame");
	CHECK_BAD(dg_decode(&d, &f), VCB_OK);
	CHECK_EQ(f.cf.can_id, 0x123);
}

/* ---- cannelloni: frames and UDP packets --------------------------------- */

static void check_encoding(const struct vcb_frame *f, const uint8_t *want, size_t len,
			   int line)
{
	uint8_t buf[CNL_FRAME_MAX + 16];
	size_t n;

	memset(buf, 0xa5, sizeof(buf));
	check_eq(cnl_frame_size(f), len, line, "cnl_frame_size()");
	n = cnl_frame_encode(f, buf);
	check_eq(n, len, line, "cnl_frame_encode()");
	check(n == len && !memcmp(buf, want, len), line, "encoded bytes");
	check(buf[len] == 0xa5, line, "no byte written past the frame");
}

#define CHECK_ENCODING(f, ...) \
	check_encoding((f), (const uint8_t[]){ __VA_ARGS__ }, \
		       sizeof((const uint8_t[]){ __VA_ARGS__ }), __LINE__)

static void t_cnl_encode(void)
{
	struct vcb_frame f;

	f = cc(0x123, 3, 0);
	memcpy(f.cf.data, "\x11\x22\x33", 3);
	CHECK_ENCODING(&f, 0x00, 0x00, 0x01, 0x23, 0x03, 0x11, 0x22, 0x33);

	f = cc(0x7ff, 0, 0);
	CHECK_ENCODING(&f, 0x00, 0x00, 0x07, 0xff, 0x00);

	f = cc(0x12345678 | CAN_EFF_FLAG, 2, 0);
	memcpy(f.cf.data, "\xca\xfe", 2);
	CHECK_ENCODING(&f, 0x92, 0x34, 0x56, 0x78, 0x02, 0xca, 0xfe);

	/* Remote frame: the DLC, no data. */
	f = cc(0x7ff | CAN_RTR_FLAG, 4, 0);
	CHECK_ENCODING(&f, 0x40, 0x00, 0x07, 0xff, 0x04);
	f = cc(0x1abcdef0 | CAN_EFF_FLAG | CAN_RTR_FLAG, 8, 0);
	CHECK_ENCODING(&f, 0xda, 0xbc, 0xde, 0xf0, 0x08);

	f = cc(0x40 | CAN_ERR_FLAG, 8, 0);
	memcpy(f.cf.data, "\x00\x04\x00\x00\x00\x00\x00\x00", 8);
	CHECK_ENCODING(&f, 0x20, 0x00, 0x00, 0x40, 0x08,
		       0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);

	/* FD: bit 7 in len, then the flags; FDF is not carried. */
	f = fd(0x321, 2, CANFD_BRS, 0);
	memcpy(f.cf.data, "\xab\xcd", 2);
	CHECK_ENCODING(&f, 0x00, 0x00, 0x03, 0x21, 0x82, 0x01, 0xab, 0xcd);
	f = fd(0x1 | CAN_EFF_FLAG, 0, CANFD_ESI | CANFD_FDF, 0);
	CHECK_ENCODING(&f, 0x80, 0x00, 0x00, 0x01, 0x80, 0x02);
	f = fd(0x1, 12, CANFD_BRS | CANFD_ESI, 0);
	memset(f.cf.data, 0xee, 12);
	CHECK_ENCODING(&f, 0x00, 0x00, 0x00, 0x01, 0x8c, 0x03,
		       0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
		       0xee, 0xee, 0xee, 0xee, 0xee, 0xee);
}

static void t_cnl_frame_size(void)
{
	for (unsigned int len = 0; len <= CANFD_MAX_DLEN; len++) {
		struct vcb_frame f = fd(0x1, len, 0, 0), r = cc(CAN_RTR_FLAG, len % 9, 0);
		struct vcb_frame c = cc(0x1, len % 9, 0);
		uint8_t buf[CNL_FRAME_MAX];

		ctx("len %u", len);
		CHECK_EQ(cnl_frame_size(&f), 6 + len);
		CHECK_EQ(cnl_frame_size(&c), 5 + len % 9);
		CHECK_EQ(cnl_frame_size(&r), 5);
		CHECK_EQ(cnl_frame_encode(&f, buf), cnl_frame_size(&f));
		CHECK_EQ(cnl_frame_encode(&c, buf), cnl_frame_size(&c));
		CHECK_EQ(cnl_frame_encode(&r, buf), cnl_frame_size(&r));
	}
	CHECK_EQ(CNL_FRAME_MAX, 70);
}

static void t_cnl_header(void)
{
	uint8_t h[CNL_HEADER_LEN + 1];

	memset(h, 0xa5, sizeof(h));
	cnl_packet_header(h, 0xab, 0x1234);
	CHECK(!memcmp(h, "\x02\x00\xab\x12\x34\xa5", 6));
	cnl_packet_header(h, 0, 0xffff);
	CHECK(!memcmp(h, "\x02\x00\x00\xff\xff", 5));
}

/* A UDP packet of @n frames, as the bridge sends it. */
static size_t cnl_packet(uint8_t *out, uint8_t seq, const struct vcb_frame *fs, size_t n)
{
	size_t len = CNL_HEADER_LEN;

	cnl_packet_header(out, seq, n);
	for (size_t i = 0; i < n; i++)
		len += cnl_frame_encode(&fs[i], out + len);
	return len;
}

/* cnl_packet_decode() of a copy exactly @len long, the frames in @s. */
static enum vcb_bad cnl_decode_exact(const uint8_t *buf, size_t len, uint8_t *seq,
				     struct sink *s)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum vcb_bad why;

	if (!copy)
		abort();
	memcpy(copy, buf, len);
	s->n = 0;
	why = cnl_packet_decode(copy, len, seq, sink_emit, s);
	free(copy);
	return why;
}

static const struct vcb_frame *some_frames(size_t *n)
{
	static struct vcb_frame fs[9];

	fs[0] = cc(0x123, 3, 1);
	fs[1] = fd(0x1fffffff | CAN_EFF_FLAG, 64, CANFD_BRS | CANFD_ESI, 2);
	fs[2] = cc(0x7ff | CAN_RTR_FLAG, 8, 0);
	fs[3] = cc(0x12345 | CAN_EFF_FLAG, 8, 3);
	fs[4] = cc(CAN_ERR_FLAG | 0x40, 8, 4);
	fs[5] = fd(0x0, 0, 0, 0);
	fs[6] = cc(0x1, 0, 0);
	fs[7] = fd(0x2, 7, CANFD_ESI, 5);
	fs[8] = cc(0x3 | CAN_EFF_FLAG | CAN_RTR_FLAG, 0, 0);
	*n = ARRAY_SIZE(fs);
	return fs;
}

static void t_cnl_udp_round_trip(void)
{
	uint8_t buf[1024], seq = 0;
	struct sink s;
	size_t n, len;
	const struct vcb_frame *fs = some_frames(&n);

	for (size_t count = 0; count <= n; count++) {
		ctx("%zu frames", count);
		len = cnl_packet(buf, 0x7e + count, fs, count);
		CHECK_EQ(buf[3] << 8 | buf[4], count);
		CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_OK);
		CHECK_EQ(seq, 0x7e + count);
		CHECK_EQ(s.n, count);
		for (size_t i = 0; i < count && i < s.n; i++)
			CHECK_FRAME(&s.f[i], &fs[i]);
	}
}

/* A header and the raw frame bytes @frame, @count frames claimed. */
static size_t cnl_raw(uint8_t *out, uint16_t count, const uint8_t *frame, size_t len)
{
	cnl_packet_header(out, 1, count);
	memcpy(out + CNL_HEADER_LEN, frame, len);
	return CNL_HEADER_LEN + len;
}

#define CNL_RAW(out, count, ...) \
	cnl_raw((out), (count), (const uint8_t[]){ __VA_ARGS__ }, \
		sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void t_cnl_udp_malformed(void)
{
	uint8_t buf[1024], seq;
	struct sink s;
	size_t len;

	for (len = 0; len < CNL_HEADER_LEN; len++) {
		ctx("%zu bytes", len);
		CHECK_BAD(cnl_decode_exact((const uint8_t *)"\x02\x00\x01\x00\x00", len,
					   &seq, &s), VCB_BAD_TRUNCATED);
	}

	/* Versions and op codes: only 2 and DATA; 1/2 are ACK/NACK. */
	for (unsigned int v = 0; v < 256; v++) {
		uint8_t h[5] = { v, 0, 0, 0, 0 }, o[5] = { 2, v, 0, 0, 0 };

		ctx("version %u", v);
		CHECK_BAD(cnl_decode_exact(h, 5, &seq, &s), v == 2 ? VCB_OK : VCB_BAD_VERSION);
		ctx("op %u", v);
		CHECK_BAD(cnl_decode_exact(o, 5, &seq, &s), v == 0 ? VCB_OK : VCB_BAD_VERSION);
	}

	ctx("count 2, one frame");
	len = CNL_RAW(buf, 2, 0, 0, 1, 0x23, 1, 0xaa);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRUNCATED);
	ctx("count 65535, one frame");
	len = CNL_RAW(buf, 0xffff, 0, 0, 1, 0x23, 1, 0xaa);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRUNCATED);
	ctx("data cut short");
	len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 3, 0xaa, 0xbb);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRUNCATED);
	ctx("FD flags missing");
	len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 0x80);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRUNCATED);
	ctx("id cut short");
	len = CNL_RAW(buf, 1, 0, 0, 1);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRUNCATED);

	ctx("count 1, two frames");
	len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 1, 0xaa, 0, 0, 1, 0x23, 0);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRAILING);
	ctx("count 0, one byte");
	len = CNL_RAW(buf, 0, 0);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRAILING);
	ctx("one byte after the frame");
	len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 1, 0xaa, 0x00);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_TRAILING);

	ctx("Classical len 9");
	len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_LENGTH);
	ctx("Classical len 127");
	len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 0x7f);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_LENGTH);
	ctx("Classical remote frame, DLC 9");
	len = CNL_RAW(buf, 1, 0x40, 0, 1, 0x23, 9);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_LENGTH);
	ctx("FD len 65");
	len = cnl_raw(buf, 1, (const uint8_t *)"\x00\x00\x01\x23\xc1\x00", 6);
	memset(buf + len, 0x11, 65);
	len += 65;
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_LENGTH);
	ctx("FD remote frame");
	len = CNL_RAW(buf, 1, 0x40, 0, 1, 0x23, 0x80, 0x00);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_FLAGS);
	for (unsigned int bit = 3; bit < 8; bit++) {
		ctx("FD flag bit %u", bit);
		len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 0x81, 1 << bit, 0xaa);
		CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_FLAGS);
	}
	ctx("FD error frame");
	len = CNL_RAW(buf, 1, 0x20, 0, 0, 0x40, 0x80, 0x00);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_FLAGS);
	ctx("SFF id 0x800");
	len = CNL_RAW(buf, 1, 0, 0, 0x08, 0x00, 0);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_ID);
	ctx("SFF id 0x1fffffff, FD");
	len = CNL_RAW(buf, 1, 0x1f, 0xff, 0xff, 0xff, 0x80, 0x01);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_BAD_ID);
	ctx("no frame emitted");
	CHECK_EQ(s.n, 0);
}

static void t_cnl_udp_fdf(void)
{
	uint8_t buf[64], seq;
	struct vcb_frame want = fd(0x123, 1, CANFD_BRS, 0);
	struct sink s;
	size_t len;

	/* The kernel's FDF may come in; it goes no further. */
	want.cf.data[0] = 0xaa;
	len = CNL_RAW(buf, 1, 0, 0, 1, 0x23, 0x81, CANFD_FDF | CANFD_BRS, 0xaa);
	CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), VCB_OK);
	CHECK_EQ(s.n, 1);
	CHECK_FRAME(&s.f[0], &want);
}

static void t_cnl_udp_all_or_nothing(void)
{
	const struct {
		const char *what;
		const uint8_t *bytes;
		size_t len;
		unsigned int count;
		enum vcb_bad want;
	} last[] = {
		{ "bad SFF id", MP(0, 0, 0x08, 0x00, 1, 0xaa), 1, VCB_BAD_ID },
		{ "CC len 9", MP(0, 0, 1, 0x23, 9), 1, VCB_BAD_LENGTH },
		{ "FD remote", MP(0x40, 0, 1, 0x23, 0x80, 0), 1, VCB_BAD_FLAGS },
		{ "cut short", MP(0, 0, 1, 0x23, 4, 1, 2), 1, VCB_BAD_TRUNCATED },
		{ "missing", (const uint8_t *)"", 0, 1, VCB_BAD_TRUNCATED },
		{ "trailing", MP(0, 0, 1, 0x23, 0), 0, VCB_BAD_TRAILING },
	};
	uint8_t buf[1024], seq;
	struct sink s;
	size_t n;
	const struct vcb_frame *fs = some_frames(&n);

	for (size_t i = 0; i < ARRAY_SIZE(last); i++) {
		size_t len = cnl_packet(buf, 9, fs, n);

		ctx("%zu good frames, last %s", n, last[i].what);
		cnl_packet_header(buf, 9, n + last[i].count);
		memcpy(buf + len, last[i].bytes, last[i].len);
		len += last[i].len;
		CHECK_BAD(cnl_decode_exact(buf, len, &seq, &s), last[i].want);
		CHECK_EQ(s.n, 0);
	}
}

/* ---- cannelloni: TCP stream --------------------------------------------- */

/* Greeting and frames, as a peer sends them: its length. */
static size_t cnl_stream_bytes(uint8_t *out, const struct vcb_frame *fs, size_t n)
{
	size_t len = CNL_GREETING_LEN;

	memcpy(out, CNL_GREETING, CNL_GREETING_LEN);
	for (size_t i = 0; i < n; i++)
		len += cnl_frame_encode(&fs[i], out + len);
	return len;
}

/* Feeds @buf in chunks @chunk() chooses; stops at the first error. */
static enum vcb_bad feed_chunks(const uint8_t *buf, size_t len, struct sink *s,
				size_t (*chunk)(uint32_t *state), uint32_t state)
{
	struct cnl_stream st;
	enum vcb_bad why = VCB_OK;
	size_t off = 0;

	memset(&st, 0, sizeof(st));
	s->n = 0;
	while (off < len && !why) {
		size_t n = chunk(&state);
		uint8_t *copy;

		if (n > len - off)
			n = len - off;
		/* Each chunk on its own: ASan sees a read past any of them. */
		copy = malloc(n ? n : 1);
		if (!copy)
			abort();
		memcpy(copy, buf + off, n);
		why = cnl_stream_feed(&st, copy, n, sink_emit, s);
		free(copy);
		off += n;
	}
	return why;
}

static size_t chunk_all(uint32_t *state)
{
	(void)state;
	return SIZE_MAX;
}

static size_t chunk_byte(uint32_t *state)
{
	(void)state;
	return 1;
}

/* 0..40 bytes: empty feeds too, and frames split anywhere. */
static size_t chunk_random(uint32_t *state)
{
	return rnd(state) % 41;
}

static void check_sink(const struct sink *s, const struct vcb_frame *fs, size_t n, int line)
{
	check_eq(s->n, n, line, "frames emitted");
	for (size_t i = 0; i < n && i < s->n; i++)
		check_frame(&s->f[i], &fs[i], line);
}

static void t_cnl_tcp_chunks(void)
{
	uint8_t buf[2048];
	struct sink s;
	size_t n, len;
	const struct vcb_frame *fs = some_frames(&n);

	len = cnl_stream_bytes(buf, fs, n);
	ctx("all at once");
	CHECK_BAD(feed_chunks(buf, len, &s, chunk_all, 0), VCB_OK);
	check_sink(&s, fs, n, __LINE__);
	ctx("byte by byte");
	CHECK_BAD(feed_chunks(buf, len, &s, chunk_byte, 0), VCB_OK);
	check_sink(&s, fs, n, __LINE__);
	for (uint32_t seed = 1; seed <= 64; seed++) {
		ctx("random chunks, seed %u", seed);
		CHECK_BAD(feed_chunks(buf, len, &s, chunk_random, seed), VCB_OK);
		check_sink(&s, fs, n, __LINE__);
	}
}

static void t_cnl_tcp_greeting_only(void)
{
	struct cnl_stream st;
	struct sink s = { .n = 0 };

	memset(&st, 0, sizeof(st));
	CHECK_BAD(cnl_stream_feed(&st, (const uint8_t *)"CANNELLONI", 10, sink_emit, &s),
		  VCB_OK);
	CHECK(!st.greeted);
	CHECK_BAD(cnl_stream_feed(&st, (const uint8_t *)"v1", 2, sink_emit, &s), VCB_OK);
	CHECK(st.greeted);
	CHECK_BAD(cnl_stream_feed(&st, NULL, 0, sink_emit, &s), VCB_OK);
	CHECK_EQ(s.n, 0);
}

static void t_cnl_tcp_bad_greeting(void)
{
	/* Twelve bytes each, nul-padded: a UDP header, a web client, ... */
	static const char bad[][CNL_GREETING_LEN + 1] = {
		"CANNELLONIv2", "CANNELLONIv0", "cannelloniv1", "GET / HTTP/1",
		"\x02\x00\x00\x00\x01", "CANNELLONI", " CANNELLONIv",
	};
	uint8_t buf[CNL_GREETING_LEN + 5];
	struct sink s;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(buf, bad[i], CNL_GREETING_LEN);
		/* A good frame after it changes nothing. */
		memcpy(buf + CNL_GREETING_LEN, "\x00\x00\x01\x23\x00", 5);
		ctx("greeting #%zu, at once", i);
		CHECK_BAD(feed_chunks(buf, sizeof(buf), &s, chunk_all, 0), VCB_BAD_VERSION);
		CHECK_EQ(s.n, 0);
		ctx("greeting #%zu, byte by byte", i);
		CHECK_BAD(feed_chunks(buf, sizeof(buf), &s, chunk_byte, 0), VCB_BAD_VERSION);
		CHECK_EQ(s.n, 0);
	}
}

static void t_cnl_tcp_garbage_after_frames(void)
{
	const struct {
		const char *what;
		const uint8_t *bytes;
		size_t len;
		enum vcb_bad want;
	} garbage[] = {
		{ "CC len 9", MP(0, 0, 1, 0x23, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9), VCB_BAD_LENGTH },
		{ "len 0x7f", MP(0xff, 0xff, 0xff, 0xff, 0x7f), VCB_BAD_LENGTH },
		{ "FD len 65", MP(0, 0, 1, 0x23, 0xc1, 0), VCB_BAD_LENGTH },
		{ "FD remote", MP(0x40, 0, 1, 0x23, 0x80, 0), VCB_BAD_FLAGS },
		{ "FD flag 0x10", MP(0, 0, 1, 0x23, 0x81, 0x10, 0xaa), VCB_BAD_FLAGS },
		{ "SFF id 0x800", MP(0, 0, 8, 0, 0), VCB_BAD_ID },
		{ "greeting again", MP('C', 'A', 'N', 'N', 'E', 'L', 'L', 'O', 'N', 'I'),
		  VCB_BAD_LENGTH },
	};
	uint8_t buf[2048];
	struct sink s;
	size_t n;
	const struct vcb_frame *fs = some_frames(&n);

	for (size_t i = 0; i < ARRAY_SIZE(garbage); i++) {
		size_t len = cnl_stream_bytes(buf, fs, 3);

		memcpy(buf + len, garbage[i].bytes, garbage[i].len);
		len += garbage[i].len;
		/* And a good frame after it, which must not come out. */
		memcpy(buf + len, "\x00\x00\x01\x23\x00", 5);
		len += 5;
		ctx("%s, at once", garbage[i].what);
		CHECK_BAD(feed_chunks(buf, len, &s, chunk_all, 0), garbage[i].want);
		check_sink(&s, fs, 3, __LINE__);
		ctx("%s, byte by byte", garbage[i].what);
		CHECK_BAD(feed_chunks(buf, len, &s, chunk_byte, 0), garbage[i].want);
		check_sink(&s, fs, 3, __LINE__);
		ctx("%s, random chunks", garbage[i].what);
		CHECK_BAD(feed_chunks(buf, len, &s, chunk_random, 7 + i), garbage[i].want);
		check_sink(&s, fs, 3, __LINE__);
	}
}

static void t_cnl_tcp_split_frame(void)
{
	struct vcb_frame a = fd(0x1abcdef0 | CAN_EFF_FLAG, 64, CANFD_BRS, 0x42);
	struct vcb_frame b = cc(0x321, 5, 0x17);
	uint8_t fa[CNL_FRAME_MAX], fb[CNL_FRAME_MAX];
	size_t na = cnl_frame_encode(&a, fa), nb = cnl_frame_encode(&b, fb);
	struct cnl_stream st;
	struct sink s;

	CHECK_EQ(na, CNL_FRAME_MAX);
	/* The largest frame, split at every byte. */
	for (size_t k = 0; k <= na; k++) {
		ctx("split at %zu", k);
		memset(&st, 0, sizeof(st));
		s.n = 0;
		CHECK_BAD(cnl_stream_feed(&st, (const uint8_t *)CNL_GREETING,
					  CNL_GREETING_LEN, sink_emit, &s), VCB_OK);
		CHECK_BAD(cnl_stream_feed(&st, fa, k, sink_emit, &s), VCB_OK);
		CHECK_EQ(s.n, k == na);
		CHECK_BAD(cnl_stream_feed(&st, fa + k, na - k, sink_emit, &s), VCB_OK);
		CHECK_EQ(s.n, 1);
		CHECK_FRAME(&s.f[0], &a);
	}

	/* The end of one frame and the start of the next in one feed. */
	ctx("across frames");
	memset(&st, 0, sizeof(st));
	s.n = 0;
	uint8_t mid[3 + 2];

	memcpy(mid, fa + na - 3, 3);
	memcpy(mid + 3, fb, 2);
	CHECK_BAD(cnl_stream_feed(&st, (const uint8_t *)CNL_GREETING, CNL_GREETING_LEN,
				  sink_emit, &s), VCB_OK);
	CHECK_BAD(cnl_stream_feed(&st, fa, na - 3, sink_emit, &s), VCB_OK);
	CHECK_EQ(s.n, 0);
	CHECK_BAD(cnl_stream_feed(&st, mid, sizeof(mid), sink_emit, &s), VCB_OK);
	CHECK_EQ(s.n, 1);
	CHECK_BAD(cnl_stream_feed(&st, fb + 2, nb - 2, sink_emit, &s), VCB_OK);
	CHECK_EQ(s.n, 2);
	CHECK_FRAME(&s.f[0], &a);
	CHECK_FRAME(&s.f[1], &b);
}

/* ---- main --------------------------------------------------------------- */

static const struct tap_test tests[] = {
	{ t_check_sff_id, "vcb_frame_check: SFF ids above 0x7ff are bad" },
	{ t_check_eff_id, "vcb_frame_check: any 29-bit EFF id is fine" },
	{ t_check_error_frames, "vcb_frame_check: error frames carry a class, Classical only" },
	{ t_check_cc_len, "vcb_frame_check: Classical len (and remote DLC) up to 8" },
	{ t_check_fd_len, "vcb_frame_check: FD len up to 64" },
	{ t_check_fd_rtr, "vcb_frame_check: no FD remote frames" },
	{ t_check_fd_flags, "vcb_frame_check: FD flags BRS, ESI, FDF only" },
	{ t_check_len8_dlc, "vcb_frame_check: len8_dlc 9..15 only with 8 bytes" },
	{ t_bad_names, "vcb_bad_name: every reason has its name" },
	{ t_pycan_rt_cc, "pycan: Classical frames of 0..8 bytes round trip" },
	{ t_pycan_rt_rtr, "pycan: remote frames keep their DLC, carry no data" },
	{ t_pycan_rt_eff, "pycan: EFF frames round trip" },
	{ t_pycan_rt_err, "pycan: error frames round trip" },
	{ t_pycan_rt_fd, "pycan: FD frames of 0..64 bytes, every BRS/ESI, round trip" },
	{ t_pycan_fdf_not_carried, "pycan: FDF is not carried" },
	{ t_pycan_small_buffer, "pycan: encode into a short buffer fails, writes nothing past it" },
	{ t_pycan_decode_python, "pycan: decodes python-can's own datagrams" },
	{ t_pycan_decode_python_values, "pycan: python-can datagrams field by field" },
	{ t_pycan_encode_python_bytes, "pycan: encodes python-can's exact bytes" },
	{ t_pycan_truncated, "pycan: every truncated datagram is truncated" },
	{ t_pycan_trailing, "pycan: bytes after the map are trailing" },
	{ t_pycan_not_a_map, "pycan: anything but a map is no encoding" },
	{ t_pycan_unknown_key, "pycan: unknown and non-str keys are refused" },
	{ t_pycan_wrong_types, "pycan: wrong value types for every key are refused" },
	{ t_pycan_good_types, "pycan: other msgpack widths and any channel are taken" },
	{ t_pycan_nested, "pycan: nested containers" },
	{ t_pycan_id, "pycan: ids too big for SFF/EFF" },
	{ t_pycan_dlc, "pycan: dlc up to 8 Classical, 64 FD" },
	{ t_pycan_dlc_mismatch, "pycan: dlc other than len(data)" },
	{ t_pycan_rtr_rules, "pycan: remote frames: no data, not FD, not error" },
	{ t_pycan_flags_rules, "pycan: BRS/ESI only on FD, no FD error frames" },
	{ t_pycan_oversize, "pycan: datagrams over PYCAN_DATAGRAM_MAX" },
	{ t_pycan_huge_headers, "pycan: huge container sizes refused before allocation" },
	{ t_pycan_defaults, "pycan: missing keys take python-can's defaults" },
	{ t_cnl_encode, "cannelloni: frame encodings, exact bytes" },
	{ t_cnl_frame_size, "cannelloni: cnl_frame_size" },
	{ t_cnl_header, "cannelloni: UDP packet header" },
	{ t_cnl_udp_round_trip, "cannelloni: UDP packets of 0..9 frames round trip" },
	{ t_cnl_udp_malformed, "cannelloni: malformed UDP packets" },
	{ t_cnl_udp_fdf, "cannelloni: FDF comes in, goes no further" },
	{ t_cnl_udp_all_or_nothing, "cannelloni: a bad last frame emits no frame at all" },
	{ t_cnl_tcp_chunks, "cannelloni TCP: at once, byte by byte, random chunks agree" },
	{ t_cnl_tcp_greeting_only, "cannelloni TCP: the greeting in two feeds" },
	{ t_cnl_tcp_bad_greeting, "cannelloni TCP: bad greetings are VCB_BAD_VERSION" },
	{ t_cnl_tcp_garbage_after_frames, "cannelloni TCP: garbage after good frames" },
	{ t_cnl_tcp_split_frame, "cannelloni TCP: frames split across feeds" },
};

int main(void)
{
	return tap_run(tests, ARRAY_SIZE(tests));
}
