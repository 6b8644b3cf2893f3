// SPDX-License-Identifier: GPL-2.0
/*
 * TCP transport, cannelloni's protocol version 1: each side sends the
 * greeting "CANNELLONIv1", then frames one after another.
 *
 * As a hub (--tcp-listen) it takes any number of peers and sends every
 * frame from one peer to all the others and to the local bus, and every
 * frame of the local bus to all peers: one process, one order, the same
 * for everybody. It takes peers only from the networks of --allow (on a
 * loopback address, without --allow, from anyone who can reach it). As
 * a client (--tcp-connect) it keeps one connection up, reconnecting with
 * a backoff from 100 ms to 5 s.
 *
 * A peer gets frames only once its greeting came: a peer that never
 * greets, or a server that closes instead, is sent nothing but ours; one
 * that has not greeted within --tcp-greeting-timeout is dropped. A hub
 * takes at most --tcp-peers peers and --tcp-per-source of them from one
 * address, so silent connections from one host cannot keep the others
 * out. TCP keepalive finds a peer (or hub) that went away silently.
 *
 * Each peer has a bounded output buffer: a peer that cannot keep up and
 * fills it is dropped (and counted), the others go on. Garbage from a peer
 * (a wrong greeting, a frame no controller sends) drops that peer. While
 * the queue to the local bus is congested, peers are not read: TCP holds
 * their senders back, nothing is lost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "cannelloni.h"
#include "log.h"

#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define TCP_READ_CHUNK		16384
#define RECONNECT_MIN_MS	100
#define RECONNECT_MAX_MS	5000
#define SWEEP_MS		250	/* greeting timeouts checked this often */
/* Keepalive: a silent dead peer is found after 10 + 3 * 5 s. */
#define KEEPALIVE_IDLE_S	10
#define KEEPALIVE_INTVL_S	5
#define KEEPALIVE_COUNT		3

struct tcp_port;

struct tcp_peer {
	struct vcb_source src;
	struct tcp_port *owner;
	struct cnl_stream in;
	uint8_t *out;
	size_t head, len;		/* bytes waiting in out */
	bool paused, dead, connecting;
	struct sockaddr_storage addr;
	uint64_t since_ms;		/* connected, CLOCK_MONOTONIC */
	char name[80];
	uint64_t rx_frames, tx_frames;
	struct tcp_peer *next;
};

struct tcp_port {
	struct vcb_port port;
	struct vcb_tcp_config cfg;
	bool server;
	char name[96];
	struct vcb_source listen;	/* hub */
	struct vcb_source timer;	/* client: reconnect; hub: accept again */
	struct vcb_source sweep;	/* greeting timeouts */
	struct sockaddr_storage remote;	/* client */
	socklen_t remote_len;
	unsigned int backoff_ms;
	struct tcp_peer *peers;		/* client: at most one */
	unsigned int npeers;
	struct {
		uint64_t accepted, refused_full, refused_source, refused_per_source;
		uint64_t closed, slow, greeting_timeouts;
		uint64_t connects, failures, not_greeted;
		uint64_t rx_frames, tx_frames, not_connected, not_carried;
		struct vcb_bad_counts bad;
	} st;
};

static struct tcp_port *tcp_ports[2];

static uint32_t peer_events(const struct tcp_peer *p)
{
	if (p->connecting)
		return EPOLLOUT;
	return EPOLLIN | (p->len ? EPOLLOUT : 0);
}

static void client_schedule(struct tcp_port *t);

/* Ends @p now; the memory goes after this batch of events (tcp_flush). */
static void peer_drop(struct tcp_peer *p, const char *why)
{
	struct tcp_port *t = p->owner;

	if (p->dead)
		return;
	vcb_info_limited("%s: %s: %s", t->name, p->name, why);
	p->dead = true;
	if (!p->paused)
		vcb_loop_del(&p->src);
	close(p->src.fd);
	if (!t->server)
		client_schedule(t);
}

/* Appends @n bytes for @p; false when its buffer is full. */
static bool peer_queue(struct tcp_peer *p, const void *data, size_t n)
{
	size_t cap = p->owner->cfg.out_limit;

	if (p->head + p->len + n > cap && p->head) {
		memmove(p->out, p->out + p->head, p->len);
		p->head = 0;
	}
	if (p->len + n > cap)
		return false;
	memcpy(p->out + p->head + p->len, data, n);
	p->len += n;
	return true;
}

/* One encoded frame for @p. */
static void peer_frame(struct tcp_peer *p, const uint8_t *buf, size_t n)
{
	if (!peer_queue(p, buf, n)) {
		p->owner->st.slow++;
		peer_drop(p, "too slow: its output buffer is full, dropped");
		return;
	}
	p->tx_frames++;
	p->owner->st.tx_frames++;
}

static void peer_write(struct tcp_peer *p)
{
	ssize_t n;

	while (p->len) {
		n = write(p->src.fd, p->out + p->head, p->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				peer_drop(p, strerror(errno));
			break;
		}
		p->head += n;
		p->len -= n;
	}
	if (!p->len)
		p->head = 0;
	if (!p->dead && !p->paused)
		vcb_loop_mod(&p->src, peer_events(p));
}

static void peer_emit(void *ctx, const struct vcb_frame *f)
{
	struct tcp_peer *p = ctx;

	p->rx_frames++;
	p->owner->st.rx_frames++;
	vcb_deliver(f, p);
}

static void peer_read(struct tcp_peer *p)
{
	uint8_t buf[TCP_READ_CHUNK];
	enum vcb_bad why;
	bool was_greeted;
	ssize_t n;

	if (vcb_can_congested()) {
		/*
		 * Out of the epoll set until vcb_tcp_resume(): a hang-up
		 * would be reported anyway and spin. Its output still goes
		 * out, at each flush.
		 */
		p->paused = true;
		vcb_loop_del(&p->src);
		return;
	}
	/*
	 * No more bytes than the queue to the bus has frames of room (a
	 * frame takes 5 bytes at least): nothing from TCP is ever dropped.
	 */
	n = read(p->src.fd, buf, MIN(sizeof(buf), vcb_can_room() * 5));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		p->owner->st.closed++;
		peer_drop(p, n ? strerror(errno) : "closed the connection");
		return;
	}
	was_greeted = p->in.greeted;
	why = cnl_stream_feed(&p->in, buf, n, peer_emit, p);
	if (why) {
		p->owner->st.bad.n[why]++;
		peer_drop(p, why == VCB_BAD_VERSION && !was_greeted ?
			  "no cannelloni v1 greeting, dropped" :
			  "sent a malformed frame, dropped");
		return;
	}
	if (!was_greeted && p->in.greeted && !p->owner->server)
		p->owner->backoff_ms = RECONNECT_MIN_MS;
}

static void peer_connected(struct tcp_peer *p)
{
	struct tcp_port *t = p->owner;
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(p->src.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		t->st.failures++;
		vcb_debug("%s: connect: %s", t->name, strerror(err));
		p->dead = true;
		vcb_loop_del(&p->src);
		close(p->src.fd);
		client_schedule(t);
		return;
	}
	p->connecting = false;
	p->since_ms = vcb_now_ms();
	t->st.connects++;
	vcb_info("%s: connected", t->name);
	peer_queue(p, CNL_GREETING, CNL_GREETING_LEN);
	peer_write(p);
}

static void peer_handle(struct vcb_source *src, uint32_t events)
{
	struct tcp_peer *p = (struct tcp_peer *)src;

	if (p->dead)
		return;
	if (p->connecting) {
		peer_connected(p);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		peer_read(p);
	if (!p->dead && (events & EPOLLOUT))
		peer_write(p);
}

static struct tcp_peer *peer_new(struct tcp_port *t, int fd, const char *name)
{
	static const int keepalive[][2] = {
		{ TCP_KEEPIDLE, KEEPALIVE_IDLE_S },
		{ TCP_KEEPINTVL, KEEPALIVE_INTVL_S },
		{ TCP_KEEPCNT, KEEPALIVE_COUNT },
	};
	struct tcp_peer *p = calloc(1, sizeof(*p));
	int one = 1;

	if (p)
		p->out = malloc(t->cfg.out_limit);
	if (!p || !p->out) {
		free(p);
		close(fd);
		return NULL;
	}
	p->src.fd = fd;
	p->src.handle = peer_handle;
	p->owner = t;
	snprintf(p->name, sizeof(p->name), "%s", name);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	for (size_t i = 0; i < sizeof(keepalive) / sizeof(keepalive[0]); i++)
		setsockopt(fd, IPPROTO_TCP, keepalive[i][0], &keepalive[i][1],
			   sizeof(keepalive[i][1]));
	p->since_ms = vcb_now_ms();
	p->next = t->peers;
	t->peers = p;
	t->npeers++;
	return p;
}

/* A hub's live peers from the address of @ss. */
static unsigned int peers_from(const struct tcp_port *t,
			       const struct sockaddr_storage *ss)
{
	unsigned int n = 0;

	for (const struct tcp_peer *p = t->peers; p; p = p->next)
		n += !p->dead && vcb_same_host((const void *)&p->addr, (const void *)ss);
	return n;
}

/* Drops the peers (or the server) that have not greeted in time. */
static void port_sweep(struct vcb_source *src, uint32_t events)
{
	struct tcp_port *t = container_of(src, struct tcp_port, sweep);
	uint64_t expirations, now = vcb_now_ms();
	char why[64];

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	snprintf(why, sizeof(why), "no greeting within %u ms, dropped",
		 t->cfg.greeting_ms);
	for (struct tcp_peer *p = t->peers; p; p = p->next) {
		if (p->dead || p->connecting || p->in.greeted ||
		    now - p->since_ms < t->cfg.greeting_ms)
			continue;
		t->st.greeting_timeouts++;
		peer_drop(p, why);
	}
}

static void hub_accept(struct vcb_source *src, uint32_t events)
{
	struct tcp_port *t = container_of(src, struct tcp_port, listen);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct tcp_peer *p;
	char name[64];
	int fd;

	(void)events;
	fd = accept4(src->fd, (void *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/*
		 * Out of file descriptors or memory: the connection stays
		 * in the backlog and the socket stays readable. Stop
		 * listening for a second rather than spin on it.
		 */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			vcb_err("%s: accept: %m; trying again in a second", t->name);
			vcb_loop_mod(src, 0);
			vcb_timer_arm(t->timer.fd, 1000);
		}
		return;
	}
	vcb_addr_str((void *)&ss, name, sizeof(name));
	if (t->cfg.allow.n && !vcb_allow_match(&t->cfg.allow, (void *)&ss)) {
		t->st.refused_source++;
		vcb_info_limited("%s: %s refused: not in --allow", t->name, name);
		close(fd);
		return;
	}
	if (peers_from(t, &ss) >= t->cfg.per_source) {
		t->st.refused_per_source++;
		vcb_info_limited("%s: %s refused: %u peers from that address already",
				 t->name, name, t->cfg.per_source);
		close(fd);
		return;
	}
	if (t->npeers >= t->cfg.max_peers) {
		t->st.refused_full++;
		vcb_info_limited("%s: %s refused: %u peers already", t->name, name,
				 t->cfg.max_peers);
		close(fd);
		return;
	}
	p = peer_new(t, fd, name);
	if (!p)
		return;
	p->addr = ss;
	t->st.accepted++;
	vcb_info_limited("%s: %s joined", t->name, name);
	peer_queue(p, CNL_GREETING, CNL_GREETING_LEN);
	if (vcb_loop_add(&p->src, peer_events(p)))
		peer_drop(p, "epoll");
}

static void client_connect(struct tcp_port *t)
{
	struct tcp_peer *p;
	int fd;

	fd = socket(t->remote.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		client_schedule(t);
		return;
	}
	p = peer_new(t, fd, t->cfg.connect);
	if (!p) {
		client_schedule(t);
		return;
	}
	p->connecting = true;
	if (connect(fd, (void *)&t->remote, t->remote_len) && errno != EINPROGRESS) {
		t->st.failures++;
		p->dead = true;
		close(fd);
		client_schedule(t);
		return;
	}
	if (vcb_loop_add(&p->src, EPOLLOUT))
		peer_drop(p, "epoll");
}

static void client_schedule(struct tcp_port *t)
{
	vcb_timer_backoff(t->timer.fd, &t->backoff_ms, RECONNECT_MAX_MS);
}

static void port_timer(struct vcb_source *src, uint32_t events)
{
	struct tcp_port *t = container_of(src, struct tcp_port, timer);
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (t->server)
		vcb_loop_mod(&t->listen, EPOLLIN);
	else
		client_connect(t);
}

static void tcp_send(struct vcb_port *port, const struct vcb_frame *f,
		     const void *origin)
{
	struct tcp_port *t = (struct tcp_port *)port;
	uint8_t buf[CNL_FRAME_MAX];
	bool sent = false;
	size_t n;

	if (vcb_frame_has_len8_dlc(f)) {
		t->st.not_carried++;
		return;
	}
	/* Encoded once, for every peer of the hub alike. */
	n = cnl_frame_encode(f, buf);
	for (struct tcp_peer *p = t->peers; p; p = p->next) {
		if (p == origin || p->dead || p->connecting)
			continue;
		if (!p->in.greeted) {
			/* A client's one peer: counted as not connected. */
			if (t->server)
				t->st.not_greeted++;
			continue;
		}
		peer_frame(p, buf, n);
		sent = true;
	}
	if (!sent && !t->server)
		t->st.not_connected++;
}

static void tcp_flush(struct vcb_port *port)
{
	struct tcp_port *t = (struct tcp_port *)port;
	struct tcp_peer **pp = &t->peers, *p;

	while ((p = *pp)) {
		if (p->dead) {
			*pp = p->next;
			t->npeers--;
			vcb_can_forget(p);
			free(p->out);
			free(p);
			continue;
		}
		if (p->len && !p->connecting)
			peer_write(p);
		pp = &p->next;
	}
}

void vcb_tcp_resume(void)
{
	for (int i = 0; i < 2; i++) {
		if (!tcp_ports[i])
			continue;
		for (struct tcp_peer *p = tcp_ports[i]->peers; p; p = p->next) {
			if (!p->paused || p->dead)
				continue;
			p->paused = false;
			if (vcb_loop_add(&p->src, peer_events(p)))
				peer_drop(p, "epoll");
		}
	}
}

static void tcp_report(struct vcb_port *port, FILE *out)
{
	struct tcp_port *t = (struct tcp_port *)port;
	const char *n = t->name;

	if (t->server) {
		vcb_stat(out, n, "peers", t->npeers);
		vcb_stat(out, n, "peers_accepted", t->st.accepted);
		vcb_stat(out, n, "peers_refused_full", t->st.refused_full);
		vcb_stat(out, n, "peers_refused_source", t->st.refused_source);
		vcb_stat(out, n, "peers_refused_per_source", t->st.refused_per_source);
		vcb_stat(out, n, "tx_not_greeted", t->st.not_greeted);
	} else {
		vcb_stat(out, n, "connects", t->st.connects);
		vcb_stat(out, n, "connect_failures", t->st.failures);
		vcb_stat(out, n, "tx_not_connected", t->st.not_connected);
	}
	vcb_stat(out, n, "peers_closed", t->st.closed);
	vcb_stat(out, n, "peers_dropped_slow", t->st.slow);
	vcb_stat(out, n, "peers_greeting_timeouts", t->st.greeting_timeouts);
	vcb_stat_bad(out, n, &t->st.bad);
	vcb_stat(out, n, "rx_frames", t->st.rx_frames);
	vcb_stat(out, n, "tx_frames", t->st.tx_frames);
	vcb_stat(out, n, "tx_not_carried", t->st.not_carried);
	for (struct tcp_peer *p = t->peers; p; p = p->next) {
		char peer[200];

		if (p->dead || p->connecting)
			continue;
		snprintf(peer, sizeof(peer), "%s peer %s", n, p->name);
		vcb_stat(out, peer, "rx_frames", p->rx_frames);
		vcb_stat(out, peer, "tx_frames", p->tx_frames);
	}
}

static void tcp_close(struct vcb_port *port)
{
	struct tcp_port *t = (struct tcp_port *)port;
	struct tcp_peer *p, *next;

	for (p = t->peers; p; p = next) {
		next = p->next;
		if (!p->dead)
			close(p->src.fd);
		free(p->out);
		free(p);
	}
	if (t->server)
		close(t->listen.fd);
	close(t->timer.fd);
	close(t->sweep.fd);
	for (int i = 0; i < 2; i++)
		if (tcp_ports[i] == t)
			tcp_ports[i] = NULL;
	free(t);
}

static struct tcp_port *tcp_port_new(const struct vcb_tcp_config *cfg, bool server)
{
	struct tcp_port *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->server = server;
	t->listen.fd = t->timer.fd = t->sweep.fd = -1;
	t->backoff_ms = RECONNECT_MIN_MS;
	t->port = (struct vcb_port){ .name = t->name, .send = tcp_send,
				     .flush = tcp_flush, .report = tcp_report,
				     .close = tcp_close };
	return t;
}

/* The reconnect/accept timer and the greeting sweep, in the loop. */
static int port_timers(struct tcp_port *t)
{
	struct itimerspec sweep = {
		.it_interval.tv_nsec = SWEEP_MS * 1000000L,
		.it_value.tv_nsec = SWEEP_MS * 1000000L,
	};

	t->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->timer.handle = port_timer;
	t->sweep.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->sweep.handle = port_sweep;
	if (t->timer.fd < 0 || t->sweep.fd < 0 ||
	    timerfd_settime(t->sweep.fd, 0, &sweep, NULL) ||
	    vcb_loop_add(&t->timer, EPOLLIN) || vcb_loop_add(&t->sweep, EPOLLIN))
		return -1;
	return 0;
}

/* After a failed open: what was made goes (closed fds leave epoll). */
static void port_unmake(struct tcp_port *t)
{
	vcb_err("%s: %m", t->name);
	if (t->listen.fd >= 0)
		close(t->listen.fd);
	if (t->timer.fd >= 0)
		close(t->timer.fd);
	if (t->sweep.fd >= 0)
		close(t->sweep.fd);
	free(t);
}

static int hub_open(const struct vcb_tcp_config *cfg)
{
	const struct sockaddr_storage *ss = &cfg->listen_addr;
	struct tcp_port *t;
	int one = 1;

	t = tcp_port_new(cfg, true);
	if (!t)
		return -1;
	snprintf(t->name, sizeof(t->name), "tcp hub %s", cfg->listen);
	t->listen.fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	t->listen.handle = hub_accept;
	if (t->listen.fd < 0 || port_timers(t) ||
	    setsockopt(t->listen.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(t->listen.fd, (const void *)ss, cfg->listen_len) ||
	    listen(t->listen.fd, 16) ||
	    vcb_loop_add(&t->listen, EPOLLIN)) {
		port_unmake(t);
		return -1;
	}
	tcp_ports[0] = t;
	vcb_port_register(&t->port);
	vcb_info("%s: listening", t->name);
	return 0;
}

static int client_open(const struct vcb_tcp_config *cfg)
{
	struct tcp_port *t = tcp_port_new(cfg, false);

	if (!t)
		return -1;
	snprintf(t->name, sizeof(t->name), "tcp client %s", cfg->connect);
	if (vcb_resolve("--tcp-connect", cfg->connect, NULL, &t->remote,
			&t->remote_len)) {
		free(t);
		return -1;
	}
	if (port_timers(t)) {
		port_unmake(t);
		return -1;
	}
	tcp_ports[1] = t;
	vcb_port_register(&t->port);
	client_connect(t);
	return 0;
}

int vcb_tcp_open(const struct vcb_tcp_config *cfg)
{
	if (cfg->listen && hub_open(cfg))
		return -1;
	if (cfg->connect && client_open(cfg))
		return -1;
	return 0;
}
