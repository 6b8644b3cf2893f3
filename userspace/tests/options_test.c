// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of what decides who may write to the bus and which
 * frames pass: CAN ID filters (filter.c, against the kernel's CAN_RAW
 * rules), allow-lists and addresses (access.c), and the command line
 * (options.c): each bad value refused, with the message on stderr.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "filter.h"
#include "options.h"
#include "tap.h"

/* ---- CAN ID filters ------------------------------------------------------ */

static bool passes(const char *spec, canid_t id)
{
	struct vcb_filters fl = { 0 };

	if (vcb_filters_parse(&fl, "test", spec)) {
		diag("#   filter '%s' refused\n", spec);
		test_ok = false;
		return false;
	}
	return vcb_filters_match(&fl, id);
}

static void t_filter_match(void)
{
	/* candump's examples: 123:7FF passes 0x123 only (and the EFF 0x123,
	 * as the kernel's mask does not include CAN_EFF_FLAG). */
	CHECK(passes("123:7FF", 0x123));
	CHECK(!passes("123:7FF", 0x124));
	CHECK(passes("123:7FF", 0x123 | CAN_EFF_FLAG));
	CHECK(passes("123:C00007FF", 0x123));
	CHECK(!passes("123:C00007FF", 0x123 | CAN_EFF_FLAG));
	CHECK(!passes("123:C00007FF", 0x123 | CAN_RTR_FLAG));
	/* 8 digits: the extended format. */
	CHECK(passes("00000123:1FFFFFFF", 0x123 | CAN_EFF_FLAG));
	CHECK(!passes("12345678:DFFFFFFF", 0x12345678));
	CHECK(passes("12345678:DFFFFFFF", 0x12345678 | CAN_EFF_FLAG));
	/* Inverted, ranges, several: any one passes the frame. */
	CHECK(!passes("123~7FF", 0x123));
	CHECK(passes("123~7FF", 0x456));
	CHECK(passes("100:700", 0x1ab));
	CHECK(!passes("100:700", 0x2ab));
	CHECK(passes("100:700,300:7FF", 0x300));
	CHECK(!passes("100:700,300:7FF", 0x301));
	CHECK(passes("0:0", 0x7ff));
}

static void t_filter_bad(void)
{
	static const char *const bad[] = {
		"", "123", "123:", ":7FF", "123:7FF,", "123:7FF,,200:7FF",
		"123;7FF", "x23:7FF", "123456789:7FF", "123:7FG", "#FFFFFFFF",
		"123:7FF,j", "123:7FF ",
	};
	struct vcb_filters fl = { 0 };
	char many[40 * 8] = "";

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ctx("'%s'", bad[i]);
		CHECK_EQ(vcb_filters_parse(&fl, "test", bad[i]), -1);
	}
	ctx("%s", "");
	for (int i = 0; i < VCB_MAX_FILTERS + 1; i++)
		strcat(many, i ? ",1:7FF" : "1:7FF");
	fl.n = 0;
	CHECK_EQ(vcb_filters_parse(&fl, "test", many), -1);
}

/* ---- allow-lists ------------------------------------------------------ */

static struct sockaddr_storage addr(const char *s)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;

	if (inet_pton(AF_INET, s, &a->sin_addr) == 1)
		a->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1)
		a6->sin6_family = AF_INET6;
	return ss;
}

static bool allowed(const char *nets, const char *host)
{
	struct vcb_allow a = { 0 };
	struct sockaddr_storage ss = addr(host);
	char buf[256], *save, *net;

	snprintf(buf, sizeof(buf), "%s", nets);
	for (net = strtok_r(buf, " ", &save); net; net = strtok_r(NULL, " ", &save))
		if (vcb_allow_add(&a, "test", net)) {
			diag("#   '%s' refused\n", net);
			test_ok = false;
		}
	return vcb_allow_match(&a, (void *)&ss);
}

static void t_allow_match(void)
{
	CHECK(allowed("10.0.0.0/24", "10.0.0.7"));
	CHECK(!allowed("10.0.0.0/24", "10.0.1.7"));
	CHECK(allowed("10.0.0.4", "10.0.0.4"));
	CHECK(!allowed("10.0.0.4", "10.0.0.5"));
	CHECK(allowed("10.0.0.0/25", "10.0.0.127"));
	CHECK(!allowed("10.0.0.0/25", "10.0.0.128"));
	CHECK(allowed("0.0.0.0/0", "192.0.2.1"));
	CHECK(!allowed("0.0.0.0/0", "2001:db8::1"));
	/* An IPv4 peer on a dual-stack socket is itself. */
	CHECK(allowed("10.0.0.0/24", "::ffff:10.0.0.9"));
	CHECK(!allowed("::ffff:0:0/96", "10.0.0.9"));
	CHECK(allowed("2001:db8::/33", "2001:db8:7fff::1"));
	CHECK(!allowed("2001:db8::/33", "2001:db8:8000::1"));
	CHECK(allowed("::/0", "fe80::1"));
	CHECK(allowed("192.0.2.0/24 2001:db8::/32", "2001:db8::5"));
	CHECK(!allowed("", "10.0.0.1"));
}

static void t_allow_bad(void)
{
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1",
		"10.0.0.1/24", "2001:db8::1/32", "::/129", "host.example",
		"10.0.0.0/24x",
	};
	struct vcb_allow a = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ctx("'%s'", bad[i]);
		CHECK_EQ(vcb_allow_add(&a, "test", bad[i]), -1);
	}
	CHECK_EQ(a.n, 0);
	ctx("%s", "");
	for (int i = 0; i < VCB_MAX_ALLOW; i++)
		CHECK_EQ(vcb_allow_add(&a, "test", "10.0.0.0/8"), 0);
	CHECK_EQ(vcb_allow_add(&a, "test", "10.0.0.0/8"), -1);
}

static void t_hosts(void)
{
	struct sockaddr_storage a = addr("10.0.0.1"), b = addr("::ffff:10.0.0.1"),
				c = addr("10.0.0.2"), l6 = addr("::1");
	struct sockaddr_storage s1 = addr("fe80::1"), s2 = addr("fe80::1");

	CHECK(vcb_same_host((void *)&a, (void *)&b));
	CHECK(!vcb_same_host((void *)&a, (void *)&c));
	((struct sockaddr_in6 *)&s1)->sin6_scope_id = 2;
	((struct sockaddr_in6 *)&s2)->sin6_scope_id = 3;
	CHECK(!vcb_same_host((void *)&s1, (void *)&s2));
	CHECK(vcb_addr_is_loopback((void *)&l6));
	a = addr("127.1.2.3");
	CHECK(vcb_addr_is_loopback((void *)&a));
	CHECK(!vcb_addr_is_loopback((void *)&c));
}

static void t_resolve(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a6 = (void *)&ss;
	struct sockaddr_in *a = (void *)&ss;
	socklen_t len;

	CHECK_EQ(vcb_resolve("test", "20000", "127.0.0.1", &ss, &len), 0);
	CHECK_EQ(ss.ss_family, AF_INET);
	CHECK_EQ(ntohs(a->sin_port), 20000);
	CHECK_EQ(ntohl(a->sin_addr.s_addr), 0x7f000001);
	CHECK_EQ(vcb_resolve("test", "[2001:db8::7]:1", NULL, &ss, &len), 0);
	CHECK_EQ(ss.ss_family, AF_INET6);
	CHECK_EQ(a6->sin6_addr.s6_addr[15], 7);
	/* A scope by interface name: "lo" is on every host. */
	CHECK_EQ(vcb_resolve("test", "[fe80::1%lo]:9", NULL, &ss, &len), 0);
	CHECK_EQ(a6->sin6_scope_id, 1);
	/* A name (localhost is in every /etc/hosts). */
	CHECK_EQ(vcb_resolve("test", "localhost:7", NULL, &ss, &len), 0);
	CHECK(vcb_addr_is_loopback((void *)&ss));
	CHECK_EQ(vcb_resolve("test", "20000", NULL, &ss, &len), -1);
	CHECK_EQ(vcb_resolve("test", "10.0.0.1:0", NULL, &ss, &len), -1);
	CHECK_EQ(vcb_resolve("test", "10.0.0.1:65536", NULL, &ss, &len), -1);
	CHECK_EQ(vcb_resolve("test", ":20", NULL, &ss, &len), -1);
	CHECK_EQ(vcb_resolve("test", "no.such.host.invalid:20", NULL, &ss, &len), -1);
}

/* ---- the command line ------------------------------------------------- */

/* vcb_options_parse() on @argv (NULL-terminated after the program name). */
static int parse(struct vcb_options *o, ...)
{
	char *argv[16] = { "vcanbridge" };
	int argc = 1;
	va_list ap;

	va_start(ap, o);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	optind = 0;
	return vcb_options_parse(argc, argv, o);
}

static void t_options_access(void)
{
	struct vcb_options o;

	/* A port alone: loopback, open to every local program. */
	CHECK_EQ(parse(&o, "--tcp-listen", "20000", "can0", NULL), 0);
	CHECK(vcb_addr_is_loopback((void *)&o.tcp.listen_addr));
	CHECK_EQ(parse(&o, "--tcp-listen", "[::1]:20000", "can0", NULL), 0);
	/* Any other address: only with --allow. */
	CHECK_EQ(parse(&o, "--tcp-listen", "10.0.0.1:20000", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--tcp-listen", "0.0.0.0:20000", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--tcp-listen", "10.0.0.1:20000", "--allow",
		       "10.0.0.0/24", "can0", NULL), 0);
	CHECK_EQ(o.tcp.allow.n, 1);
	CHECK_EQ(parse(&o, "--tcp-listen", "[::]:20000", "-a", "0.0.0.0/0",
		       "-a", "::/0", "can0", NULL), 0);
	CHECK_EQ(o.tcp.allow.n, 2);
	/* --allow without a hub, a bad network. */
	CHECK_EQ(parse(&o, "--udp", "pycan", "--allow", "10.0.0.0/24", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--tcp-listen", "20000", "--allow", "10.0.0.1/24",
		       "can0", NULL), -1);
	/* Once each. */
	CHECK_EQ(parse(&o, "--tcp-listen", "20000", "--tcp-listen", "20001",
		       "can0", NULL), -1);
	CHECK_EQ(parse(&o, "-c", "10.0.0.1:1", "-c", "10.0.0.2:1", "can0", NULL), -1);
}

static void t_options_udp(void)
{
	struct vcb_options o;
	char spec[4][96] = {
		"cannelloni,peer=10.0.0.2,allow=10.0.0.0/24,allow=10.1.0.0/16",
		"pycan,group=239.1.2.3,peer=10.0.0.2",
		"cannelloni,allow=10.0.0.1/8",
		"cannelloni,group=239.1.2.3,mtu=1600",
	};

	CHECK_EQ(parse(&o, "--udp", spec[0], "can0", NULL), 0);
	CHECK(!strcmp(o.udp[0].group, "10.0.0.2"));
	CHECK_EQ(o.udp[0].allow.n, 2);
	CHECK_EQ(o.udp[0].port, 20000);
	CHECK_EQ(parse(&o, "--udp", spec[1], "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--udp", spec[2], "can0", NULL), -1);
	/* Above what cannelloni reads: a warning, not an error. */
	CHECK_EQ(parse(&o, "--udp", spec[3], "can0", NULL), 0);
	CHECK_EQ(o.udp[0].mtu, 1600);
}

static void t_options_filters(void)
{
	struct vcb_options o;

	CHECK_EQ(parse(&o, "--udp", "pycan", "--to-bus", "100:700,200~7FF",
		       "--from-bus", "00000123:1FFFFFFF", "can0", NULL), 0);
	CHECK_EQ(o.can.to_bus.n, 2);
	CHECK_EQ(o.can.from_bus.n, 1);
	CHECK_EQ(o.can.from_bus.f[0].can_id, 0x123 | CAN_EFF_FLAG);
	CHECK_EQ(parse(&o, "--udp", "pycan", "--to-bus", "100", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--udp", "pycan", "can0", NULL), 0);
	CHECK_EQ(o.can.to_bus.n, 0);
	CHECK(!o.can.error_frames);
}

static void t_options_bus_timeout(void)
{
	struct vcb_options o;

	CHECK_EQ(parse(&o, "--udp", "pycan", "can0", NULL), 0);
	CHECK_EQ(o.can.bus_timeout_ms, 2000);
	CHECK_EQ(parse(&o, "--udp", "pycan", "-x", "250", "can0", NULL), 0);
	CHECK_EQ(o.can.bus_timeout_ms, 250);
	CHECK_EQ(parse(&o, "--udp", "pycan", "--bus-timeout", "5", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--udp", "pycan", "--bus-timeout", "2s", "can0", NULL), -1);
}

static void t_options_cpg(void)
{
	struct vcb_options o;
	char name[130];

	/* A corosync group alone is something to join. */
	CHECK_EQ(parse(&o, "--cpg", "bench", "can0", NULL), 0);
	CHECK(!strcmp(o.cpg.group, "bench"));
	CHECK_EQ(o.cpg.queue, 16384);
	CHECK_EQ(parse(&o, "--cpg", "bench", "--cpg-queue", "64", "--udp", "pycan",
		       "can0", NULL), 0);
	CHECK_EQ(o.cpg.queue, 64);
	CHECK_EQ(parse(&o, "can0", NULL), -1);
	/* Names of 1 to 128 bytes (corosync's CPG_MAX_NAME_LENGTH), once. */
	memset(name, 'g', 128);
	name[128] = '\0';
	CHECK_EQ(parse(&o, "--cpg", name, "can0", NULL), 0);
	name[128] = 'g';
	name[129] = '\0';
	CHECK_EQ(parse(&o, "--cpg", name, "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--cpg", "", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--cpg", "a", "--cpg", "b", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--cpg", "a", "--cpg-queue", "8", "can0", NULL), -1);
	/* Room for four of its messages in the queue to the bus. */
	CHECK_EQ(parse(&o, "--cpg", "a", "--queue", "1024", "can0", NULL), 0);
	CHECK_EQ(parse(&o, "--cpg", "a", "--queue", "1023", "can0", NULL), -1);
	CHECK_EQ(parse(&o, "--udp", "pycan", "--queue", "16", "can0", NULL), 0);
}

static const struct tap_test tests[] = {
	{ t_filter_match, "filters: candump's syntax, the kernel's matching" },
	{ t_filter_bad, "filters: bad filters refused" },
	{ t_allow_match, "allow-lists: networks, hosts, IPv4-mapped peers" },
	{ t_allow_bad, "allow-lists: bad networks refused, the list bounded" },
	{ t_hosts, "addresses: same host, loopback" },
	{ t_resolve, "addresses: ports, brackets, scopes, names; bad ones refused" },
	{ t_options_access, "options: a hub exposes nothing unnamed; options once" },
	{ t_options_udp, "options: --udp peer=, allow=, mtu= above cannelloni's" },
	{ t_options_filters, "options: --to-bus, --from-bus" },
	{ t_options_bus_timeout, "options: --bus-timeout, 2000 ms by default" },
	{ t_options_cpg, "options: --cpg names of 1 to 128 bytes, once; --cpg-queue; --queue" },
};

int main(void)
{
	return tap_run(tests, ARRAY_SIZE(tests));
}
