/* SPDX-License-Identifier: MIT */
/* lab/ctlproto: control messages (see the DOC block in ctlproto.h). Pure: no I/O. */
#include "lab/ctlproto.h"

#include <errno.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "shared/macro.h"

static const char *const op_names[] = {
	[CTL_OP_HELLO] = "hello",
	[CTL_OP_STATUS] = "status",
	[CTL_OP_TABLE] = "table",
	[CTL_OP_EXEC] = "exec",
	[CTL_OP_EXEC_SPAWNED] = "exec-spawned",
	[CTL_OP_EXEC_EXITED] = "exec-exited",
	[CTL_OP_DOWN] = "down",
	[CTL_OP_LINK] = "link",
	[CTL_OP_REGION] = "region",
	[CTL_OP_NAT_SET] = "nat",
	[CTL_OP_NAT_FLUSH] = "flush-nat",
	[CTL_OP_FW_SET] = "firewall",
	[CTL_OP_DEFAULT_VIA] = "default-via",
	[CTL_OP_REPLUG] = "replug",
	[CTL_OP_CONNTRACK] = "conntrack",
	[CTL_OP_RENEW_IP] = "renew-ip",
	[CTL_OP_DNS_SET] = "dns-set",
	[CTL_OP_ADD_IFACE] = "add-iface",
	[CTL_OP_REMOVE_IFACE] = "remove-iface",
	[CTL_OP_NAT6_SET] = "nat6-set",
	[CTL_OP_ADD_NODE] = "add-node",
	[CTL_OP_REMOVE_NODE] = "remove-node",
};

/* Each attribute's kind: what ctl_msg_parse() checks it against. */
static const enum mnl_attr_data_type attr_kinds[CTL_A_MAX + 1] = {
	[CTL_A_VERSION] = MNL_TYPE_U32,	      [CTL_A_MESSAGE] = MNL_TYPE_NUL_STRING,
	[CTL_A_LAB] = MNL_TYPE_NUL_STRING,    [CTL_A_PID] = MNL_TYPE_U32,
	[CTL_A_ROOTLESS] = MNL_TYPE_U32,      [CTL_A_NODES] = MNL_TYPE_U32,
	[CTL_A_BUILT_AT] = MNL_TYPE_U64,      [CTL_A_OUTDIR] = MNL_TYPE_NUL_STRING,
	[CTL_A_NODE] = MNL_TYPE_NUL_STRING,   [CTL_A_CMDLINE] = MNL_TYPE_NUL_STRING,
	[CTL_A_STATUS] = MNL_TYPE_U32,	      [CTL_A_DETACHED] = MNL_TYPE_U32,
	[CTL_A_IFACE] = MNL_TYPE_NUL_STRING,  [CTL_A_LINK_CMD] = MNL_TYPE_U32,
	[CTL_A_WORDS] = MNL_TYPE_NUL_STRING,  [CTL_A_TEXT] = MNL_TYPE_NUL_STRING,
	[CTL_A_JSON] = MNL_TYPE_NUL_STRING,   [CTL_A_MODE] = MNL_TYPE_NUL_STRING,
	[CTL_A_ROUTER] = MNL_TYPE_NUL_STRING, [CTL_A_TARGET] = MNL_TYPE_NUL_STRING,
};

const char *ctl_op_name(unsigned op)
{
	return op < ARRAY_SIZE(op_names) && op_names[op] ? op_names[op] : "unknown";
}

struct nlmsghdr *ctl_msg_start(void *buf, enum ctl_op op, bool reply, uint32_t seq, int error)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ctl_hdr *h;

	nlh->nlmsg_type = (uint16_t)op;
	nlh->nlmsg_flags = reply ? CTL_F_REPLY : 0;
	nlh->nlmsg_seq = seq;
	h = mnl_nlmsg_put_extra_header(nlh, sizeof(*h));
	h->magic = CTL_MAGIC;
	h->version = CTL_VERSION;
	h->error = error;
	return nlh;
}

bool ctl_put_str(struct nlmsghdr *nlh, enum ctl_attr type, const char *s)
{
	return strlen(s) < CTL_STR_MAX && mnl_attr_put_strz_check(nlh, CTL_MSG_MAX, type, s);
}

bool ctl_put_u32(struct nlmsghdr *nlh, enum ctl_attr type, uint32_t v)
{
	return mnl_attr_put_u32_check(nlh, CTL_MSG_MAX, type, v);
}

bool ctl_put_u64(struct nlmsghdr *nlh, enum ctl_attr type, uint64_t v)
{
	return mnl_attr_put_u64_check(nlh, CTL_MSG_MAX, type, v);
}

/* mnl_attr_validate() checks a NUL string's last byte but not its length bound. */
static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == CTL_A_UNSPEC || type > CTL_A_MAX)
		return MNL_CB_OK; /* a later version's: skipped */
	if (mnl_attr_validate(a, attr_kinds[type]) < 0)
		return MNL_CB_ERROR;
	if (attr_kinds[type] == MNL_TYPE_NUL_STRING &&
	    (mnl_attr_get_payload_len(a) > CTL_STR_MAX ||
	     strlen(mnl_attr_get_str(a)) + 1 != mnl_attr_get_payload_len(a)))
		return MNL_CB_ERROR; /* no NUL but the last: what is read is what was sent */
	tb[type] = a;
	return MNL_CB_OK;
}

static int check_header(const struct nlmsghdr *nlh, size_t len, nslab_error *err)
{
	const struct ctl_hdr *h;

	/* aligned, as every sender lays it out: libmnl reads attributes up to the aligned end */
	if (len < NLMSG_HDRLEN + sizeof(*h) || len > CTL_MSG_MAX || nlh->nlmsg_len != len ||
	    MNL_ALIGN(len) != len)
		return nslab_err_setx(err, EPROTO, "control message of %zu bytes: malformed", len);
	h = mnl_nlmsg_get_payload(nlh);
	if (h->magic != CTL_MAGIC)
		return nslab_err_setx(err, EPROTO, "control message without nslab's magic");
	if (h->version != CTL_VERSION)
		return nslab_err_setx(err, EPROTONOSUPPORT,
				      "control protocol version %u (this nslab speaks %u)",
				      (unsigned)h->version, CTL_VERSION);
	if (nlh->nlmsg_type < CTL_OP_HELLO || nlh->nlmsg_type >= CTL_OP_MAX_ ||
	    (nlh->nlmsg_flags & ~CTL_F_REPLY))
		return nslab_err_setx(err, EPROTO, "control message: unknown operation %u",
				      (unsigned)nlh->nlmsg_type);
	if (h->error < 0 || h->error > 4095)
		return nslab_err_setx(err, EPROTO, "control message: error %d out of range",
				      (int)h->error);
	return 0;
}

/* Whether the attributes fill the message exactly: libmnl stops quietly at a cut one. */
static bool attrs_fill(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	size_t end = NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ctl_hdr));

	mnl_attr_for_each (a, nlh, sizeof(struct ctl_hdr))
		end = (size_t)((const char *)a - (const char *)nlh) + MNL_ALIGN(a->nla_len);
	return MNL_ALIGN(end) >= MNL_ALIGN(nlh->nlmsg_len);
}

int ctl_msg_parse(const void *buf, size_t len, struct ctl_msg *ret, nslab_error *err)
{
	const struct nlmsghdr *nlh = buf;
	struct ctl_msg m = { 0 };
	int r = check_header(nlh, len, err);

	if (r < 0)
		return r;
	if (mnl_attr_parse(nlh, sizeof(struct ctl_hdr), attr_cb, m.tb) != MNL_CB_OK ||
	    !attrs_fill(nlh))
		return nslab_err_setx(err, EPROTO, "control message '%s': malformed attribute",
				      ctl_op_name(nlh->nlmsg_type));
	m.op = nlh->nlmsg_type;
	m.reply = nlh->nlmsg_flags & CTL_F_REPLY;
	m.seq = nlh->nlmsg_seq;
	m.version = ((const struct ctl_hdr *)mnl_nlmsg_get_payload(nlh))->version;
	m.error = ((const struct ctl_hdr *)mnl_nlmsg_get_payload(nlh))->error;
	*ret = m;
	return 0;
}

const char *ctl_get_str(const struct ctl_msg *m, enum ctl_attr type)
{
	return m->tb[type] ? mnl_attr_get_str(m->tb[type]) : NULL;
}

uint32_t ctl_get_u32(const struct ctl_msg *m, enum ctl_attr type, uint32_t def)
{
	return m->tb[type] ? mnl_attr_get_u32(m->tb[type]) : def;
}

uint64_t ctl_get_u64(const struct ctl_msg *m, enum ctl_attr type, uint64_t def)
{
	return m->tb[type] ? mnl_attr_get_u64(m->tb[type]) : def;
}
