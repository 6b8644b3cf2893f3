/* SPDX-License-Identifier: GPL-2.0 */
/*
 * python-can's udp_multicast format: one msgpack map per datagram, the
 * fields of can.Message (python-can 4.x, can/interfaces/udp_multicast).
 */
#ifndef VCB_PYCAN_H
#define VCB_PYCAN_H

#include <stddef.h>
#include <sys/types.h>

#include "frame.h"

/* python-can reads 4096 bytes per datagram; a frame takes under 200. */
#define PYCAN_DATAGRAM_MAX	4096

/*
 * Encodes @f, on the bus at @timestamp (seconds, CLOCK_REALTIME), from
 * @channel (the interface's name, or NULL). Returns the length in @buf,
 * or -1 when it does not fit in @size.
 */
ssize_t pycan_encode(const struct vcb_frame *f, double timestamp,
		     const char *channel, void *buf, size_t size);

/*
 * Decodes one datagram into @f: VCB_OK, or why it is no frame python-can
 * would have sent (as python-can's own check=True refuses it).
 */
enum vcb_bad pycan_decode(const void *buf, size_t len, struct vcb_frame *f);

#endif
