// SPDX-License-Identifier: GPL-2.0
/*
 * Host harness for driver/frame.c: reads frames, one per line,
 *   <can_id hex, with CAN_EFF_FLAG/CAN_RTR_FLAG> <fd 0|1> <iso 0|1>
 *   <flags hex> <len> <len8_dlc> <data hex, "-" when empty>
 * or a CAN XL frame as "xl <prio hex> <len>", and prints
 * "<nominal> <data> <stuff> <fdf>" per frame; with --probe, a
 * second line with every bit's location and level as vcanbus_frame_probe()
 * (or vcanbus_frame_probe_xl()) gives them ("<loc hex><0|1|?>" each). frame_bits.py feeds it and
 * compares with the reference (selftests/lib/canbits.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static void probe_all(const struct canfd_frame *cf, bool fd, bool iso,
		      unsigned int total)
{
	struct vcanbus_bit_probe p;

	for (p.at = 0; p.at < total; p.at++) {
		vcanbus_frame_probe(cf, fd, iso, &p);
		printf("%02x%c", p.loc, p.level == VCANBUS_LEVEL_UNKNOWN ? '?' :
		       '0' + p.level);
	}
	printf("\n");
}

static void probe_all_xl(unsigned int prio, unsigned int len,
			 unsigned int total)
{
	struct vcanbus_bit_probe p;

	for (p.at = 0; p.at < total; p.at++) {
		vcanbus_frame_probe_xl(prio, len, &p);
		printf("%02x%c", p.loc, p.level == VCANBUS_LEVEL_UNKNOWN ? '?' :
		       '0' + p.level);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	bool probe = argc > 1 && !strcmp(argv[1], "--probe");
	char line[512], hex[160];
	unsigned int id, fd, iso, flags, len, len8, i, n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		struct canfd_frame cf = { 0 };
		struct vcanbus_frame_bits bits;

		if (!strncmp(line, "xl ", 3)) {
			if (sscanf(line + 3, "%x %u", &id, &len) != 2 ||
			    id > CAN_SFF_MASK || len < 1 || len > 2048) {
				fprintf(stderr, "frame_bits: bad input line %u: %s",
					n + 1, line);
				return 2;
			}
			vcanbus_frame_bits_xl(id, len, &bits);
			printf("%u %u %u %u\n", bits.nominal, bits.data,
			       bits.stuff, bits.fdf);
			if (probe)
				probe_all_xl(id, len, bits.nominal + bits.data);
			n++;
			continue;
		}
		if (sscanf(line, "%x %u %u %x %u %u %159s", &id, &fd, &iso,
			   &flags, &len, &len8, hex) != 7 || len > CANFD_MAX_DLEN ||
		    (strcmp(hex, "-") && strlen(hex) != 2 * len)) {
			fprintf(stderr, "frame_bits: bad input line %u: %s",
				n + 1, line);
			return 2;
		}
		cf.can_id = id;
		cf.len = len;
		cf.flags = flags;
		if (!fd)
			((struct can_frame *)&cf)->len8_dlc = len8;
		for (i = 0; i < len && strcmp(hex, "-"); i++)
			sscanf(hex + 2 * i, "%2hhx", &cf.data[i]);
		vcanbus_frame_bits(&cf, fd, iso, &bits);
		printf("%u %u %u %u\n", bits.nominal, bits.data, bits.stuff,
		       fd ? bits.fdf : 0);
		if (probe)
			probe_all(&cf, fd, iso, bits.nominal + bits.data);
		n++;
	}
	return 0;
}
