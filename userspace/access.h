/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who may write to the bus: lists of networks (CIDR) a datagram or a
 * connection must come from, and the addresses the bridge binds to.
 */
#ifndef VCB_ACCESS_H
#define VCB_ACCESS_H

#include <stdbool.h>
#include <sys/socket.h>

#define VCB_MAX_ALLOW	16

struct vcb_cidr {
	sa_family_t family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned int bits;
};

struct vcb_allow {
	unsigned int n;			/* 0: the list is empty */
	struct vcb_cidr net[VCB_MAX_ALLOW];
};

/*
 * Adds "ADDR/BITS" or "ADDR" (one host) to @a; on a bad value or a full
 * list says why on stderr, naming @what, and returns -1.
 */
int vcb_allow_add(struct vcb_allow *a, const char *what, const char *s);
/* Is @sa in one of @a's networks? An IPv4 address counts as itself when
 * it comes IPv4-mapped (::ffff:a.b.c.d) on an IPv6 socket. */
bool vcb_allow_match(const struct vcb_allow *a, const struct sockaddr *sa);
/* Is @sa a loopback address (127.0.0.0/8, ::1)? */
bool vcb_addr_is_loopback(const struct sockaddr *sa);
/* Do @a and @b name the same host (address and IPv6 scope; ports aside)? */
bool vcb_same_host(const struct sockaddr *a, const struct sockaddr *b);

/*
 * "HOST:PORT", "[V6ADDR%SCOPE]:PORT" or "PORT" (then @default_host) into
 * an address: numeric or a name (the first address getaddrinfo gives).
 * On failure says why on stderr, naming @what, and returns -1.
 */
int vcb_resolve(const char *what, const char *s, const char *default_host,
		struct sockaddr_storage *ss, socklen_t *len);

#endif
