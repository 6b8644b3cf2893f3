// SPDX-License-Identifier: GPL-2.0
/*
 * Exact frame lengths on the wire (ISO 11898-1:2015), for wire timing.
 *
 * The frame is built bit by bit as a controller sends it, because the
 * number of stuff bits depends on the content and, in Classical CAN, on
 * the CRC computed over it: no formula gives it.
 *
 * Classical CAN: SOF, identifier, RTR/SRR/IDE/r1/r0, DLC, data, CRC-15 over
 * the unstuffed bits SOF..data; dynamic stuffing (a complement after five
 * equal bits, the stuff bit starting the next run) from SOF to the last CRC
 * bit, including a stuff bit after the CRC when its last five bits are
 * equal.
 *
 * CAN FD (ISO; the Bosch non-ISO protocol differs only in having no stuff
 * count): dynamic stuffing from SOF to the last data bit, where a
 * stuff condition is dropped (the fixed stuff bit that follows is the
 * complement anyway); then the CRC field has fixed stuff bits: one before
 * the 4-bit stuff count (Gray-coded count of dynamic stuff bits mod 8 and
 * a parity bit), one after every fourth bit of stuff count and CRC-17 (up
 * to 16 data bytes) or CRC-21. Its length is fixed, so the FD CRC value,
 * which cannot change the frame's length, is not computed.
 *
 * With BRS, the bits from ESI to the last CRC bit (stuff bits included)
 * are counted at the data bit rate, the rest at the nominal one: the real
 * switch happens at the BRS and CRC delimiter sample points, which this
 * whole-bit count approximates.
 *
 * The same code is checked on the host, bit for bit, against an
 * independent reference (selftests/lib/canbits.py), which is itself
 * checked against published frames and can-utils' canbusload -e.
 */
#include <linux/can/dev.h>

#include "frame.h"

#define CAN_CRC15_POLY	0x4599

/* The bit stream being counted: stuffing state, CRC-15, bits per phase. */
struct vcanbus_wire {
	u32 bits[2];	/* [0] nominal, [1] data phase */
	u32 stuff;
	u16 crc;	/* CRC-15 of Classical CAN */
	u8 last;	/* the previous bit on the wire */
	u8 run;		/* equal bits in a row, stuff bits included */
	u8 phase;	/* 1 from BRS on */
};

static void vcanbus_wire_crc15(struct vcanbus_wire *w, u8 bit)
{
	bool feedback = bit ^ (w->crc >> 14);

	w->crc = (w->crc << 1) & 0x7fff;
	if (feedback)
		w->crc ^= CAN_CRC15_POLY;
}

/* One bit of the dynamically stuffed part. */
static void vcanbus_wire_bit(struct vcanbus_wire *w, u8 bit)
{
	/*
	 * The stuff bit after five equal bits goes out before the next bit,
	 * so that the end of the stuffed part can decide about the last one.
	 */
	if (w->run == 5) {
		w->last = !w->last;
		w->run = 1;
		w->stuff++;
		w->bits[w->phase]++;
	}
	w->bits[w->phase]++;
	if (bit == w->last) {
		w->run++;
	} else {
		w->last = bit;
		w->run = 1;
	}
}

/* A field of @n bits, most significant first; @crc: covered by CRC-15. */
static void vcanbus_wire_field(struct vcanbus_wire *w, u32 value, int n,
			       bool crc)
{
	while (n--) {
		u8 bit = (value >> n) & 1;

		if (crc)
			vcanbus_wire_crc15(w, bit);
		vcanbus_wire_bit(w, bit);
	}
}

/* SOF and arbitration field up to the bit before the DLC (or FDF). */
static void vcanbus_wire_head(struct vcanbus_wire *w, canid_t id, u8 rtr,
			      bool crc)
{
	vcanbus_wire_field(w, 0, 1, crc);				/* SOF */
	if (id & CAN_EFF_FLAG) {
		vcanbus_wire_field(w, (id & CAN_EFF_MASK) >> 18, 11, crc);
		vcanbus_wire_field(w, 3, 2, crc);			/* SRR IDE */
		vcanbus_wire_field(w, id & 0x3ffff, 18, crc);
		vcanbus_wire_field(w, rtr, 1, crc);		/* RTR / RRS */
	} else {
		vcanbus_wire_field(w, id & CAN_SFF_MASK, 11, crc);
		vcanbus_wire_field(w, rtr, 1, crc);		/* RTR / RRS */
		vcanbus_wire_field(w, 0, 1, crc);			/* IDE */
	}
}

static void vcanbus_wire_data(struct vcanbus_wire *w, const u8 *data,
			      unsigned int len, bool crc)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		vcanbus_wire_field(w, data[i], 8, crc);
}

static void vcanbus_frame_bits_cc(struct vcanbus_wire *w,
				  const struct can_frame *cf)
{
	bool rtr = cf->can_id & CAN_RTR_FLAG;
	u8 dlc = cf->len;

	/* cc-len8-dlc: DLC values 9..15 carry 8 bytes. */
	if (cf->len == CAN_MAX_DLEN && cf->len8_dlc > CAN_MAX_DLEN &&
	    cf->len8_dlc <= CAN_MAX_RAW_DLC)
		dlc = cf->len8_dlc;

	vcanbus_wire_head(w, cf->can_id, rtr, true);
	if (cf->can_id & CAN_EFF_FLAG)
		vcanbus_wire_field(w, 0, 1, true);			/* r1 */
	vcanbus_wire_field(w, 0, 1, true);				/* r0 */
	vcanbus_wire_field(w, dlc, 4, true);
	if (!rtr)
		vcanbus_wire_data(w, cf->data, cf->len, true);
	vcanbus_wire_field(w, w->crc, 15, false);
	/* Five equal bits at the end of the CRC still get a stuff bit. */
	if (w->run == 5) {
		w->stuff++;
		w->bits[0]++;
	}
}

static void vcanbus_frame_bits_fd(struct vcanbus_wire *w,
				  const struct canfd_frame *cf, bool iso)
{
	unsigned int crc_bits = cf->len > 16 ? 21 : 17;
	/*
	 * ISO: the 4-bit stuff count opens the CRC field; the Bosch
	 * (non-ISO) protocol has none.
	 */
	unsigned int count_bits = iso ? 4 : 0;
	/* One fixed stuff bit first, one after every fourth bit after it. */
	unsigned int fixed = 1 + (count_bits + crc_bits - 1) / 4;

	vcanbus_wire_head(w, cf->can_id, 0, false);
	vcanbus_wire_field(w, 2, 2, false);				/* FDF res */
	vcanbus_wire_field(w, !!(cf->flags & CANFD_BRS), 1, false);
	if (cf->flags & CANFD_BRS)
		w->phase = 1;
	vcanbus_wire_field(w, !!(cf->flags & CANFD_ESI), 1, false);
	vcanbus_wire_field(w, can_fd_len2dlc(cf->len), 4, false);
	vcanbus_wire_data(w, cf->data, cf->len, false);
	/* A stuff condition at the last data bit is dropped (w->run). */

	w->bits[w->phase] += fixed + count_bits + crc_bits;
}

/**
 * vcanbus_frame_bits() - bits a frame takes on the wire, SOF to EOF
 * @cf: the frame as the stack gave it (a struct can_frame when !@fd)
 * @fd: a CAN FD frame
 * @iso: CAN FD as in ISO 11898-1:2015 (the node is not in fd-non-iso mode)
 * @bits: nominal and data-phase bits and the dynamic stuff bits among them;
 *	  the intermission (VCANBUS_INTERMISSION_BITS) is not included
 */
void vcanbus_frame_bits(const struct canfd_frame *cf, bool fd, bool iso,
			struct vcanbus_frame_bits *bits)
{
	struct vcanbus_wire w = { .last = 1 };	/* the idle bus is recessive */

	if (fd)
		vcanbus_frame_bits_fd(&w, cf, iso);
	else
		vcanbus_frame_bits_cc(&w, (const struct can_frame *)cf);
	/* CRC delimiter, ACK slot, ACK delimiter, EOF */
	bits->nominal = w.bits[0] + 1 + 2 + 7;
	bits->data = w.bits[1];
	bits->stuff = w.stuff;
}
