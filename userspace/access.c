// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"

int vcb_allow_add(struct vcb_allow *a, const char *what, const char *s)
{
	struct vcb_cidr c = { 0 };
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	char *end;

	if (a->n == VCB_MAX_ALLOW) {
		fprintf(stderr, "vcanbridge: %s: at most %d networks\n", what,
			VCB_MAX_ALLOW);
		return -1;
	}
	if (n >= sizeof(addr))
		goto bad;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, c.addr) == 1)
		c.family = AF_INET6;
	else
		goto bad;
	c.bits = c.family == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || slash[1] == '-' ||
		    bits > c.bits)
			goto bad;
		c.bits = bits;
	}
	/* The host bits must be zero: 10.0.0.1/24 is likely a typo. */
	for (unsigned int i = c.bits; i < (c.family == AF_INET ? 32u : 128u); i++)
		if (c.addr[i / 8] & (0x80 >> (i % 8))) {
			fprintf(stderr, "vcanbridge: %s '%s': host bits set after /%u (a network is ADDR/BITS with them zero)\n",
				what, s, c.bits);
			return -1;
		}
	a->net[a->n++] = c;
	return 0;
bad:
	fprintf(stderr, "vcanbridge: %s '%s': expected an IPv4 or IPv6 address, optionally /BITS\n",
		what, s);
	return -1;
}

/* @sa's family and address bytes; IPv4-mapped IPv6 as IPv4. */
static sa_family_t host_bytes(const struct sockaddr *sa, const unsigned char **p)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	*p = NULL;
	if (sa->sa_family == AF_INET) {
		*p = (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		*p = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (!memcmp(*p, mapped, sizeof(mapped))) {
			*p += sizeof(mapped);
			return AF_INET;
		}
		return AF_INET6;
	}
	return AF_UNSPEC;
}

static bool cidr_match(const struct vcb_cidr *c, sa_family_t family,
		       const unsigned char *p)
{
	unsigned int whole = c->bits / 8, rest = c->bits % 8;

	if (family != c->family || memcmp(p, c->addr, whole))
		return false;
	return !rest || !((p[whole] ^ c->addr[whole]) & (0xff00 >> rest));
}

bool vcb_allow_match(const struct vcb_allow *a, const struct sockaddr *sa)
{
	const unsigned char *p;
	sa_family_t family = host_bytes(sa, &p);

	for (unsigned int i = 0; i < a->n; i++)
		if (cidr_match(&a->net[i], family, p))
			return true;
	return false;
}

bool vcb_addr_is_loopback(const struct sockaddr *sa)
{
	const unsigned char *p;
	sa_family_t family = host_bytes(sa, &p);

	if (family == AF_INET)
		return p[0] == 127;
	return family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

bool vcb_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	const unsigned char *pa, *pb;
	sa_family_t fa = host_bytes(a, &pa), fb = host_bytes(b, &pb);

	if (fa != fb || fa == AF_UNSPEC)
		return false;
	if (memcmp(pa, pb, fa == AF_INET ? 4 : 16))
		return false;
	/* fe80::1 on eth0 is another host than fe80::1 on eth1. */
	return fa == AF_INET || a->sa_family != b->sa_family ||
	       ((const struct sockaddr_in6 *)a)->sin6_scope_id ==
	       ((const struct sockaddr_in6 *)b)->sin6_scope_id;
}

int vcb_resolve(const char *what, const char *spec, const char *default_host,
		struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *res;
	const char *s = spec, *port = s, *colon = strrchr(s, ':');
	char host[256];
	unsigned long p;
	char *end;
	size_t n;
	int err;

	if (colon) {
		n = colon - s;
		if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
			s++;
			n -= 2;
		}
		if (!n || n >= sizeof(host))
			goto usage;
		memcpy(host, s, n);
		host[n] = '\0';
		port = colon + 1;
	} else if (default_host) {
		snprintf(host, sizeof(host), "%s", default_host);
	} else {
		goto usage;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || end == port || *end || *port == '-' || p < 1 || p > 65535)
		goto usage;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "vcanbridge: %s '%s': %s: %s\n", what, spec, host,
			err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
usage:
	fprintf(stderr, "vcanbridge: %s '%s': expected %sHOST:PORT (an IPv6 address in brackets: [ADDR]:PORT)\n",
		what, spec, default_host ? "PORT or " : "");
	return -1;
}
