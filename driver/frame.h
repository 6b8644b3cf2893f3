/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The length of a CAN frame on the wire, in bits, for wire timing.
 *
 * Kept free of everything but <linux/types.h>, <linux/can.h>,
 * <linux/can/error.h> and can_fd_len2dlc() so that the host unit test
 * (selftests/unit/) builds the very same frame.c against a small shim.
 */
#ifndef _VCANBUS_FRAME_H
#define _VCANBUS_FRAME_H

#include <linux/can.h>
#include <linux/types.h>

/* Bus idle time between two frames, in nominal bits (ISO 11898-1). */
#define VCANBUS_INTERMISSION_BITS	3

struct vcanbus_frame_bits {
	u32 nominal;	/* SOF..EOF bits at the nominal bit rate */
	u32 data;	/* bits at the data bit rate (CAN FD with BRS, XL) */
	u32 stuff;	/* dynamic stuff bits among them */
	u32 fdf;	/* CAN FD, XL: the FDF bit's position from SOF (0) */
	bool xl;	/* CAN XL: the rate switches at whole bits, and the
			 * last VCANBUS_XL_TAIL_BITS are at the nominal rate
			 */
};

/* A CAN XL frame's nominal bits after its data phase: DAH .. EOF. */
#define VCANBUS_XL_TAIL_BITS	13

/* A bit's level that frame.c does not compute. */
#define VCANBUS_LEVEL_UNKNOWN	2

struct vcanbus_bit_probe {
	u32 at;		/* in: the bit's position from SOF (0) */
	u8 loc;		/* out: its field, CAN_ERR_PROT_LOC_* */
	u8 level;	/* out: 0, 1 or VCANBUS_LEVEL_UNKNOWN */
};

void vcanbus_frame_bits(const struct canfd_frame *cf, bool fd, bool iso,
			struct vcanbus_frame_bits *bits);
void vcanbus_frame_probe(const struct canfd_frame *cf, bool fd, bool iso,
			 struct vcanbus_bit_probe *probe);
void vcanbus_frame_bits_xl(u16 prio, unsigned int len,
			   struct vcanbus_frame_bits *bits);
void vcanbus_frame_probe_xl(u16 prio, unsigned int len,
			    struct vcanbus_bit_probe *probe);

#endif /* _VCANBUS_FRAME_H */
