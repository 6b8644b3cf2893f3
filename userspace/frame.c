// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "frame.h"

static const char *const vcb_bad_names[VCB_BAD_MAX] = {
	[VCB_OK]		= "ok",
	[VCB_BAD_TRUNCATED]	= "truncated",
	[VCB_BAD_TRAILING]	= "trailing",
	[VCB_BAD_VERSION]	= "version",
	[VCB_BAD_LENGTH]	= "length",
	[VCB_BAD_ID]		= "id",
	[VCB_BAD_FLAGS]		= "flags",
	[VCB_BAD_ENCODING]	= "encoding",
};

const char *vcb_bad_name(enum vcb_bad why)
{
	return why < VCB_BAD_MAX ? vcb_bad_names[why] : "?";
}

enum vcb_bad vcb_frame_check(const struct vcb_frame *f)
{
	const struct canfd_frame *cf = &f->cf;
	canid_t id = cf->can_id;

	/* A base-format identifier has 11 bits; error frames carry a class. */
	if (!(id & (CAN_EFF_FLAG | CAN_ERR_FLAG)) && (id & CAN_ERR_MASK) > CAN_SFF_MASK)
		return VCB_BAD_ID;
	if (f->fd) {
		/*
		 * The kernel takes any length up to 64 and the controller
		 * pads it to the next DLC; no remote or error frames in FD.
		 */
		if (cf->len > CANFD_MAX_DLEN)
			return VCB_BAD_LENGTH;
		if (id & (CAN_RTR_FLAG | CAN_ERR_FLAG) ||
		    cf->flags & ~(CANFD_BRS | CANFD_ESI | CANFD_FDF))
			return VCB_BAD_FLAGS;
		return VCB_OK;
	}
	if (cf->len > CAN_MAX_DLEN)
		return VCB_BAD_LENGTH;
	/* len8_dlc: a DLC of 9..15 for 8 bytes of data, nothing else. */
	if (cf->__res1 && (cf->len != CAN_MAX_DLEN || cf->__res1 <= CAN_MAX_DLEN ||
			   cf->__res1 > CANFD_MAX_DLC))
		return VCB_BAD_LENGTH;
	return VCB_OK;
}

bool vcb_frame_same(const struct vcb_frame *a, const struct vcb_frame *b)
{
	const struct canfd_frame *x = &a->cf, *y = &b->cf;

	if (a->fd != b->fd || x->can_id != y->can_id || x->len != y->len)
		return false;
	/* The kernel may set FDF in an echo; BRS and ESI are the frame's. */
	if (a->fd && (x->flags ^ y->flags) & (CANFD_BRS | CANFD_ESI))
		return false;
	return !memcmp(x->data, y->data, vcb_frame_data_len(a));
}
