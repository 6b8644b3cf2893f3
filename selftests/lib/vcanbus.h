/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the C selftests: buses and nodes in configfs, ip link, CAN
 * raw sockets with bounded waits. Header-only: each test is one file.
 */
#ifndef VCANBUS_SELFTEST_H
#define VCANBUS_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <linux/can.h>
#include <linux/can/raw.h>

#define VCB_CFS "/sys/kernel/config/vcanbus"

/* Runs a shell command built like printf; returns its exit status. */
static inline int vcb_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Reads an unsigned number from a file (a statistic, an attribute). */
static inline unsigned long long vcb_read_ull(const char *fmt, ...)
{
	unsigned long long v = ~0ULL;
	char path[256];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = ~0ULL;
		fclose(f);
	}
	return v;
}

static inline unsigned long long vcb_stat(const char *ifname, const char *stat)
{
	return vcb_read_ull("/sys/class/net/%s/statistics/%s", ifname, stat);
}

/*
 * Is the running kernel @major.@minor or later? For behaviour of the
 * kernel's CAN stack that changed with a release: a test asserts the
 * exact behaviour of the kernel it runs on.
 */
static inline bool vcb_kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		abort();
	return ma > major || (ma == major && mi >= minor);
}

/*
 * A bus in @timing ("instant" or "wire"), then its nodes, each brought up
 * with the given extra "ip link ... type can" arguments (NULL: defaults).
 */
static inline int vcb_bus_make(const char *bus, const char *timing)
{
	return vcb_sh("modprobe vcanbus && mkdir %s/%s && echo %s > %s/%s/timing",
		      VCB_CFS, bus, timing, VCB_CFS, bus);
}

static inline int vcb_node_make(const char *bus, const char *node, const char *can_args)
{
	return vcb_sh("mkdir %s/%s/%s && ip link set %s type can %s && ip link set %s up",
		      VCB_CFS, bus, node, node, can_args ? can_args : "", node);
}

/* Removes the bus and all its nodes. */
static inline void vcb_bus_remove(const char *bus)
{
	vcb_sh("for n in %s/%s/*/; do [ -d \"$n\" ] && rmdir \"$n\"; done; rmdir %s/%s 2>/dev/null",
	       VCB_CFS, bus, VCB_CFS, bus);
}

/* A raw CAN socket bound to @ifname; @own: CAN_RAW_RECV_OWN_MSGS. */
static inline int vcb_socket(const char *ifname, int own, int fd_frames)
{
	struct sockaddr_can addr = { .can_family = AF_CAN };
	int s, rcvbuf = 64 << 20;

	s = socket(PF_CAN, SOCK_RAW, CAN_RAW);
	if (s < 0)
		return -1;
	addr.can_ifindex = if_nametoindex(ifname);
	setsockopt(s, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, &own, sizeof(own));
	setsockopt(s, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &fd_frames, sizeof(fd_frames));
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (!addr.can_ifindex || bind(s, (struct sockaddr *)&addr, sizeof(addr))) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * Receives one frame within @timeout_ms into @buf of @size bytes (or a
 * struct canfd_frame): its length (CAN_MTU, CANFD_MTU, or a CAN XL
 * frame's), 0 on timeout, -1 on error. @flags gets msg_flags
 * (MSG_CONFIRM marks the echo of the socket's own frame).
 */
static inline int vcb_recv_buf(int s, void *buf, size_t size, int *flags,
			       int timeout_ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	n = recvmsg(s, &msg, 0);
	if (flags)
		*flags = msg.msg_flags;
	return n < 0 ? -1 : (int)n;
}

static inline int vcb_recv(int s, struct canfd_frame *cf, int *flags, int timeout_ms)
{
	return vcb_recv_buf(s, cf, sizeof(*cf), flags, timeout_ms);
}

/* Sends a frame, waiting out a full queue (ENOBUFS) as cangen does. */
static inline int vcb_send(int s, const void *frame, size_t len)
{
	for (int tries = 0; tries < 100000; tries++) {
		ssize_t n = write(s, frame, len);

		if (n == (ssize_t)len)
			return 0;
		if (n < 0 && errno != ENOBUFS)
			return -1;
		usleep(100);
	}
	return -1;
}

#endif /* VCANBUS_SELFTEST_H */
