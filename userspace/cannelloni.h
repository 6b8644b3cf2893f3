/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cannelloni's formats (github.com/mguentner/cannelloni, doc/): the UDP
 * data packet version 2 (a 5-byte header, then frames) and the TCP
 * protocol version 1 (the greeting "CANNELLONIv1", then frames). A frame:
 * can_id (4 bytes), len (1, bit 7 set for CAN FD), FD flags (1, CAN FD
 * only), data (none for a remote frame); everything big-endian.
 */
#ifndef VCB_CANNELLONI_H
#define VCB_CANNELLONI_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define CNL_VERSION		2
#define CNL_OP_DATA		0
#define CNL_HEADER_LEN		5
#define CNL_FD_LEN		0x80
#define CNL_FRAME_MAX		(4 + 1 + 1 + CANFD_MAX_DLEN)
/* The datagram size cannelloni reads by default; longer ones it cuts. */
#define CNL_PEER_MTU		1500
#define CNL_GREETING		"CANNELLONIv1"
#define CNL_GREETING_LEN	12

/* The bytes @f takes in either format. */
size_t cnl_frame_size(const struct vcb_frame *f);

/* Writes @f at @out (cnl_frame_size() bytes); returns that size. */
size_t cnl_frame_encode(const struct vcb_frame *f, uint8_t *out);

/* The UDP packet header for @count frames with sequence number @seq. */
void cnl_packet_header(uint8_t *out, uint8_t seq, uint16_t count);

typedef void (*cnl_emit_fn)(void *ctx, const struct vcb_frame *f);

/*
 * Checks a whole UDP datagram, and only if every frame in it is good calls
 * @emit for each, in order. @seq: its sequence number.
 */
enum vcb_bad cnl_packet_decode(const uint8_t *buf, size_t len, uint8_t *seq,
			       cnl_emit_fn emit, void *ctx);

/* The state of one TCP stream: the greeting, then a frame at a time. */
struct cnl_stream {
	uint8_t buf[CNL_FRAME_MAX];
	size_t have;
	bool greeted;
};

/*
 * Feeds @len received bytes; @emit gets each complete frame. Anything but
 * the greeting first and good frames after it makes the stream bad for
 * good: the reason is returned and the peer should be dropped.
 */
enum vcb_bad cnl_stream_feed(struct cnl_stream *s, const uint8_t *data,
			     size_t len, cnl_emit_fn emit, void *ctx);

#endif
