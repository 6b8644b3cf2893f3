/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A CAN frame as vcanbridge carries it between the CAN socket and the
 * network codecs, and the reasons a frame or packet from the network is
 * refused.
 */
#ifndef VCB_FRAME_H
#define VCB_FRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/can.h>

struct vcb_frame {
	/*
	 * The kernel's frame: can_id with the EFF/RTR/ERR flags, len (the
	 * DLC for a Classical remote frame), FD flags, data. A Classical
	 * frame keeps the struct can_frame layout (len8_dlc in __res1).
	 */
	struct canfd_frame cf;
	bool fd;
};

enum vcb_bad {
	VCB_OK = 0,
	VCB_BAD_TRUNCATED,	/* shorter than its header or frames say */
	VCB_BAD_TRAILING,	/* bytes after the last frame */
	VCB_BAD_VERSION,	/* unknown version, op code or greeting */
	VCB_BAD_LENGTH,		/* a length no CAN frame of its kind has */
	VCB_BAD_ID,		/* an identifier wider than its format */
	VCB_BAD_FLAGS,		/* FD flags other than BRS/ESI, an FD remote frame */
	VCB_BAD_ENCODING,	/* not the format at all (msgpack types, keys) */
	VCB_BAD_MAX
};

/* A short name for counters and messages ("truncated", "id", ...). */
const char *vcb_bad_name(enum vcb_bad why);

/* The same frame on the bus: CAN ID, length, FD flags (BRS, ESI), data. */
bool vcb_frame_same(const struct vcb_frame *a, const struct vcb_frame *b);

/* Is @f a frame a CAN controller could send? */
enum vcb_bad vcb_frame_check(const struct vcb_frame *f);

/*
 * A Classical frame with a DLC of 9..15 (len8_dlc): neither network
 * format has a field for it, so it is counted and dropped, never sent as
 * something else.
 */
static inline bool vcb_frame_has_len8_dlc(const struct vcb_frame *f)
{
	return !f->fd && f->cf.__res1;
}

/* The bytes of data on the wire: none for a remote frame. */
static inline unsigned int vcb_frame_data_len(const struct vcb_frame *f)
{
	return (f->cf.can_id & CAN_RTR_FLAG) ? 0 : f->cf.len;
}

#endif
