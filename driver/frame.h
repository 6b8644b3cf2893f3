/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The length of a CAN frame on the wire, in bits, for wire timing.
 *
 * Kept free of everything but <linux/types.h>, <linux/can.h> and
 * can_fd_len2dlc() so that the host unit test (selftests/unit/) builds the
 * very same frame.c against a small shim.
 */
#ifndef _VCANBUS_FRAME_H
#define _VCANBUS_FRAME_H

#include <linux/can.h>
#include <linux/types.h>

/* Bus idle time between two frames, in nominal bits (ISO 11898-1). */
#define VCANBUS_INTERMISSION_BITS	3

struct vcanbus_frame_bits {
	u32 nominal;	/* SOF..EOF bits at the nominal bit rate */
	u32 data;	/* bits at the data bit rate (CAN FD with BRS) */
	u32 stuff;	/* dynamic stuff bits among them */
};

void vcanbus_frame_bits(const struct canfd_frame *cf, bool fd, bool iso,
			struct vcanbus_frame_bits *bits);

#endif /* _VCANBUS_FRAME_H */
