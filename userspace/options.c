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
/* corosync's CPG_MAX_NAME_LENGTH: kept here, the options need no corosync. */
#define CPG_GROUP_MAX	128

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
	  "\tkeys: format=pycan|cannelloni, group=ADDR (IPv6/IPv4 multicast),\n"
	  "\tpeer=ADDR (a unicast peer instead: only it may send), port=N,\n"
	  "\thops=N, if=IFNAME, mtu=BYTES (cannelloni), allow=CIDR (only these\n"
	  "\tsources may send; repeatable), rate=FRAMES (a second, taken in;\n"
	  "\tdefault: what the bus carries at its bit rate)\n"
	  "\tdefaults: python-can's group " PYCAN_GROUP ",\n"
	  "\tport 43113 (cannelloni: 20000), hops 1, mtu 1400" },
	{ { "tcp-listen", required_argument, NULL, 'l' }, "[ADDR:]PORT",
	  "be a cannelloni TCP hub: every peer gets every other's frames.\n"
	  "\tPORT alone listens on 127.0.0.1; any other address needs --allow" },
	{ { "allow", required_argument, NULL, 'a' }, "CIDR",
	  "the hub takes peers from this network only (repeatable;\n"
	  "\t0.0.0.0/0 and ::/0 for anyone)" },
	{ { "tcp-connect", required_argument, NULL, 'c' }, "HOST:PORT",
	  "connect to a cannelloni TCP peer or hub (reconnects)" },
	{ { "cpg", required_argument, NULL, 'C' }, "GROUP",
	  "join the corosync process group GROUP (at most 128 bytes) of the\n"
	  "\tlocal corosync: one order of frames for every member (reconnects)" },
	{ { "cpg-queue", required_argument, NULL, 'Q' }, "FRAMES",
	  "frames waiting while corosync holds senders back, at most\n"
	  "\t(default 16384)" },
	{ { "to-bus", required_argument, NULL, 't' }, "FILTERS",
	  "only frames matching one of FILTERS go to the bus: ID:MASK or\n"
	  "\tID~MASK (not matching), comma-separated, as candump's" },
	{ { "from-bus", required_argument, NULL, 'f' }, "FILTERS",
	  "only the bus's frames matching one of FILTERS go to the network" },
	{ { "error-frames", no_argument, NULL, 'e' }, NULL,
	  "carry error frames: the bus's to the network, the network's to\n"
	  "\tthe bus (else they are counted and dropped)" },
	{ { "bitrate", required_argument, NULL, 'b' }, "BPS",
	  "set the interface's bit rate first (libsocketcan; root)" },
	{ { "queue", required_argument, NULL, 'q' }, "FRAMES",
	  "frames waiting for the bus, at most (default 4096)" },
	{ { "bus-timeout", required_argument, NULL, 'x' }, "MS",
	  "when the bus has carried no frame of ours for MS (down, bus-off,\n"
	  "\tnobody to acknowledge), the links relay among themselves and a\n"
	  "\tframe that waited MS for the bus is dropped, counted (default 2000)" },
	{ { "tcp-buffer", required_argument, NULL, 'o' }, "BYTES",
	  "output buffer per TCP peer; a peer that fills it is dropped\n"
	  "\t(default 4194304)" },
	{ { "tcp-peers", required_argument, NULL, 'P' }, "N",
	  "a hub's peers, at most (default 64)" },
	{ { "tcp-per-source", required_argument, NULL, 'S' }, "N",
	  "a hub's peers from one address, at most (default 4)" },
	{ { "tcp-greeting-timeout", required_argument, NULL, 'g' }, "MS",
	  "a peer (or server) that has not greeted by then is dropped\n"
	  "\t(default 5000)" },
	{ { "json", no_argument, NULL, 'j' }, NULL,
	  "statistics as one JSON object a report, on one line" },
	{ { "ip-allow", no_argument, NULL, 'A' }, NULL,
	  "print the addresses these options talk to, as systemd's\n"
	  "\tIPAddressAllow= (\"any\" for a group open to anyone), and exit" },
	{ { "verbose", no_argument, NULL, 'v' }, NULL, "say more" },
	{ { "version", no_argument, NULL, 'V' }, NULL, "print the version" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "this text" },
};

#define NOPTS	(sizeof(table) / sizeof(table[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: vcanbridge [OPTION]... INTERFACE\n"
		"Joins the CAN interface INTERFACE to other hosts over UDP, TCP and\n"
		"corosync; every frame from one side goes to all the others.\n"
		"Statistics on SIGUSR1 and at exit (SIGINT, SIGTERM).\n\n");
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
	enum { FORMAT, GROUP, PEER, PORT, HOPS, IF, MTU, ALLOW, RATE };
	char *const keys[] = { "format", "group", "peer", "port", "hops", "if",
			       "mtu", "allow", "rate", NULL };
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
		case PEER:
			if (!value || !*value)
				goto bad;
			if (u->group) {
				fprintf(stderr, "vcanbridge: --udp: one group= or peer= per link\n");
				return -1;
			}
			u->group = value;
			break;
		case RATE:
			if (number("--udp rate", value, 1, 10000000, &u->rate))
				return -1;
			break;
		case ALLOW:
			if (!value || !*value)
				goto bad;
			if (vcb_allow_add(&u->allow, "--udp allow", value))
				return -1;
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
	if (u->format == VCB_FORMAT_CANNELLONI && u->mtu > CNL_PEER_MTU)
		fprintf(stderr, "vcanbridge: warning: --udp mtu=%u: cannelloni reads datagrams of at most %d bytes unless told otherwise, and cuts longer ones\n",
			u->mtu, CNL_PEER_MTU);
	return 0;
bad:
	if (value)
		fprintf(stderr, "vcanbridge: --udp: cannot use '%s' (see --help)\n", value);
	else
		fprintf(stderr, "vcanbridge: --udp: an unknown key, or a key without its value (see --help)\n");
	return -1;
}

/* An option that makes sense once: refused the second time. */
static int once(const char *what, const char *before)
{
	if (!before)
		return 0;
	fprintf(stderr, "vcanbridge: %s given twice (the first was '%s'); a bridge has one\n",
		what, before);
	return -1;
}

/*
 * Nothing the user did not name is exposed: a hub on an address other
 * than loopback takes only the peers of --allow's networks, and without
 * --allow there is no such hub.
 */
static int tcp_listen_check(struct vcb_tcp_config *t)
{
	if (!t->listen) {
		if (t->allow.n) {
			fprintf(stderr, "vcanbridge: --allow names the peers of a --tcp-listen hub, and there is none\n");
			return -1;
		}
		return 0;
	}
	if (vcb_resolve("--tcp-listen", t->listen, "127.0.0.1", &t->listen_addr,
			&t->listen_len))
		return -1;
	if (!t->allow.n && !vcb_addr_is_loopback((void *)&t->listen_addr)) {
		fprintf(stderr, "vcanbridge: --tcp-listen %s: anyone who reaches that address could write to the bus; name who may with --allow CIDR (--allow 0.0.0.0/0 --allow ::/0 for anyone)\n",
			t->listen);
		return -1;
	}
	return 0;
}

int vcb_options_parse(int argc, char **argv, struct vcb_options *o)
{
	struct option longopts[NOPTS + 1] = { 0 };
	char shortopts[3 * NOPTS + 1], *s = shortopts;
	bool ip_allow = false;
	int c;

	*o = (struct vcb_options){
		.can.queue = 4096,
		.can.bus_timeout_ms = 2000,
		.tcp.out_limit = 4 << 20,
		.tcp.max_peers = 64,
		.tcp.per_source = 4,
		.tcp.greeting_ms = 5000,
		.cpg.queue = 16384,
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
			if (once("--tcp-listen", o->tcp.listen))
				return -1;
			o->tcp.listen = optarg;
			break;
		case 'a':
			if (vcb_allow_add(&o->tcp.allow, "--allow", optarg))
				return -1;
			break;
		case 'c':
			if (once("--tcp-connect", o->tcp.connect))
				return -1;
			o->tcp.connect = optarg;
			break;
		case 'C':
			if (once("--cpg", o->cpg.group))
				return -1;
			if (!*optarg || strlen(optarg) > CPG_GROUP_MAX) {
				fprintf(stderr, "vcanbridge: --cpg '%s': a group's name has 1 to %d bytes\n",
					optarg, CPG_GROUP_MAX);
				return -1;
			}
			o->cpg.group = optarg;
			break;
		case 'Q':
			if (number("--cpg-queue", optarg, 16, 1 << 20, &o->cpg.queue))
				return -1;
			break;
		case 't':
			if (vcb_filters_parse(&o->can.to_bus, "--to-bus", optarg))
				return -1;
			break;
		case 'f':
			if (vcb_filters_parse(&o->can.from_bus, "--from-bus", optarg))
				return -1;
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
		case 'x':
			if (number("--bus-timeout", optarg, 10, 600000,
				   &o->can.bus_timeout_ms))
				return -1;
			break;
		case 'o':
			if (number("--tcp-buffer", optarg, 4096, 1 << 30, &o->tcp.out_limit))
				return -1;
			break;
		case 'P':
			if (number("--tcp-peers", optarg, 1, 4096, &o->tcp.max_peers))
				return -1;
			break;
		case 'S':
			if (number("--tcp-per-source", optarg, 1, 4096, &o->tcp.per_source))
				return -1;
			break;
		case 'g':
			if (number("--tcp-greeting-timeout", optarg, 100, 600000,
				   &o->tcp.greeting_ms))
				return -1;
			break;
		case 'j':
			vcb_stats_json = true;
			break;
		case 'A':
			ip_allow = true;
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
	if (!o->nudp && !o->tcp.listen && !o->tcp.connect && !o->cpg.group) {
		fprintf(stderr, "vcanbridge: nothing to join %s to: give --udp, --tcp-listen, --tcp-connect or --cpg\n",
			o->can.ifname);
		return -1;
	}
	if (o->cpg.group && o->can.queue < 4 * VCB_CPG_MSG_FRAMES) {
		fprintf(stderr, "vcanbridge: --queue %u: with --cpg the queue to the bus holds at least %u frames (four corosync messages)\n",
			o->can.queue, 4 * VCB_CPG_MSG_FRAMES);
		return -1;
	}
	if (tcp_listen_check(&o->tcp))
		return -1;
	if (ip_allow)
		return vcb_ip_allow(o, stdout) ? -1 : 1;
	return 0;
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
