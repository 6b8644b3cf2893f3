/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build of driver/frame.c (selftests/unit/, with -include of this
 * file): the kernel types and the one can-dev helper it uses.
 * <linux/types.h> and <linux/can.h> are the host's uapi headers.
 */
#ifndef _SHIM_LINUX_CAN_DEV_H
#define _SHIM_LINUX_CAN_DEV_H

#include <stdbool.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BUILD_BUG_ON(c)	_Static_assert(!(c), #c)

/* As can_fd_len2dlc() in drivers/net/can/dev/length.c. */
static inline u8 can_fd_len2dlc(u8 len)
{
	if (len <= 8)
		return len;
	if (len <= 24)
		return 9 + (len - 9) / 4;	/* 12, 16, 20, 24 */
	if (len <= 32)
		return 13;
	if (len <= 48)
		return 14;
	return 15;
}

#endif
