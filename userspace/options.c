// SPDX-License-Identifier: GPL-2.0
/*
 * The command line. One table gives getopt_long its options and --help
 * its text; --udp takes getsubopt(3) keys.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cannelloni.h"
#include "log.h"
#include "options.h"
#include "pycan.h"

#define VCB_VERSION	"0.1"

/* python-can's udp_multicast defaults; cannelloni's port. */
#define PYCAN_GROUP	"ff15:7079:7468:6f6e:6465:6d6f:6d63:6173"
#define PYCAN_PORT	43113
#define CNL_PORT	20000

static const struct {
	struct option opt;
	const char *arg, *help;
} table[] = {
	{ { "udp", required_argument, NULL, 'u' }, "SPEC",
	  "join a UDP group (repeatable). SPEC: [pycan|cannelloni][,KEY=VALUE]...\n"
	  "\tkeys: format=pycan|cannelloni, group=ADDR (IPv6/IPv4 multicast, or a\n"
	  "\tunicast peer), port=N, hops=N, if=IFNAME, mtu=BYTES (cannelloni)\n"
	  "\tdefaults: python-can's group " PYCAN_GROUP ",\n"
	  "\tport 43113 (cannelloni: 20000), hops 1, mtu 1400" },
	{ { "tcp-listen", required_argument, NULL, 'l' }, "[ADDR:]PORT",
	  "be a cannelloni TCP hub: every peer gets every other's frames" },
	{ { "tcp-connect", required_argument, NULL, 'c' }, "ADDR:PORT",
	  "connect to a cannelloni TCP peer or hub (reconnects)" },
	{ { "error-frames", no_argument, NULL, 'e' }, NULL,
	  "also send the bus's error frames to the network" },
	{ { "bitrate", required_argument, NULL, 'b' }, "BPS",
	  "set the interface's bit rate first (libsocketcan; root)" },
	{ { "queue", required_argument, NULL, 'q' }, "FRAMES",
	  "frames waiting for the bus, at most (default 4096)" },
	{ { "tcp-buffer", required_argument, NULL, 'o' }, "BYTES",
	  "output buffer per TCP peer; a peer that fills it is dropped\n"
	  "\t(default 4194304)" },
	{ { "verbose", no_argument, NULL, 'v' }, NULL, "say more" },
	{ { "version", no_argument, NULL, 'V' }, NULL, "print the version" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "this text" },
};

#define NOPTS	(sizeof(table) / sizeof(table[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: vcanbridge [OPTION]... INTERFACE\n"
		"Joins the CAN interface INTERFACE to other hosts over UDP and TCP;\n"
		"every frame from one side goes to all the others. Statistics on\n"
		"SIGUSR1 and at exit (SIGINT, SIGTERM).\n\n");
	for (size_t i = 0; i < NOPTS; i++)
		fprintf(out, "  -%c, --%s%s%s\n\t%s\n", table[i].opt.val,
			table[i].opt.name, table[i].arg ? " " : "",
			table[i].arg ? table[i].arg : "", table[i].help);
}

static int number(const char *what, const char *s, unsigned long min,
		  unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s) {
		fprintf(stderr, "vcanbridge: %s: needs a value\n", what);
		return -1;
	}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "vcanbridge: %s '%s': expected a number from %lu to %lu\n",
			what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int udp_spec(char *spec, struct vcb_udp_config *u)
{
	enum { FORMAT, GROUP, PORT, HOPS, IF, MTU };
	char *const keys[] = { "format", "group", "port", "hops", "if", "mtu", NULL };
	char *value = NULL;
	int f;

	*u = (struct vcb_udp_config){ .hops = 1, .mtu = 1400 };
	/* A format name may lead: "pycan", "cannelloni,if=eth0". */
	f = vcb_format_lookup(spec, strcspn(spec, ","));
	if (f >= 0) {
		u->format = f;
		spec += strcspn(spec, ",");
		spec += *spec == ',';
	}
	while (*spec) {
		switch (getsubopt(&spec, keys, &value)) {
		case FORMAT:
			f = value ? vcb_format_lookup(value, strlen(value)) : -1;
			if (f < 0)
				goto bad;
			u->format = f;
			break;
		case GROUP:
			if (!value || !*value)
				goto bad;
			u->group = value;
			break;
		case PORT:
			if (number("--udp port", value, 1, 65535, &u->port))
				return -1;
			break;
		case HOPS:
			if (number("--udp hops", value, 0, 255, &u->hops))
				return -1;
			break;
		case IF:
			if (!value || !*value)
				goto bad;
			u->ifname = value;
			break;
		case MTU:
			if (number("--udp mtu", value,
				   CNL_HEADER_LEN + CNL_FRAME_MAX, 65000, &u->mtu))
				return -1;
			break;
		default:
			goto bad;
		}
	}
	if (!u->group)
		u->group = PYCAN_GROUP;
	if (!u->port)		/* unset: no port is 0 */
		u->port = u->format == VCB_FORMAT_PYCAN ? PYCAN_PORT : CNL_PORT;
	return 0;
bad:
	if (value)
		fprintf(stderr, "vcanbridge: --udp: cannot use '%s' (see --help)\n", value);
	else
		fprintf(stderr, "vcanbridge: --udp: an unknown key, or a key without its value (see --help)\n");
	return -1;
}

int vcb_options_parse(int argc, char **argv, struct vcb_options *o)
{
	struct option longopts[NOPTS + 1] = { 0 };
	char shortopts[3 * NOPTS + 1], *s = shortopts;
	int c;

	*o = (struct vcb_options){
		.can.queue = 4096,
		.tcp.out_limit = 4 << 20,
	};
	for (size_t i = 0; i < NOPTS; i++) {
		longopts[i] = table[i].opt;
		*s++ = table[i].opt.val;
		if (table[i].opt.has_arg)
			*s++ = ':';
	}
	*s = '\0';
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (o->nudp == VCB_MAX_UDP) {
				fprintf(stderr, "vcanbridge: at most %d --udp\n", VCB_MAX_UDP);
				return -1;
			}
			if (udp_spec(optarg, &o->udp[o->nudp++]))
				return -1;
			break;
		case 'l':
			o->tcp.listen = optarg;
			break;
		case 'c':
			o->tcp.connect = optarg;
			break;
		case 'e':
			o->can.error_frames = true;
			break;
		case 'b':
			if (number("--bitrate", optarg, 1, 10000000, &o->can.bitrate))
				return -1;
			break;
		case 'q':
			if (number("--queue", optarg, 16, 1 << 20, &o->can.queue))
				return -1;
			break;
		case 'o':
			if (number("--tcp-buffer", optarg, 4096, 1 << 30, &o->tcp.out_limit))
				return -1;
			break;
		case 'v':
			vcb_verbose = true;
			break;
		case 'V':
			printf("vcanbridge " VCB_VERSION "\n");
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vcanbridge: expected one CAN interface%s (see --help)\n",
			optind < argc ? ", got more" : "");
		return -1;
	}
	o->can.ifname = argv[optind];
	if (!o->nudp && !o->tcp.listen && !o->tcp.connect) {
		fprintf(stderr, "vcanbridge: nothing to join %s to: give --udp, --tcp-listen or --tcp-connect\n",
			o->can.ifname);
		return -1;
	}
	return 0;
}

int vcb_parse_hostport(const char *s, const char *default_host,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = s, *colon = strrchr(s, ':');
	unsigned int p;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (colon) {
		n = colon - s;
		if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
			s++;
			n -= 2;
		}
		if (n >= sizeof(host))
			return -1;
		memcpy(host, s, n);
		host[n] = '\0';
		port = colon + 1;
	} else if (default_host) {
		snprintf(host, sizeof(host), "%s", default_host);
	} else {
		return -1;
	}
	if (number("port", port, 1, 65535, &p))
		return -1;
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p);
		*len = sizeof(*a);
		return 0;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(p);
		*len = sizeof(*a);
		return 0;
	}
	return -1;
}

const char *vcb_addr_str(const struct sockaddr *sa, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)sa;

		inet_ntop(AF_INET6, &x->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(x->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)sa;

		inet_ntop(AF_INET, &x->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(x->sin_port));
	} else {
		snprintf(buf, size, "?");
	}
	return buf;
}
