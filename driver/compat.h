/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels vcanbus builds on lives here, named
 * by what the driver needs, never by version at the point of use.
 *
 * Supported: Linux 6.1 (Debian 12) up to 7.3 (Debian 13's backports).
 * Built and tested on 6.1, 6.12 and the newest Debian kernel; the
 * releases between (6.13 ... 7.2) are bridged by the version and feature
 * tests below, each at the release that made the change.
 */
#ifndef _VCANBUS_COMPAT_H
#define _VCANBUS_COMPAT_H

#include <linux/can/dev.h>
#include <linux/can/skb.h>
#include <linux/hrtimer.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/version.h>

/* Is the kernel the module is built for @major.@minor or later? */
#define VCANBUS_KERNEL_AT_LEAST(major, minor)				\
	((major) * 256 + (minor) <=					\
	 LINUX_VERSION_MAJOR * 256 + LINUX_VERSION_PATCHLEVEL)

#if !VCANBUS_KERNEL_AT_LEAST(6, 1)
#error "vcanbus needs Linux 6.1 or later"
#endif
#if VCANBUS_KERNEL_AT_LEAST(7, 4)
#error "vcanbus is not yet known to build on Linux 7.4 or later"
#endif

/*
 * hrtimer_setup() came in 6.13 and hrtimer_init() left in 6.15; from 6.13
 * on, the callback is set only through the former (timer->function is
 * private). Debian's 6.12 has hrtimer_update_function() backported but
 * not hrtimer_setup(): the release, not that helper, tells them apart.
 */
static inline void
vcanbus_hrtimer_setup(struct hrtimer *timer,
		      enum hrtimer_restart (*fn)(struct hrtimer *),
		      clockid_t clock, enum hrtimer_mode mode)
{
#if VCANBUS_KERNEL_AT_LEAST(6, 13)
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * The CAN FD data phase's bit timing: members of struct can_priv up to
 * 6.15, of its struct data_bittiming_params "fd" from 6.16 on.
 */
#if VCANBUS_KERNEL_AT_LEAST(6, 16)
#define vcanbus_fd_params(priv)	(&(priv)->fd)
#else
#define vcanbus_fd_params(priv)	(priv)
#endif

static inline const struct can_bittiming *
vcanbus_data_bittiming(const struct can_priv *priv)
{
	return &vcanbus_fd_params(priv)->data_bittiming;
}

static inline void
vcanbus_setup_data_bittiming(struct can_priv *priv,
			     const struct can_bittiming_const *btc,
			     const struct can_bittiming *preset,
			     int (*set)(struct net_device *dev))
{
	vcanbus_fd_params(priv)->data_bittiming_const = btc;
	vcanbus_fd_params(priv)->data_bittiming = *preset;
	vcanbus_fd_params(priv)->do_set_data_bittiming = set;
}

/*
 * CAN XL controllers (can-dev from 6.19 on): the XL control modes, the XL
 * data phase's bit timing, TDC and PWM in can_priv.xl. Where can-dev has
 * none, the modes are 0: no node can be put into them, and every "is XL
 * on?" in the driver is false at compile time.
 */
#ifdef CAN_CTRLMODE_XL
#define VCANBUS_HAVE_CAN_XL		1
#define VCANBUS_CTRLMODE_XL		CAN_CTRLMODE_XL
#define VCANBUS_CTRLMODE_XL_TMS		CAN_CTRLMODE_XL_TMS
#define VCANBUS_CTRLMODE_RESTRICTED	CAN_CTRLMODE_RESTRICTED
#define VCANBUS_CTRLMODES_XL		(CAN_CTRLMODE_XL |		\
					 CAN_CTRLMODE_XL_TDC_AUTO |	\
					 CAN_CTRLMODE_XL_TDC_MANUAL |	\
					 CAN_CTRLMODE_XL_TMS |		\
					 CAN_CTRLMODE_RESTRICTED)
#else
#define VCANBUS_HAVE_CAN_XL		0
#define VCANBUS_CTRLMODE_XL		0
#define VCANBUS_CTRLMODE_XL_TMS		0
#define VCANBUS_CTRLMODE_RESTRICTED	0
#define VCANBUS_CTRLMODES_XL		0
#endif

/* The VCID in an XL frame's prio (uapi from 6.3 on). */
#ifdef CANXL_VCID_MASK
#define VCANBUS_CANXL_VCID_MASK		CANXL_VCID_MASK
#else
#define VCANBUS_CANXL_VCID_MASK		(0xffUL << 16)
#endif

/* What an XL controller of vcanbus's offers can-dev's netlink. */
struct vcanbus_xl_consts {
	const struct can_bittiming_const *data_bittiming;
	const struct can_tdc_const *tdc;
	const struct can_pwm_const *pwm;
};

static inline void vcanbus_setup_xl(struct can_priv *priv,
				    const struct vcanbus_xl_consts *xl)
{
#if VCANBUS_HAVE_CAN_XL
	priv->xl.data_bittiming_const = xl->data_bittiming;
	priv->xl.tdc_const = xl->tdc;
	priv->xl.pwm_const = xl->pwm;
#endif
}

/* The XL data phase's bit timing; NULL where can-dev has no XL. */
static inline const struct can_bittiming *
vcanbus_xl_bittiming(const struct can_priv *priv)
{
#if VCANBUS_HAVE_CAN_XL
	return &priv->xl.data_bittiming;
#else
	return NULL;
#endif
}

/*
 * ndo_change_mtu: up to 6.18 a candev needs can-dev's can_change_mtu(),
 * or "ip link set … mtu N" takes any N (6.1 checks nothing else). From
 * 6.18 on can-dev keeps min_mtu and max_mtu itself, following the modes,
 * and 6.19 removed can_change_mtu(): the core's range check is all.
 */
#if !VCANBUS_KERNEL_AT_LEAST(6, 19)
#define vcanbus_change_mtu	can_change_mtu
#else
#define vcanbus_change_mtu	NULL
#endif

/*
 * The bus's delivery NAPI lives on a dummy netdev of its own, never
 * registered: alloc_netdev_dummy() from 6.10 on, before that a zeroed
 * net_device that init_dummy_netdev() sets up.
 */
static inline struct net_device *vcanbus_alloc_napi_dev(void)
{
#if VCANBUS_KERNEL_AT_LEAST(6, 10)
	return alloc_netdev_dummy(0);
#else
	struct net_device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);

	if (dev)
		init_dummy_netdev(dev);
	return dev;
#endif
}

/* Its NAPI was deleted (netif_napi_del()) first. */
static inline void vcanbus_free_napi_dev(struct net_device *dev)
{
#if VCANBUS_KERNEL_AT_LEAST(6, 10)
	free_netdev(dev);
#else
	kfree(dev);
#endif
}

/*
 * Threaded NAPI for a device's NAPIs: dev_set_threaded() took a bool up
 * to 6.16, an enum netdev_napi_threaded from 6.17 on (which also has a
 * busy-polling thread, not used here).
 */
static inline int vcanbus_napi_dev_set_threaded(struct net_device *dev,
						bool threaded)
{
#if VCANBUS_KERNEL_AT_LEAST(6, 17)
	return dev_set_threaded(dev, threaded ? NETDEV_NAPI_THREADED_ENABLED :
						NETDEV_NAPI_THREADED_DISABLED);
#else
	return dev_set_threaded(dev, threaded);
#endif
}

/*
 * Where a CAN skb says which interface it first appeared on, and how many
 * can-gw hops it made: up to 6.x in the skb's headroom (struct
 * can_skb_priv, shared between clones) and in skb->csum_start; from 7.0 on
 * in an skb extension (struct can_skb_ext in <net/can.h>), copied on
 * write, which can_rcv() requires on every CAN skb. <linux/can/skb.h>
 * includes <net/can.h> (and so defines its guard) only in the latter.
 */
#ifdef _NET_CAN_H

/* A clone gets an extension of its own: it may name any interface. */
static inline bool vcanbus_skb_may_clone_as(struct sk_buff *skb, int iif)
{
	return true;
}

/**
 * vcanbus_skb_set_origin() - make @skb a frame received from the bus
 * @skb: a clone or a new CAN skb for a receiving node
 * @iif: the interface it first appeared on: the sending node's
 *
 * Its extension is made anew: a fresh can-gw hop count and a new skb UID
 * (can_rcv() assigns one), as a frame through vxcan gets.
 *
 * Return: 0, or -ENOMEM when its extension cannot be had.
 */
static inline int vcanbus_skb_set_origin(struct sk_buff *skb, int iif)
{
	struct can_skb_ext *csx = skb_ext_add(skb, SKB_EXT_CAN);

	if (!csx)
		return -ENOMEM;
	memset(csx, 0, sizeof(*csx));
	csx->can_iif = iif;
	return 0;
}

/* Every clone has an extension of its own: nothing to number. */
static inline void vcanbus_skb_renumber(struct sk_buff *skb, atomic_t *numbers)
{
}

#else /* the headroom */

/* A clone shares its original's headroom: only if that names @iif. */
static inline bool vcanbus_skb_may_clone_as(struct sk_buff *skb, int iif)
{
	return can_skb_prv(skb)->ifindex == iif;
}

static inline int vcanbus_skb_set_origin(struct sk_buff *skb, int iif)
{
	if (!skb_cloned(skb))
		can_skb_prv(skb)->ifindex = iif;
	skb->csum_start = 0;	/* can-gw's hop count */
	return 0;
}

/*
 * can_receive() numbers a frame in its headroom (skbcnt, with the skb's
 * address raw's "same frame again" test) unless it has a number. The
 * clones of one frame share that headroom, and their receivers' NAPI
 * polls run on several CPUs at once: number it before it is cloned. And
 * always anew: a frame can-gw copied from one it received carries that
 * one's number, and a receiver's clone of it, made where the freed clone
 * of the first was, would be taken for the same frame again and dropped.
 * The top bit keeps these numbers apart from af_can's own, which count up.
 * @skb's headroom must be its own.
 */
static inline void vcanbus_skb_renumber(struct sk_buff *skb, atomic_t *numbers)
{
	can_skb_prv(skb)->skbcnt = atomic_inc_return(numbers) | BIT(31);
}

#endif

#endif /* _VCANBUS_COMPAT_H */
