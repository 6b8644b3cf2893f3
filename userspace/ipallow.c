// SPDX-License-Identifier: GPL-2.0
/*
 * --ip-allow: the addresses a bridge with these options talks to, as
 * systemd's IPAddressAllow= takes them. The unit's generator
 * (vcanbridge-generator) writes them into a drop-in, so the service's IP
 * filter is as narrow as the options and no narrower: a link that takes
 * datagrams from anyone makes it "any".
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static void put_cidr(FILE *out, const struct vcb_cidr *c)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, a, sizeof(a));
	fprintf(out, " %s/%u", a, c->bits);
}

static void put_allow(FILE *out, const struct vcb_allow *a)
{
	for (unsigned int i = 0; i < a->n; i++)
		put_cidr(out, &a->net[i]);
}

static void put_sockaddr(FILE *out, const struct sockaddr_storage *ss)
{
	struct vcb_cidr c = { .family = ss->ss_family };

	if (ss->ss_family == AF_INET6) {
		memcpy(c.addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		c.bits = 128;
	} else {
		memcpy(c.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		c.bits = 32;
	}
	put_cidr(out, &c);
}

/* A UDP link's group or peer (a scope after % aside), numeric or a name. */
static int put_host(FILE *out, const char *host)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *r;
	char name[256];
	int err;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(host, "%"), host);
	err = getaddrinfo(name, NULL, &hints, &res);
	if (err) {
		fprintf(stderr, "vcanbridge: --ip-allow: %s: %s\n", name, gai_strerror(err));
		return -1;
	}
	for (r = res; r; r = r->ai_next) {
		struct sockaddr_storage ss = { 0 };

		memcpy(&ss, r->ai_addr, r->ai_addrlen);
		put_sockaddr(out, &ss);
	}
	freeaddrinfo(res);
	return 0;
}

static bool is_multicast(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	char name[INET6_ADDRSTRLEN];

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(host, "%"), host);
	if (inet_pton(AF_INET6, name, &a6) == 1)
		return IN6_IS_ADDR_MULTICAST(&a6);
	return inet_pton(AF_INET, name, &a4) == 1 && IN_MULTICAST(ntohl(a4.s_addr));
}

int vcb_ip_allow(const struct vcb_options *o, FILE *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *list = open_memstream(&buf, &len);
	bool anyone = false;
	int ret = 0;

	if (!list)
		return -1;
	for (unsigned int i = 0; i < o->nudp && !ret; i++) {
		const struct vcb_udp_config *u = &o->udp[i];

		/* The group is where datagrams go; a peer is also the sender. */
		ret = put_host(list, u->group);
		if (u->allow.n)
			put_allow(list, &u->allow);
		else if (is_multicast(u->group))
			anyone = true;
	}
	/* A hub off loopback has --allow; on loopback, localhost does. */
	if (o->tcp.listen)
		put_allow(list, &o->tcp.allow);
	if (o->tcp.connect && !ret) {
		struct sockaddr_storage ss;
		socklen_t sl;

		ret = vcb_resolve("--ip-allow", o->tcp.connect, NULL, &ss, &sl);
		if (!ret)
			put_sockaddr(list, &ss);
	}
	fclose(list);
	if (!ret)
		fprintf(out, "%s\n", anyone ? "any" : len ? buf + 1 : "");
	free(buf);
	return ret;
}
