/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A token bucket: what the network may put on the bus, at most @rate
 * frames a second with bursts of @burst.
 */
#ifndef VCB_RATE_H
#define VCB_RATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct vcb_rate {
	double tokens, rate, burst;
	uint64_t last_ns;
};

static inline uint64_t vcb_rate_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static inline void vcb_rate_init(struct vcb_rate *r, unsigned int rate)
{
	r->rate = rate;
	/* A tenth of a second's frames at once, as a queue of frames does. */
	r->burst = rate / 10 > 64 ? rate / 10 : 64;
	r->tokens = r->burst;
	r->last_ns = vcb_rate_now_ns();
}

/* One frame's token, if there is one. */
static inline bool vcb_rate_take(struct vcb_rate *r)
{
	uint64_t now = vcb_rate_now_ns();

	r->tokens += (now - r->last_ns) * r->rate / 1e9;
	if (r->tokens > r->burst)
		r->tokens = r->burst;
	r->last_ns = now;
	if (r->tokens < 1)
		return false;
	r->tokens -= 1;
	return true;
}

#endif
