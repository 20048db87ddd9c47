/* SPDX-License-Identifier: MIT */
/*
 * lab/ctlproto: the control protocol's messages, built and parsed without I/O.
 *
 * DOC: wire format (version 1; docs/control-socket.md has the whole protocol)
 * One message per SOCK_SEQPACKET datagram, laid out as a netlink message so
 * that libmnl builds and validates it:
 *   struct nlmsghdr   nlmsg_len, nlmsg_type = operation (CTL_OP_*),
 *                     nlmsg_flags = CTL_F_REPLY on replies, nlmsg_seq echoed
 *   struct ctl_hdr    magic "NSLB", protocol version, error (replies: 0 or errno)
 *   attributes        CTL_A_*, each type with a fixed kind (string, u32, u64)
 * fds travel beside it as SCM_RIGHTS; each operation says how many and which.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "nslab/error.h"

#define CTL_MAGIC	0x4e534c42u /* "NSLB", host order (both ends share a host) */
#define CTL_VERSION	1	    /* the one version spoken; HELLO settles it */
#define CTL_MSG_MAX	8192	    /* a message, a command line of up to ~7 KiB included */
#define CTL_F_REPLY	0x100	    /* nlmsg_flags of a reply */
#define CTL_STR_MAX	4096	    /* longest string attribute, NUL included */
#define CTL_CMDLINE_MAX 4096

/* Operations: a request's nlmsg_type, echoed by its reply. */
enum ctl_op {
	CTL_OP_HELLO = 16,   /* first on every connection: version, then who the lab is */
	CTL_OP_STATUS,	     /* -> memfd with the state as JSON */
	CTL_OP_TABLE,	     /* -> memfd with the human table */
	CTL_OP_EXEC,	     /* NODE, CMDLINE -> memfd(env), mntns, netns, pidns [, userns] */
	CTL_OP_EXEC_SPAWNED, /* notification, with the command's pidfd */
	CTL_OP_EXEC_EXITED,  /* notification: STATUS */
	CTL_OP_DOWN,	     /* -> reply; the connection closes once the lab is gone */
	CTL_OP_LINK,	     /* NODE, IFACE, LINK_CMD [, WORDS] -> TEXT, JSON: a link's condition */
	CTL_OP_NAT_SET,	     /* NODE (a router), MODE (a NAT preset) -> reply */
	CTL_OP_NAT_FLUSH,    /* NODE (a router) -> reply */
	CTL_OP_REGION,	     /* NODE, IFACE (regions a, b), LINK_CMD [, WORDS] -> TEXT, JSON */
	CTL_OP_FW_SET,	     /* NODE (a router), MODE (a firewall preset or release) -> reply */
	CTL_OP_DEFAULT_VIA,  /* NODE (a device), IFACE -> reply */
	CTL_OP_REPLUG,	     /* NODE (a device), IFACE, ROUTER -> reply */
	CTL_OP_CONNTRACK,    /* NODE -> memfd with its conntrack table as JSON */
	CTL_OP_RENEW_IP,     /* NODE (a device), IFACE -> reply */
	CTL_OP_DNS_SET, /* NODE (a host name) [, TARGET (a node or address; none: remove)] -> reply */
	CTL_OP_ADD_IFACE,    /* NODE (a device), IFACE, ROUTER -> reply */
	CTL_OP_REMOVE_IFACE, /* NODE (a device), IFACE -> reply */
	CTL_OP_NAT6_SET,     /* NODE (a router), MODE (none, nptv6, masquerade) -> reply */
	CTL_OP_ADD_NODE,    /* NODE (its name), MODE (router, device) [, WORDS (key, value, ...)] */
	CTL_OP_REMOVE_NODE, /* NODE [, MODE "force": what is behind a router too] -> reply */
	CTL_OP_MAX_
};

enum ctl_attr {
	CTL_A_UNSPEC,
	CTL_A_VERSION,	/* u32: HELLO, the highest version the client speaks; reply, the one used */
	CTL_A_MESSAGE,	/* string: an error's text */
	CTL_A_LAB,	/* string: the lab's name */
	CTL_A_PID,	/* u32: the supervisor's pid (in its own PID namespace) */
	CTL_A_ROOTLESS, /* u32: 1 if the lab runs in a user namespace of its own */
	CTL_A_NODES,	/* u32: routers and devices */
	CTL_A_BUILT_AT, /* u64: when the lab was built, ms since the epoch */
	CTL_A_OUTDIR,	/* string: the output directory, if any */
	CTL_A_NODE,	/* string: a node's name ("ix": the lab root) */
	CTL_A_CMDLINE,	/* string: the command line, for the event log */
	CTL_A_STATUS,	/* u32: a waitpid() status */
	CTL_A_DETACHED, /* u32: EXEC: 1 if the command outlives the client */
	CTL_A_IFACE,	/* string: an interface of NODE */
	CTL_A_LINK_CMD, /* u32: LINK: CTL_LINK_* (set, clear, show, down, up) */
	CTL_A_WORDS,	/* string: LINK set: the condition's words, one a line */
	CTL_A_TEXT,	/* string: LINK reply: the condition and counters, for people */
	CTL_A_JSON,	/* string: LINK reply: the same as a JSON object */
	CTL_A_MODE,	/* string: NAT_SET: the NAT preset; FW_SET: the firewall's */
	CTL_A_ROUTER,	/* string: REPLUG: the router the interface goes to */
	CTL_A_TARGET,	/* string: DNS_SET: the name's target */
	CTL_A_MAX_
};
#define CTL_A_MAX (CTL_A_MAX_ - 1)

/* REGION: DOWN breaks the region link, UP restores it. */
enum ctl_link_cmd { CTL_LINK_SET = 0, CTL_LINK_CLEAR, CTL_LINK_SHOW, CTL_LINK_DOWN, CTL_LINK_UP };

struct ctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t pad;
	int32_t error;
};

/* A parsed message: pointers into the buffer it was parsed from. */
struct ctl_msg {
	uint16_t op;
	bool reply;
	uint32_t seq;
	uint16_t version;
	int error; /* replies: 0, or a positive errno */
	const struct nlattr *tb[CTL_A_MAX + 1];
};

/**
 * ctl_msg_start() - Lay out a message's headers at the start of buf
 * @buf:    at least CTL_MSG_MAX bytes, 4-byte aligned
 * @op:     operation
 * @reply:  true for a reply (CTL_F_REPLY)
 * @seq:    sequence number (a reply echoes its request's)
 * @error:  replies: 0 or a positive errno
 * Return: the message, ready for ctl_put_*()
 */
struct nlmsghdr *ctl_msg_start(void *buf, enum ctl_op op, bool reply, uint32_t seq, int error);
/* Append an attribute; false if it does not fit in CTL_MSG_MAX (or the string is too long). */
bool ctl_put_str(struct nlmsghdr *nlh, enum ctl_attr type, const char *s);
bool ctl_put_u32(struct nlmsghdr *nlh, enum ctl_attr type, uint32_t v);
bool ctl_put_u64(struct nlmsghdr *nlh, enum ctl_attr type, uint64_t v);

/**
 * ctl_msg_parse() - Validate one received message and index its attributes
 * @buf:  the datagram
 * @len:  its length
 * @ret:  on success, the message (pointers into @buf); untouched on failure
 * @err:  on failure, what is wrong with it
 *
 * Checks the lengths, the magic, the version, the operation, and every known
 * attribute's kind and size (strings NUL-terminated); unknown attributes are
 * skipped, so that a later version may add some.
 * Return: 0, or -EPROTO (malformed), -EPROTONOSUPPORT (another version)
 */
int ctl_msg_parse(const void *buf, size_t len, struct ctl_msg *ret, nslab_error *err);
/* An attribute's value, or NULL / @def when the message has none. */
const char *ctl_get_str(const struct ctl_msg *m, enum ctl_attr type);
uint32_t ctl_get_u32(const struct ctl_msg *m, enum ctl_attr type, uint32_t def);
uint64_t ctl_get_u64(const struct ctl_msg *m, enum ctl_attr type, uint64_t def);
/* The operation's name ("hello", "exec"...), or "unknown". */
const char *ctl_op_name(unsigned op);
