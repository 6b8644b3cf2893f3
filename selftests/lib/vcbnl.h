/* SPDX-License-Identifier: GPL-2.0 */
/*
 * can-dev's rtnetlink for the C selftests, with libmnl: what "ip link set
 * NODE type can ..." does, for the settings Debian 12's iproute2 does not
 * know (CAN XL, 6.19 and later), and reading them back as "ip -details
 * link" would show them. Header-only, as vcanbus.h.
 */
#ifndef VCANBUS_SELFTEST_NL_H
#define VCANBUS_SELFTEST_NL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/can/netlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

/*
 * From Linux 6.19's <linux/can/netlink.h>; the host's headers (Debian 12:
 * 6.1) may not have them.
 */
#define VCB_CAN_CTRLMODE_RESTRICTED	0x800
#define VCB_CAN_CTRLMODE_XL		0x1000
#define VCB_CAN_CTRLMODE_XL_TDC_AUTO	0x2000
#define VCB_CAN_CTRLMODE_XL_TDC_MANUAL	0x4000
#define VCB_CAN_CTRLMODE_XL_TMS		0x8000
#define VCB_IFLA_CAN_CTRLMODE_EXT	17
#define VCB_IFLA_CAN_XL_DATA_BITTIMING	18
#define VCB_IFLA_CAN_XL_DATA_BITTIMING_CONST 19
#define VCB_IFLA_CAN_XL_PWM		22
#define VCB_IFLA_CAN_MAX		22
#define VCB_IFLA_CAN_PWM_PWMS_MIN	1	/* then _MAX, PWML, PWMO likewise */
#define VCB_IFLA_CAN_PWM_PWMS		7
#define VCB_IFLA_CAN_PWM_PWML		8
#define VCB_IFLA_CAN_PWM_PWMO		9
#define VCB_IFLA_CAN_PWM_MAX		9

/* A "type can" request: what is 0 (or false) is not sent. */
struct vcb_can_req {
	uint32_t bitrate;		/* IFLA_CAN_BITTIMING */
	uint32_t dbitrate;		/* IFLA_CAN_DATA_BITTIMING */
	uint32_t xbitrate;		/* IFLA_CAN_XL_DATA_BITTIMING */
	uint32_t mode_mask, mode_flags;	/* IFLA_CAN_CTRLMODE */
	bool pwm;			/* IFLA_CAN_XL_PWM with these */
	uint32_t pwms, pwml, pwmo;
};

/* What the kernel says of a CAN interface. */
struct vcb_can_info {
	uint32_t ctrlmode, ctrlmode_supported;
	uint32_t clock;
	struct can_bittiming bt, xbt;
	struct can_bittiming_const xbtc;
	bool has_xbt, has_xbtc, has_pwm;
	uint32_t pwm[VCB_IFLA_CAN_PWM_MAX + 1];	/* by IFLA_CAN_PWM_* */
};

/*
 * Sends @nlh and takes the kernel's answer: the attributes of a
 * RTM_NEWLINK reply go to @cb. Returns 0 or the negative errno of the
 * request; @why gets the kernel's extended ack message, if any.
 */
static inline int vcb_nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
			      char *why, size_t whylen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int seq, portid;
	int one = 1, ret;

	if (why && whylen)
		why[0] = '\0';
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = nlh->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		const struct nlmsghdr *r = (const struct nlmsghdr *)buf;
		int n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0) {
			ret = -errno;
			break;
		}
		/* An error (or ack) may carry the extended ack's message. */
		if (r->nlmsg_type == NLMSG_ERROR && why && whylen &&
		    (r->nlmsg_flags & NLM_F_ACK_TLVS)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(r);
			const struct nlattr *a;
			size_t off = sizeof(*e);

			if (!(r->nlmsg_flags & NLM_F_CAPPED))
				off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(e->msg));
			mnl_attr_for_each(a, r, off)
				if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG)
					snprintf(why, whylen, "%s",
						 mnl_attr_get_str(a));
		}
		ret = mnl_cb_run(buf, n, seq, portid, cb, data);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

/*
 * A request of @type about link @ifname in @buf, acknowledged (an ack also
 * ends the answer to a get); NULL if there is no such link.
 */
static inline struct nlmsghdr *vcb_nl_link_req(char *buf, uint16_t type,
					       const char *ifname)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)if_nametoindex(ifname);
	return ifi->ifi_index ? nlh : NULL;
}

/* ip link set @ifname type can ..., over rtnetlink. */
static inline int vcb_nl_can_set(const char *ifname, const struct vcb_can_req *req,
				 char *why, size_t whylen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = vcb_nl_link_req(buf, RTM_NEWLINK, ifname);
	struct nlattr *linkinfo, *data, *pwm;

	if (!nlh)
		return -ENODEV;
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "can");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (req->bitrate) {
		struct can_bittiming bt = { .bitrate = req->bitrate };

		mnl_attr_put(nlh, IFLA_CAN_BITTIMING, sizeof(bt), &bt);
	}
	if (req->dbitrate) {
		struct can_bittiming bt = { .bitrate = req->dbitrate };

		mnl_attr_put(nlh, IFLA_CAN_DATA_BITTIMING, sizeof(bt), &bt);
	}
	if (req->xbitrate) {
		struct can_bittiming bt = { .bitrate = req->xbitrate };

		mnl_attr_put(nlh, VCB_IFLA_CAN_XL_DATA_BITTIMING, sizeof(bt), &bt);
	}
	if (req->mode_mask) {
		struct can_ctrlmode cm = {
			.mask = req->mode_mask, .flags = req->mode_flags,
		};

		mnl_attr_put(nlh, IFLA_CAN_CTRLMODE, sizeof(cm), &cm);
	}
	if (req->pwm) {
		pwm = mnl_attr_nest_start(nlh, VCB_IFLA_CAN_XL_PWM);
		mnl_attr_put_u32(nlh, VCB_IFLA_CAN_PWM_PWMS, req->pwms);
		mnl_attr_put_u32(nlh, VCB_IFLA_CAN_PWM_PWML, req->pwml);
		mnl_attr_put_u32(nlh, VCB_IFLA_CAN_PWM_PWMO, req->pwmo);
		mnl_attr_nest_end(nlh, pwm);
	}
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return vcb_nl_talk(nlh, NULL, NULL, why, whylen);
}

static inline int vcb_nl_pwm_attr(const struct nlattr *a, void *data)
{
	struct vcb_can_info *info = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type <= VCB_IFLA_CAN_PWM_MAX &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		info->pwm[type] = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static inline int vcb_nl_can_attr(const struct nlattr *a, void *data)
{
	struct vcb_can_info *info = data;
	const void *p = mnl_attr_get_payload(a);
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case IFLA_CAN_CTRLMODE:
		if (len >= sizeof(struct can_ctrlmode))
			info->ctrlmode = ((const struct can_ctrlmode *)p)->flags;
		break;
	case VCB_IFLA_CAN_CTRLMODE_EXT: {
		const struct nlattr *e;

		mnl_attr_for_each_nested(e, a)
			if (mnl_attr_get_type(e) == IFLA_CAN_CTRLMODE_SUPPORTED)
				info->ctrlmode_supported = mnl_attr_get_u32(e);
		break;
	}
	case IFLA_CAN_CLOCK:
		if (len >= sizeof(struct can_clock))
			info->clock = ((const struct can_clock *)p)->freq;
		break;
	case IFLA_CAN_BITTIMING:
		if (len >= sizeof(info->bt))
			memcpy(&info->bt, p, sizeof(info->bt));
		break;
	case VCB_IFLA_CAN_XL_DATA_BITTIMING:
		if (len >= sizeof(info->xbt)) {
			memcpy(&info->xbt, p, sizeof(info->xbt));
			info->has_xbt = true;
		}
		break;
	case VCB_IFLA_CAN_XL_DATA_BITTIMING_CONST:
		if (len >= sizeof(info->xbtc)) {
			memcpy(&info->xbtc, p, sizeof(info->xbtc));
			info->has_xbtc = true;
		}
		break;
	case VCB_IFLA_CAN_XL_PWM:
		info->has_pwm = true;
		mnl_attr_parse_nested(a, vcb_nl_pwm_attr, info);
		break;
	}
	return MNL_CB_OK;
}

static inline int vcb_nl_link_attr(const struct nlattr *a, void *data)
{
	const struct nlattr *i;

	if (mnl_attr_get_type(a) != IFLA_LINKINFO)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(i, a)
		if (mnl_attr_get_type(i) == IFLA_INFO_DATA)
			mnl_attr_parse_nested(i, vcb_nl_can_attr, data);
	return MNL_CB_OK;
}

static inline int vcb_nl_link_msg(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), vcb_nl_link_attr, data);
	return MNL_CB_OK;
}

/* ip -details link show @ifname, the "can" part of it. */
static inline int vcb_nl_can_get(const char *ifname, struct vcb_can_info *info)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = vcb_nl_link_req(buf, RTM_GETLINK, ifname);

	memset(info, 0, sizeof(*info));
	if (!nlh)
		return -ENODEV;
	return vcb_nl_talk(nlh, vcb_nl_link_msg, info, NULL, 0);
}

#endif /* VCANBUS_SELFTEST_NL_H */
