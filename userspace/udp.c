// SPDX-License-Identifier: GPL-2.0
/*
 * UDP transport: a multicast group (IPv6 or IPv4) all bridges and
 * python-can programs of a bus join, or a single unicast peer, in one of
 * two formats: python-can's udp_multicast (a msgpack datagram per frame)
 * or cannelloni's UDP data packets (batched, with sequence numbers).
 *
 * Two sockets: one bound to the group's address and port receives, as
 * python-can's does (SO_REUSEADDR, so they can share the port on one
 * host), and so gets the group's datagrams only, never one sent to this
 * host's own address; one with an ephemeral port sends. Multicast
 * loopback stays on, so a python-can program on this host hears us; our
 * own datagrams are told apart by their source, the sending socket's
 * address, and skipped.
 *
 * Who may send: anyone who reaches the group (that is what a group is),
 * narrowed by allow=; for a unicast peer, that peer's address only.
 *
 * UDP may lose, reorder and duplicate datagrams: with cannelloni's 8-bit
 * sequence number (one counter per sender) every gap is counted as lost,
 * a datagram of a gap that comes later (up to 32 behind) as reordered
 * (delivered, no longer lost), and one whose number already came within
 * those 32 as a duplicate: counted, never put on the bus twice. A jump
 * ahead of up to 223 is a gap of that many; one of 256 or more cannot be
 * told from a smaller one (the number has 8 bits) and counts 256 less.
 * A sender that restarts has a new source port: a new sender.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "cannelloni.h"
#include "log.h"
#include "pycan.h"
#include "rate.h"

#define UDP_BATCH	16		/* datagrams per recvmmsg */
#define UDP_IN_MAX	65536
#define UDP_PENDING	64		/* datagrams per sendmmsg */
#define UDP_SENDERS	16		/* cannelloni senders tracked */
#define UDP_LATE_WINDOW	32		/* a datagram this far behind is late */

enum udp_seq_state { SEQ_UNKNOWN, SEQ_RECEIVED, SEQ_LOST };

struct udp_sender {
	struct sockaddr_storage addr;
	uint8_t next;			/* the sequence number expected */
	uint64_t used;			/* for replacing the oldest */
	uint8_t state[256];		/* enum udp_seq_state, by number */
};

struct udp_link {
	struct vcb_port port;
	struct vcb_source rx;
	int tx_fd;
	struct vcb_udp_config cfg;
	char name[96];
	struct sockaddr_storage self;
	socklen_t self_len;
	struct sockaddr_storage group;
	bool unicast;
	size_t slot;			/* bytes per outgoing datagram, at most */
	uint8_t *out;			/* UDP_PENDING slots */
	size_t out_len[UDP_PENDING];
	unsigned int pending;		/* complete datagrams in out */
	uint16_t cnl_count;		/* frames in the packet being filled */
	uint8_t seq;
	uint8_t *in;			/* UDP_BATCH buffers of UDP_IN_MAX */
	struct udp_sender senders[UDP_SENDERS];
	uint64_t clock;
	struct vcb_rate limit;		/* frames the network may put in */
	struct {
		uint64_t rx_datagrams, rx_frames, tx_datagrams, tx_frames;
		uint64_t own, refused_source, not_carried, send_errors;
		uint64_t lost, reordered, duplicates, rate_limited;
		struct vcb_bad_counts bad;
	} st;
};

static const char *const format_names[VCB_FORMAT_MAX] = {
	[VCB_FORMAT_PYCAN]	= "pycan",
	[VCB_FORMAT_CANNELLONI]	= "cannelloni",
};

const char *vcb_format_name(enum vcb_format format)
{
	return format_names[format];
}

int vcb_format_lookup(const char *s, size_t len)
{
	for (int f = 0; f < VCB_FORMAT_MAX; f++)
		if (strlen(format_names[f]) == len && !strncmp(s, format_names[f], len))
			return f;
	return -1;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct sockaddr_storage *b, socklen_t blen)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return alen == blen && !memcmp(a, b, alen);
}

static struct udp_sender *udp_sender_find(struct udp_link *l,
					  const struct sockaddr_storage *from,
					  socklen_t len)
{
	for (int i = 0; i < UDP_SENDERS; i++) {
		struct udp_sender *x = &l->senders[i];

		if (x->used && same_addr(&x->addr, len, from, len))
			return x;
	}
	return NULL;
}

/* A datagram @d behind the next expected one: 1..UDP_LATE_WINDOW, else 0. */
static unsigned int udp_behind(const struct udp_sender *s, uint8_t seq)
{
	uint8_t d = s->next - seq;

	return d && d <= UDP_LATE_WINDOW ? d : 0;
}

/* Was datagram @seq of @s here already (within the late window)? */
static bool udp_duplicate(const struct udp_sender *s, uint8_t seq)
{
	return s && udp_behind(s, seq) && s->state[seq] == SEQ_RECEIVED;
}

/* Counts a good datagram @seq: gaps as lost, late ones as reordered. */
static void udp_sequence(struct udp_link *l, const struct sockaddr_storage *from,
			 socklen_t len, uint8_t seq)
{
	struct udp_sender *s = udp_sender_find(l, from, len);
	uint8_t ahead;

	if (!s) {
		/* A new sender (or the oldest one's place): it starts here. */
		s = &l->senders[0];
		for (int i = 1; i < UDP_SENDERS; i++)
			if (l->senders[i].used < s->used)
				s = &l->senders[i];
		memset(s, 0, sizeof(*s));
		s->addr = *from;
		s->next = seq;
	}
	s->used = ++l->clock;
	if (udp_behind(s, seq)) {
		/* Of a gap counted lost: late, not lost after all. */
		l->st.reordered++;
		if (s->state[seq] == SEQ_LOST)
			l->st.lost--;
		s->state[seq] = SEQ_RECEIVED;
		return;
	}
	ahead = seq - s->next;
	for (uint8_t i = 0; i < ahead; i++)
		s->state[(uint8_t)(s->next + i)] = SEQ_LOST;
	l->st.lost += ahead;
	s->state[seq] = SEQ_RECEIVED;
	s->next = seq + 1;
}

static void udp_emit(void *ctx, const struct vcb_frame *f)
{
	struct udp_link *l = ctx;

	/* No more than a bus carries: a flood, or one datagram of 13 000
	 * frames, does not become as many on every other link. */
	if (!vcb_rate_take(&l->limit)) {
		l->st.rate_limited++;
		return;
	}
	l->st.rx_frames++;
	vcb_deliver(f, l);
}

static void udp_datagram(struct udp_link *l, const uint8_t *buf, size_t len,
			 const struct sockaddr_storage *from, socklen_t fromlen)
{
	enum vcb_bad why;
	struct vcb_frame f;
	uint8_t seq;

	if (same_addr(from, fromlen, &l->self, l->self_len)) {
		l->st.own++;
		return;
	}
	if ((l->unicast && !vcb_same_host((void *)from, (void *)&l->group)) ||
	    (l->cfg.allow.n && !vcb_allow_match(&l->cfg.allow, (void *)from))) {
		char who[64];

		l->st.refused_source++;
		vcb_debug("%s: datagram from %s refused: %s", l->name,
			  vcb_addr_str((void *)from, who, sizeof(who)),
			  l->unicast ? "not the peer" : "not in allow=");
		return;
	}
	l->st.rx_datagrams++;
	if (l->cfg.format == VCB_FORMAT_PYCAN) {
		why = pycan_decode(buf, len, &f);
		if (!why)
			udp_emit(l, &f);
	} else {
		/* The number first: a duplicate never reaches the bus. */
		if (len >= CNL_HEADER_LEN &&
		    udp_duplicate(udp_sender_find(l, from, fromlen), buf[2])) {
			l->st.duplicates++;
			return;
		}
		why = cnl_packet_decode(buf, len, &seq, udp_emit, l);
		if (!why)
			udp_sequence(l, from, fromlen, seq);
	}
	if (why) {
		l->st.bad.n[why]++;
		vcb_debug("%s: datagram of %zu bytes refused: %s", l->name, len,
			  vcb_bad_name(why));
	}
}

static void udp_read(struct vcb_source *src, uint32_t events)
{
	struct udp_link *l = container_of(src, struct udp_link, rx);
	struct sockaddr_storage from[UDP_BATCH];
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int n;

	(void)events;
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){ l->in + (size_t)i * UDP_IN_MAX, UDP_IN_MAX };
		msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1,
		};
	}
	n = recvmmsg(src->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			vcb_err("%s: receive: %m", l->name);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			l->st.rx_datagrams++;
			l->st.bad.n[VCB_BAD_LENGTH]++;
			continue;
		}
		udp_datagram(l, iov[i].iov_base, msgs[i].msg_len, &from[i],
			     msgs[i].msg_hdr.msg_namelen);
	}
}

static uint8_t *udp_slot(struct udp_link *l, unsigned int i)
{
	return l->out + (size_t)i * l->slot;
}

static void udp_flush(struct vcb_port *port)
{
	struct udp_link *l = (struct udp_link *)port;
	struct mmsghdr msgs[UDP_PENDING];
	struct iovec iov[UDP_PENDING];
	unsigned int done = 0;
	int n;

	/* The cannelloni packet being filled goes too. */
	if (l->cnl_count) {
		cnl_packet_header(udp_slot(l, l->pending), l->seq++, l->cnl_count);
		l->pending++;
		l->cnl_count = 0;
	}
	for (unsigned int i = 0; i < l->pending; i++) {
		iov[i] = (struct iovec){ udp_slot(l, i), l->out_len[i] };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	while (done < l->pending) {
		n = sendmmsg(l->tx_fd, msgs + done, l->pending - done, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			vcb_debug("%s: send: %m", l->name);
			/* Best effort, as UDP is: lost and counted, the rest
			 * if the socket is full, else this one datagram (an
			 * ICMP error reported on it, say). */
			if (errno == EAGAIN || errno == ENOBUFS) {
				l->st.send_errors += l->pending - done;
				break;
			}
			l->st.send_errors++;
			done++;
			continue;
		}
		l->st.tx_datagrams += n;
		done += n;
	}
	l->pending = 0;
}

static void udp_send(struct vcb_port *port, const struct vcb_frame *f,
		     const void *origin)
{
	struct udp_link *l = (struct udp_link *)port;
	struct timespec now;
	size_t need;
	ssize_t n;

	if (origin == l)
		return;
	if (vcb_frame_has_len8_dlc(f)) {
		l->st.not_carried++;
		return;
	}
	if (l->cfg.format == VCB_FORMAT_PYCAN) {
		if (l->pending == UDP_PENDING)
			udp_flush(port);
		/* python-can's receiver puts its own receive time instead. */
		clock_gettime(CLOCK_REALTIME, &now);
		n = pycan_encode(f, now.tv_sec + now.tv_nsec / 1e9,
				 vcb_can_ifname(), udp_slot(l, l->pending), l->slot);
		if (n < 0) {
			l->st.not_carried++;
			return;
		}
		l->out_len[l->pending++] = n;
		l->st.tx_frames++;
		return;
	}
	need = cnl_frame_size(f);
	if (l->cnl_count && (l->out_len[l->pending] + need > l->slot ||
			     l->cnl_count == UINT16_MAX)) {
		cnl_packet_header(udp_slot(l, l->pending), l->seq++, l->cnl_count);
		l->pending++;
		l->cnl_count = 0;
	}
	if (l->pending == UDP_PENDING)
		udp_flush(port);
	if (!l->cnl_count)
		l->out_len[l->pending] = CNL_HEADER_LEN;
	l->out_len[l->pending] += cnl_frame_encode(f, udp_slot(l, l->pending) +
						      l->out_len[l->pending]);
	l->cnl_count++;
	l->st.tx_frames++;
}

static void udp_report(struct vcb_port *port, FILE *out)
{
	struct udp_link *l = (struct udp_link *)port;
	const char *n = l->name;

	vcb_stat(out, n, "rx_datagrams", l->st.rx_datagrams);
	vcb_stat(out, n, "rx_frames", l->st.rx_frames);
	vcb_stat(out, n, "rx_own_skipped", l->st.own);
	vcb_stat(out, n, "rx_refused_source", l->st.refused_source);
	vcb_stat(out, n, "rx_rate_limit", (uint64_t)l->limit.rate);
	vcb_stat(out, n, "rx_rate_limited", l->st.rate_limited);
	vcb_stat_bad(out, n, &l->st.bad);
	if (l->cfg.format == VCB_FORMAT_CANNELLONI) {
		vcb_stat(out, n, "rx_lost_datagrams", l->st.lost);
		vcb_stat(out, n, "rx_reordered_datagrams", l->st.reordered);
		vcb_stat(out, n, "rx_duplicate_datagrams", l->st.duplicates);
	}
	vcb_stat(out, n, "tx_frames", l->st.tx_frames);
	vcb_stat(out, n, "tx_datagrams", l->st.tx_datagrams);
	vcb_stat(out, n, "tx_not_carried", l->st.not_carried);
	vcb_stat(out, n, "tx_send_errors", l->st.send_errors);
}

static void udp_close(struct vcb_port *port)
{
	struct udp_link *l = (struct udp_link *)port;

	close(l->rx.fd);
	close(l->tx_fd);
	free(l->out);
	free(l->in);
	free(l);
}

static int udp_sockets(struct udp_link *l, const struct sockaddr_storage *group,
		       socklen_t glen)
{
	int family = group->ss_family, on = 1, off = 0, rcvbuf = 16 << 20;
	unsigned int ifindex = 0, hops = l->cfg.hops;
	struct sockaddr_storage any = { .ss_family = family };
	bool multicast;

	l->rx.fd = -1;
	if (l->cfg.ifname && !(ifindex = if_nametoindex(l->cfg.ifname))) {
		vcb_err("%s: no interface %s", l->name, l->cfg.ifname);
		return -1;
	}
	l->tx_fd = -1;
	l->rx.fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	l->tx_fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->rx.fd < 0 || l->tx_fd < 0)
		goto fail;
	setsockopt(l->rx.fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/*
	 * Only our own group: by default a socket bound to the port gets
	 * the datagrams of every group any socket of this host joined, so
	 * two links on one port would hear (and forward) each other.
	 */
	if (setsockopt(l->rx.fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       family == AF_INET ? IP_MULTICAST_ALL : IPV6_MULTICAST_ALL,
		       &off, sizeof(off)))
		goto fail;
	if (setsockopt(l->rx.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(l->rx.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (family == AF_INET) {
		struct sockaddr_in *g = (void *)group, *a = (void *)&any;
		struct ip_mreqn mr = { .imr_multiaddr = g->sin_addr,
				       .imr_ifindex = ifindex };

		a->sin_port = g->sin_port;
		multicast = IN_MULTICAST(ntohl(g->sin_addr.s_addr));
		if (multicast)
			a->sin_addr = g->sin_addr;
		if (bind(l->rx.fd, (void *)a, sizeof(*a)))
			goto fail;
		if (multicast &&
		    (setsockopt(l->rx.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) ||
		     setsockopt(l->tx_fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof(hops)) ||
		     setsockopt(l->tx_fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr))))
			goto fail;
	} else {
		struct sockaddr_in6 *g = (void *)group, *a = (void *)&any;
		struct ipv6_mreq mr = { .ipv6mr_multiaddr = g->sin6_addr,
					.ipv6mr_interface = ifindex };

		a->sin6_port = g->sin6_port;
		multicast = IN6_IS_ADDR_MULTICAST(&g->sin6_addr);
		if (multicast) {
			if (!ifindex && (IN6_IS_ADDR_MC_LINKLOCAL(&g->sin6_addr) ||
					 IN6_IS_ADDR_MC_NODELOCAL(&g->sin6_addr))) {
				vcb_err("%s: a link-local group: name its interface with if=",
					l->name);
				goto fail_quiet;
			}
			a->sin6_addr = g->sin6_addr;
			a->sin6_scope_id = ifindex;
		}
		if (bind(l->rx.fd, (void *)a, sizeof(*a)))
			goto fail;
		if (multicast &&
		    (setsockopt(l->rx.fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) ||
		     setsockopt(l->tx_fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) ||
		     (ifindex && setsockopt(l->tx_fd, IPPROTO_IPV6, IPV6_MULTICAST_IF,
					    &ifindex, sizeof(ifindex)))))
			goto fail;
	}
	/* Connected: sendmmsg needs no address, getsockname tells our source. */
	l->self_len = sizeof(l->self);
	if (connect(l->tx_fd, (const void *)group, glen) ||
	    getsockname(l->tx_fd, (void *)&l->self, &l->self_len))
		goto fail;
	l->group = *group;
	l->unicast = !multicast;
	return 0;
fail:
	vcb_err("%s: %m", l->name);
fail_quiet:
	if (l->rx.fd >= 0)
		close(l->rx.fd);
	if (l->tx_fd >= 0)
		close(l->tx_fd);
	return -1;
}

int vcb_udp_open(const struct vcb_udp_config *cfg)
{
	struct sockaddr_storage group;
	struct udp_link *l;
	socklen_t glen;
	char port[8];

	l = calloc(1, sizeof(*l));
	if (!l)
		return -1;
	l->cfg = *cfg;
	snprintf(port, sizeof(port), "%u", cfg->port);
	if (vcb_resolve("--udp group", port, cfg->group, &group, &glen)) {
		free(l);
		return -1;
	}
	snprintf(l->name, sizeof(l->name), "udp %s %s%s%s:%u",
		 vcb_format_name(cfg->format), group.ss_family == AF_INET6 ? "[" : "",
		 cfg->group, group.ss_family == AF_INET6 ? "]" : "", cfg->port);
	l->slot = cfg->format == VCB_FORMAT_PYCAN ? PYCAN_DATAGRAM_MAX : cfg->mtu;
	l->out = malloc(UDP_PENDING * l->slot);
	l->in = malloc((size_t)UDP_BATCH * UDP_IN_MAX);
	if (!l->out || !l->in || udp_sockets(l, &group, glen)) {
		free(l->out);
		free(l->in);
		free(l);
		return -1;
	}
	vcb_rate_init(&l->limit, cfg->rate ? cfg->rate : vcb_can_frame_rate());
	l->rx.handle = udp_read;
	if (vcb_loop_add(&l->rx, EPOLLIN))
		return -1;
	l->port = (struct vcb_port){ .name = l->name, .send = udp_send,
				     .flush = udp_flush, .report = udp_report,
				     .close = udp_close };
	vcb_port_register(&l->port);
	vcb_info("%s: joined", l->name);
	return 0;
}
