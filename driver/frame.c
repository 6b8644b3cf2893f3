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
 * are counted as data-phase bits, the rest as nominal ones; the rate
 * really switches at the BRS and CRC delimiter sample points, which
 * wire.c accounts for in the time of those two bits.
 *
 * vcanbus_frame_probe() walks the same bit stream to a given bit and says
 * which field it is in (CAN_ERR_PROT_LOC_*) and its level, for the error
 * frames of wire timing.
 *
 * The same code is checked on the host, bit for bit, against an
 * independent reference (selftests/lib/canbits.py), which is itself
 * checked against published frames and can-utils' canbusload -e.
 */
#include <linux/can/dev.h>
#include <linux/can/error.h>

#include "frame.h"

#define CAN_CRC15_POLY	0x4599

/*
 * The bit stream being counted: stuffing state, CRC-15, bits per phase,
 * and, when probing, the field and level of one bit.
 */
struct vcanbus_bitstream {
	u32 bits[2];	/* [0] nominal, [1] data phase */
	u32 stuff;
	u16 crc;	/* CRC-15 of Classical CAN */
	u8 last;	/* the previous bit on the wire */
	u8 run;		/* equal bits in a row, stuff bits included */
	u8 phase;	/* 1 from BRS on */
	u8 loc;		/* the field being sent: CAN_ERR_PROT_LOC_* */
	u32 fdf;	/* the FDF bit's position (CAN FD) */
	struct vcanbus_bit_probe *probe;
};

/* The next bit, of level @bit, goes out: the probe may be waiting for it. */
static void vcanbus_bits_emit(struct vcanbus_bitstream *w, u8 bit)
{
	if (w->probe && w->bits[0] + w->bits[1] == w->probe->at) {
		w->probe->loc = w->loc;
		w->probe->level = bit;
	}
	w->bits[w->phase]++;
}

static void vcanbus_bits_crc15(struct vcanbus_bitstream *w, u8 bit)
{
	bool feedback = bit ^ (w->crc >> 14);

	w->crc = (w->crc << 1) & 0x7fff;
	if (feedback)
		w->crc ^= CAN_CRC15_POLY;
}

/* One bit of the dynamically stuffed part. */
static void vcanbus_bits_bit(struct vcanbus_bitstream *w, u8 bit)
{
	/*
	 * The stuff bit after five equal bits goes out before the next bit,
	 * so that the end of the stuffed part can decide about the last one.
	 */
	if (w->run == 5) {
		w->last = !w->last;
		w->run = 1;
		w->stuff++;
		vcanbus_bits_emit(w, w->last);
	}
	vcanbus_bits_emit(w, bit);
	if (bit == w->last) {
		w->run++;
	} else {
		w->last = bit;
		w->run = 1;
	}
}

/* A field of @n bits, most significant first; @crc: covered by CRC-15. */
static void vcanbus_bits_field(struct vcanbus_bitstream *w, u32 value, int n,
			       bool crc)
{
	while (n--) {
		u8 bit = (value >> n) & 1;

		if (crc)
			vcanbus_bits_crc15(w, bit);
		vcanbus_bits_bit(w, bit);
	}
}

/* A field as above, at location @loc (CAN_ERR_PROT_LOC_*). */
static void vcanbus_bits_at(struct vcanbus_bitstream *w, u8 loc, u32 value,
			    int n, bool crc)
{
	w->loc = loc;
	vcanbus_bits_field(w, value, n, crc);
}

/* SOF and arbitration field up to the bit before the DLC (or FDF). */
static void vcanbus_bits_head(struct vcanbus_bitstream *w, canid_t id, u8 rtr,
			      bool crc)
{
	canid_t base = (id & CAN_EFF_FLAG) ? (id & CAN_EFF_MASK) >> 18 :
					     id & CAN_SFF_MASK;

	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_SOF, 0, 1, crc);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_ID28_21, base >> 3, 8, crc);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_ID20_18, base, 3, crc);
	if (id & CAN_EFF_FLAG) {
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_SRTR, 1, 1, crc);
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_IDE, 1, 1, crc);
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_ID17_13, id >> 13, 5, crc);
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_ID12_05, id >> 5, 8, crc);
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_ID04_00, id, 5, crc);
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_RTR, rtr, 1, crc);
	} else {
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_RTR, rtr, 1, crc);
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_IDE, 0, 1, crc);
	}
}

static void vcanbus_bits_data(struct vcanbus_bitstream *w, const u8 *data,
			      unsigned int len, bool crc)
{
	unsigned int i;

	w->loc = CAN_ERR_PROT_LOC_DATA;
	for (i = 0; i < len; i++)
		vcanbus_bits_field(w, data[i], 8, crc);
}

static void vcanbus_frame_bits_cc(struct vcanbus_bitstream *w,
				  const struct can_frame *cf)
{
	bool rtr = cf->can_id & CAN_RTR_FLAG;
	u8 dlc = cf->len;

	/* cc-len8-dlc: DLC values 9..15 carry 8 bytes. */
	if (cf->len == CAN_MAX_DLEN && cf->len8_dlc > CAN_MAX_DLEN &&
	    cf->len8_dlc <= CAN_MAX_RAW_DLC)
		dlc = cf->len8_dlc;

	vcanbus_bits_head(w, cf->can_id, rtr, true);
	if (cf->can_id & CAN_EFF_FLAG)
		vcanbus_bits_at(w, CAN_ERR_PROT_LOC_RES1, 0, 1, true);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_RES0, 0, 1, true);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_DLC, dlc, 4, true);
	if (!rtr)
		vcanbus_bits_data(w, cf->data, cf->len, true);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_CRC_SEQ, w->crc, 15, false);
	/* Five equal bits at the end of the CRC still get a stuff bit. */
	if (w->run == 5) {
		w->stuff++;
		vcanbus_bits_emit(w, !w->last);
	}
}

static void vcanbus_frame_bits_fd(struct vcanbus_bitstream *w,
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

	unsigned int i;

	vcanbus_bits_head(w, cf->can_id, 0, false);
	/*
	 * FDF takes the place of r1 (extended format) or r0 (base format)
	 * of a Classical frame, res that of r0.
	 */
	w->fdf = w->bits[0] + (w->run == 5);	/* after a pending stuff bit */
	vcanbus_bits_at(w, (cf->can_id & CAN_EFF_FLAG) ? CAN_ERR_PROT_LOC_RES1 :
			CAN_ERR_PROT_LOC_RES0, 1, 1, false);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_RES0, 0, 1, false);	/* res */
	/* BRS and ESI have no location code of their own. */
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_UNSPEC,
			!!(cf->flags & CANFD_BRS), 1, false);
	if (cf->flags & CANFD_BRS)
		w->phase = 1;
	vcanbus_bits_field(w, !!(cf->flags & CANFD_ESI), 1, false);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_DLC, can_fd_len2dlc(cf->len), 4,
			false);
	vcanbus_bits_data(w, cf->data, cf->len, false);
	/* A stuff condition at the last data bit is dropped (w->run). */

	/*
	 * Stuff count, CRC and their fixed stuff bits: their levels are not
	 * computed (the length is fixed), so a probe there gets none.
	 */
	w->loc = CAN_ERR_PROT_LOC_CRC_SEQ;
	for (i = 0; i < fixed + count_bits + crc_bits; i++)
		vcanbus_bits_emit(w, VCANBUS_LEVEL_UNKNOWN);
}

static void vcanbus_frame_walk(const struct canfd_frame *cf, bool fd, bool iso,
			       struct vcanbus_bitstream *w)
{
	/* CRC delimiter, ACK slot, ACK delimiter, EOF: as the sender sends them */
	static const u8 tail[][2] = {
		{ CAN_ERR_PROT_LOC_CRC_DEL, 1 }, { CAN_ERR_PROT_LOC_ACK, 1 },
		{ CAN_ERR_PROT_LOC_ACK_DEL, 1 }, { CAN_ERR_PROT_LOC_EOF, 1 },
		{ CAN_ERR_PROT_LOC_EOF, 1 }, { CAN_ERR_PROT_LOC_EOF, 1 },
		{ CAN_ERR_PROT_LOC_EOF, 1 }, { CAN_ERR_PROT_LOC_EOF, 1 },
		{ CAN_ERR_PROT_LOC_EOF, 1 }, { CAN_ERR_PROT_LOC_EOF, 1 },
	};
	unsigned int i;

	if (fd)
		vcanbus_frame_bits_fd(w, cf, iso);
	else
		vcanbus_frame_bits_cc(w, (const struct can_frame *)cf);
	w->phase = 0;
	for (i = 0; i < ARRAY_SIZE(tail); i++) {
		w->loc = tail[i][0];
		vcanbus_bits_emit(w, tail[i][1]);
	}
}

/*
 * CAN XL, ISO 11898-1:2024, read from the two bit-level decoders that
 * implement it independently and agree bit for bit (sigrok's CAN decoder
 * with CAN XL, libsigrokdecode pull request 133; the Saleae CAN XL
 * analyzer of xdvorakv) and from the kernel's uapi <linux/can.h> (DLC =
 * length - 1, 1..2048 bytes):
 *
 * - nominal rate, dynamically stuffed: SOF, the 11-bit priority, RRS (0),
 *   IDE (0), FDF (1), XLF (1); a run of five ends at IDE at the latest,
 *   so a priority gives 0..3 dynamic stuff bits and nothing else does;
 * - nominal rate: resXL (0), ADH (1); the rate switches at ADH's end;
 * - XL data rate: DH1, DH2, then DL1, SDT (8), SEC, DLC (11), SBC (3),
 *   PCRC (13), VCID (8), AF (32), the data and FCRC (32), which have a
 *   fixed stuff bit after every tenth bit (109 + 8 * len bits, always an
 *   odd number: never one after the last), then FCP (4); the rate
 *   switches back at FCP's end;
 * - nominal rate: DAH, AH1, AL1, AH2, ACK slot, ACK delimiter, EOF (7).
 *
 * So after the arbitration field the length depends on the data length
 * alone, and is counted, not walked (a 2048-byte frame has 18 148 bits).
 */
#define VCANBUS_XL_ADS_DATA_BITS	2	/* DH1, DH2 */
#define VCANBUS_XL_FIXED_STUFFED_BITS	109	/* DL1 .. FCRC but the data */
#define VCANBUS_XL_FIXED_STUFF_EVERY	10
#define VCANBUS_XL_FCP_BITS		4
/* DL1, SDT, SEC, DLC, SBC, PCRC, VCID, AF: before the data */
#define VCANBUS_XL_HEADER_BITS		77
#define VCANBUS_XL_FCRC_BITS		32

/* SOF to XLF: the dynamically stuffed part at the nominal rate. */
static void vcanbus_frame_xl_head(struct vcanbus_bitstream *w, u16 prio)
{
	vcanbus_bits_head(w, prio & CAN_SFF_MASK, 0, false);	/* ..RRS, IDE */
	w->fdf = w->bits[0] + (w->run == 5);
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_RES0, 1, 1, false);	/* FDF */
	vcanbus_bits_at(w, CAN_ERR_PROT_LOC_RES0, 1, 1, false);	/* XLF */
}

/**
 * vcanbus_frame_bits_xl() - bits a CAN XL data frame takes, SOF to EOF
 * @prio: its 11-bit priority identifier
 * @len: its data length, 1..2048 bytes
 * @bits: as for vcanbus_frame_bits(); data: the bits at the XL data rate
 *	  (DH1 to the last FCP bit, fixed stuff bits included); stuff: the
 *	  dynamic stuff bits; the intermission is not included
 */
void vcanbus_frame_bits_xl(u16 prio, unsigned int len,
			   struct vcanbus_frame_bits *bits)
{
	struct vcanbus_bitstream w = { .last = 1 };
	u32 stuffed = VCANBUS_XL_FIXED_STUFFED_BITS + 8 * len;

	vcanbus_frame_xl_head(&w, prio);
	bits->nominal = w.bits[0] + 2 + VCANBUS_XL_TAIL_BITS;	/* resXL, ADH */
	bits->data = VCANBUS_XL_ADS_DATA_BITS + stuffed +
		     stuffed / VCANBUS_XL_FIXED_STUFF_EVERY + VCANBUS_XL_FCP_BITS;
	bits->stuff = w.stuff;
	bits->fdf = w.fdf;
	bits->xl = true;
}

/*
 * The fields of an XL frame's fixed-stuffed part, by their first bit
 * counted without the stuff bits (DL1 at 0), as CAN_ERR_PROT_LOC_* names
 * them: SDT, SEC, VCID and AF have no name, SBC and PCRC are CRC-like as
 * FD's stuff count is, the DLC is one.
 */
static u8 vcanbus_xl_field_loc(u32 u, unsigned int len)
{
	if (u < 1 + 8 + 1)				/* DL1, SDT, SEC */
		return CAN_ERR_PROT_LOC_UNSPEC;
	if (u < 1 + 8 + 1 + 11)
		return CAN_ERR_PROT_LOC_DLC;
	if (u < 1 + 8 + 1 + 11 + 3 + 13)		/* SBC, PCRC */
		return CAN_ERR_PROT_LOC_CRC_SEQ;
	if (u < VCANBUS_XL_HEADER_BITS)			/* VCID, AF */
		return CAN_ERR_PROT_LOC_UNSPEC;
	if (u < VCANBUS_XL_HEADER_BITS + 8 * len)
		return CAN_ERR_PROT_LOC_DATA;
	return CAN_ERR_PROT_LOC_CRC_SEQ;		/* FCRC */
}

/**
 * vcanbus_frame_probe_xl() - where in a CAN XL frame a bit is
 * @prio: its 11-bit priority identifier
 * @len: its data length, 1..2048 bytes
 * @probe: as for vcanbus_frame_probe(). From SOF to ADH and from FCP on,
 *	   every bit has its field and level (FDF and XLF are RES0, as FDF
 *	   and res of a base-format FD frame, resXL too; FCP and DAH..AH2
 *	   take the CRC delimiter's place). In between, fields by
 *	   vcanbus_xl_field_loc(), a fixed stuff bit in the field of the bit
 *	   before it, no level (it depends on the content).
 */
void vcanbus_frame_probe_xl(u16 prio, unsigned int len,
			    struct vcanbus_bit_probe *probe)
{
	/* FCP, DAH, AH1, AL1, AH2, ACK slot (the sender's), ACK del., EOF */
	static const u8 tail[][2] = {
		{ CAN_ERR_PROT_LOC_CRC_DEL, 1 }, { CAN_ERR_PROT_LOC_CRC_DEL, 1 },
		{ CAN_ERR_PROT_LOC_CRC_DEL, 0 }, { CAN_ERR_PROT_LOC_CRC_DEL, 0 },
		{ CAN_ERR_PROT_LOC_CRC_DEL, 1 }, { CAN_ERR_PROT_LOC_CRC_DEL, 1 },
		{ CAN_ERR_PROT_LOC_CRC_DEL, 0 }, { CAN_ERR_PROT_LOC_CRC_DEL, 1 },
		{ CAN_ERR_PROT_LOC_ACK, 1 }, { CAN_ERR_PROT_LOC_ACK_DEL, 1 },
		{ CAN_ERR_PROT_LOC_EOF, 1 }, { CAN_ERR_PROT_LOC_EOF, 1 },
		{ CAN_ERR_PROT_LOC_EOF, 1 }, { CAN_ERR_PROT_LOC_EOF, 1 },
		{ CAN_ERR_PROT_LOC_EOF, 1 }, { CAN_ERR_PROT_LOC_EOF, 1 },
		{ CAN_ERR_PROT_LOC_EOF, 1 },
	};
	struct vcanbus_bitstream w = { .last = 1, .probe = probe };
	u32 stuffed = VCANBUS_XL_FIXED_STUFFED_BITS + 8 * len;
	u32 ads, fcp, p;

	BUILD_BUG_ON(ARRAY_SIZE(tail) !=
		     VCANBUS_XL_FCP_BITS + VCANBUS_XL_TAIL_BITS);
	probe->loc = CAN_ERR_PROT_LOC_UNSPEC;
	probe->level = VCANBUS_LEVEL_UNKNOWN;
	vcanbus_frame_xl_head(&w, prio);
	if (probe->at < w.bits[0])
		return;				/* the walk found it */
	/* resXL (0), ADH (1), then DH1, DH2 (1, 1) at the XL rate */
	ads = w.bits[0] + 2;
	if (probe->at < ads + VCANBUS_XL_ADS_DATA_BITS) {
		probe->loc = probe->at == w.bits[0] ? CAN_ERR_PROT_LOC_RES0 :
						      CAN_ERR_PROT_LOC_UNSPEC;
		probe->level = probe->at != w.bits[0];
		return;
	}
	fcp = ads + VCANBUS_XL_ADS_DATA_BITS + stuffed +
	      stuffed / VCANBUS_XL_FIXED_STUFF_EVERY;
	if (probe->at >= fcp) {
		if (probe->at - fcp < ARRAY_SIZE(tail)) {
			probe->loc = tail[probe->at - fcp][0];
			probe->level = tail[probe->at - fcp][1];
		}
		return;
	}
	/* Every eleventh bit is a stuff bit, in the field before it. */
	p = probe->at - ads - VCANBUS_XL_ADS_DATA_BITS;
	probe->loc = vcanbus_xl_field_loc(p - (p + 1) /
					  (VCANBUS_XL_FIXED_STUFF_EVERY + 1),
					  len);
}

/**
 * vcanbus_frame_bits() - bits a frame takes on the wire, SOF to EOF
 * @cf: the frame as the stack gave it (a struct can_frame when !@fd)
 * @fd: a CAN FD frame
 * @iso: CAN FD as in ISO 11898-1:2015 (the node is not in fd-non-iso mode)
 * @bits: nominal and data-phase bits and the dynamic stuff bits among them,
 *	  the FDF bit's position; the intermission
 *	  (VCANBUS_INTERMISSION_BITS) is not included
 */
void vcanbus_frame_bits(const struct canfd_frame *cf, bool fd, bool iso,
			struct vcanbus_frame_bits *bits)
{
	struct vcanbus_bitstream w = { .last = 1 };	/* the idle bus is recessive */

	vcanbus_frame_walk(cf, fd, iso, &w);
	bits->nominal = w.bits[0];
	bits->data = w.bits[1];
	bits->stuff = w.stuff;
	bits->fdf = w.fdf;
	bits->xl = false;
}

/**
 * vcanbus_frame_probe() - where in the frame a bit is
 * @cf: the frame, as for vcanbus_frame_bits()
 * @fd: a CAN FD frame
 * @iso: CAN FD as in ISO 11898-1:2015
 * @probe: @probe->at, the bit's position from SOF (0), stuff bits counted;
 *	   gets its field (CAN_ERR_PROT_LOC_*) and its level as the sender
 *	   sends it (0 dominant, 1 recessive, VCANBUS_LEVEL_UNKNOWN in the
 *	   CRC field of a CAN FD frame)
 */
void vcanbus_frame_probe(const struct canfd_frame *cf, bool fd, bool iso,
			 struct vcanbus_bit_probe *probe)
{
	struct vcanbus_bitstream w = { .last = 1, .probe = probe };

	probe->loc = CAN_ERR_PROT_LOC_UNSPEC;
	probe->level = VCANBUS_LEVEL_UNKNOWN;
	vcanbus_frame_walk(cf, fd, iso, &w);
}
