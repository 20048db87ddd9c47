/* SPDX-License-Identifier: MIT */
/*
 * fwtest/suite: a firewall test suite (YAML) as a validated, plain model.
 *
 * Three spellings are read into the same model:
 *  - nslab's: a map with topology, rules|rules_file, tests: [...] whose tests
 *    carry packets/flows and expect:;
 *  - NSE's runner format: a map with tests: [...] whose tests carry
 *    topology: simple|gateway and whose packets carry expected_verdict;
 *  - NSE's documented format: a top-level list of tests with rules, packets
 *    (protocol, src_ip, dst_ip, src_port, dst_port) and expect: {verdict: ACCEPT}.
 * NSE's formats (a top-level list, or a mapping of only tests: whose packets
 * use expected_verdict) get NSE's semantics (docs/nse.md): TCP packets carry
 * no flags unless tcp_flags says, ports default to 12345 -> 80, icmp with
 * IPv6 addresses is ICMPv6, tcp_flags: [] is ignored on other protocols,
 * every packet is checked for a verdict (ACCEPT unless said otherwise), and
 * NSE's DROP (expected_verdict, a test's expect: verdict) passes for a reject.
 * Every element keeps its 1-based line:col so the runner can report there.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "nslab/error.h"
#include "nslab/link.h"
#include "shared/macro.h"

struct fw_loc {
	unsigned line, col; /* 1-based; 0:0 when not from a file */
	bool flat;	    /* rules_loc of a quoted string with escaped line breaks ("a\nb") */
};

enum fw_topology {
	FW_TOPO_DIRECT = 0, /* client 10.0.0.1 <-> target 10.0.0.2; rules in target */
	FW_TOPO_GATEWAY,    /* client <-> router <-> server; rules in router */
	FW_TOPO_LAB,	    /* any lab file, rules in rules_in */
};

enum fw_verdict {
	FW_VERDICT_UNSET = 0,
	FW_VERDICT_ACCEPT,
	FW_VERDICT_DROP,
	FW_VERDICT_REJECT,
};

/* What came back to the sender. */
enum fw_reply {
	FW_REPLY_UNSET = 0,
	FW_REPLY_NONE,
	FW_REPLY_RST,
	FW_REPLY_SYN_ACK,
	FW_REPLY_ECHO_REPLY,
	FW_REPLY_ICMP_PORT_UNREACHABLE,
	FW_REPLY_ICMP_ADMIN_PROHIBITED,
	FW_REPLY_ICMP_HOST_UNREACHABLE,
	FW_REPLY_ICMP_NET_UNREACHABLE,
	FW_REPLY_ICMP_PROT_UNREACHABLE,
	FW_REPLY_UDP, /* a datagram from the listener */
};

/* nft's ct state bits (NF_CT_STATE_BIT(): the kernel's own encoding) */
enum fw_ct_state {
	FW_CT_INVALID = 1u << 0,
	FW_CT_ESTABLISHED = 1u << 1,
	FW_CT_RELATED = 1u << 2,
	FW_CT_NEW = 1u << 3,
	FW_CT_UNTRACKED = 1u << 6,
};

enum fw_connect {
	FW_CONNECT_UNSET = 0,
	FW_CONNECT_OK,	    /* handshake completed (and data sent, if any) */
	FW_CONNECT_REFUSED, /* RST or ICMP error came back */
	FW_CONNECT_TIMEOUT, /* nothing came back */
};

/* TCP flag bits as on the wire (FIN = 0x01 ... CWR = 0x80) */
enum fw_tcp_flag {
	FW_TCP_FIN = 0x01,
	FW_TCP_SYN = 0x02,
	FW_TCP_RST = 0x04,
	FW_TCP_PSH = 0x08,
	FW_TCP_ACK = 0x10,
	FW_TCP_URG = 0x20,
	FW_TCP_ECE = 0x40,
	FW_TCP_CWR = 0x80,
};

/*
 * An endpoint as written: a node name of the topology ("client", "target",
 * "server", or a lab node) or a literal address. Node names are checked here
 * against the test's topology (and resolved again by the runner); literals
 * are parsed here.
 */
struct fw_endpoint {
	char *node;		  /* node name, or NULL */
	struct nslab_prefix addr; /* literal address (family != 0), host length */
	struct fw_loc loc;
};

/* Expected NAT as seen where the packet arrives; unset fields are not checked. */
struct fw_nat_expect {
	bool set;
	struct fw_endpoint src, dst; /* node NULL and family 0: not checked */
	int sport, dport;	     /* -1: not checked */
	struct fw_loc loc;
};

struct fw_capture_expect {
	char *node;    /* capture point: node name */
	char *iface;   /* interface, or NULL for every interface of the node */
	char *filter;  /* BPF (libpcap syntax), or NULL for all packets */
	long count;    /* exact count, or -1 */
	long min, max; /* bounds, or -1 */
	struct fw_loc loc;
};

struct fw_counter_expect {
	char *name;	 /* named nft counter ("counter NAME" object) */
	int64_t packets; /* -1: not checked */
	int64_t bytes;	 /* -1: not checked */
	struct fw_loc loc;
};

/*
 * The conntrack entry of a packet or flow (its original tuple) in the table of
 * the rules node after the test, read over ctnetlink; unset fields are not checked.
 */
struct fw_conntrack_expect {
	bool set;
	int tcp_state; /* TCP_CONNTRACK_* (0 none ... 9 syn_sent2), -1 unset */
	int replied;   /* IPS_SEEN_REPLY: -1 unset, 0 or 1 */
	int assured;   /* IPS_ASSURED: -1 unset, 0 or 1 */
	long count;    /* entries with that tuple (0: not tracked), -1 unset */
	struct fw_loc loc;
};

/* Expectations; every field has an "unset" value and unset fields are not checked. */
struct fw_expect {
	enum fw_verdict verdict;
	bool drop_or_reject; /* NSE's DROP: verdict drop passes for a reject too */
	char *rule;	     /* comment, text fragment of the rule, or "policy" */
	char *chain;	     /* chain name that gave the verdict */
	int delivered;	     /* -1 unset, 0 or 1 */
	enum fw_reply reply;
	unsigned ct_state; /* FW_CT_* bits, 0 unset (one bit: the packet's state must be it) */
	struct fw_nat_expect nat;
	struct fw_capture_expect *captures;
	size_t n_captures;
	struct fw_counter_expect *counters;
	size_t n_counters;
	struct fw_conntrack_expect conntrack;
	enum fw_connect connect; /* flows only */
	struct fw_loc loc;	 /* of the expect: map (or of expected_verdict) */
};

struct fw_packet {
	int proto;		     /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, or any 0..255 */
	struct fw_endpoint src, dst; /* unset (node NULL, family 0): by topology */
	char *from;		     /* node that sends it; NULL: by topology */
	int sport, dport;	     /* -1: unset (sport chosen by the runner) */
	int tcp_flags;		     /* FW_TCP_* bits; -1 unset (SYN for TCP) */
	int icmp_type, icmp_code;    /* -1 unset (echo request) */
	int ttl;		     /* ttl or hop limit; -1 unset (64) */
	uint8_t *payload;	     /* bytes (text as is, or decoded from "hex:..."/0x...) */
	size_t payload_len;
	unsigned count;		 /* >= 1 */
	struct fw_expect expect; /* per-packet expectations (may be all unset) */
	bool has_expect;
	struct fw_loc loc;
};

struct fw_flow {
	int proto; /* IPPROTO_TCP or IPPROTO_UDP */
	struct fw_endpoint src, dst;
	char *from;
	int sport, dport; /* sport -1: kernel chooses */
	uint8_t *send;	  /* data sent once connected, may be NULL */
	size_t send_len;
	struct fw_loc loc;
};

struct fw_test {
	char *name;
	char *rules;		 /* override of the suite's ruleset text, or NULL */
	struct fw_loc rules_loc; /* line:col of the first line of the rules text */
	bool has_topology;
	enum fw_topology topology; /* override (direct or gateway only) */
	struct fw_packet *packets;
	size_t n_packets;
	struct fw_flow *flows;
	size_t n_flows;
	struct fw_expect expect; /* per-test expectations */
	bool listen;		 /* start listeners for destination ports (default true) */
	struct fw_loc loc;
};

struct fw_suite {
	char *path; /* file name, for messages */
	bool nse;   /* written in one of NSE's formats: NSE's semantics (see below) */
	enum fw_topology topology;
	char *lab_file; /* FW_TOPO_LAB: path (relative to the suite's folder, resolved) */
	char *rules_in; /* FW_TOPO_LAB: node that loads the rules */
	/*
	 * direct and gateway: `link:`, the condition of the client's link (up:
	 * what the client sends), set when has_link; a lab's are in its file.
	 */
	bool has_link;
	nslab_link_condition link;
	/*
	 * gateway: `server_link:`, the server's link (server eth0 to the router's
	 * eth1; up: what the server sends), set when has_server_link.
	 */
	bool has_server_link;
	nslab_link_condition server_link;
	char *rules;	  /* ruleset text (rules: or the contents of rules_file:), or NULL */
	char *rules_file; /* path it came from (resolved), or NULL if inline */
	struct fw_loc
		rules_loc; /* where the text starts: the suite's line for inline rules; 1:1 of rules_file */
	struct fw_test *tests;
	size_t n_tests;
	char *warnings; /* "FILE:LINE:COL: message" lines: what was read but ignored, or NULL */
};

/*
 * Value syntax (nslab's, accepted in every format):
 *  - names (topology, verdict, reply, ct_state, connect, proto) compare
 *    without case, and '_' stands for '-' ("ICMP_PORT_UNREACHABLE");
 *  - proto: tcp, udp, icmp, icmpv6 (icmp6, ipv6-icmp) or 0..255; default tcp;
 *  - flags: "S", "SA", "syn,ack", [S, A], [syn, ack]; "" or [] for none;
 *  - payload and send: "hex:0a0b 0c:0d" (two digits per byte; blanks, line
 *    breaks or ':' may separate bytes), "0x0a0b" (digits only), anything
 *    else is the text as written (a literal block scalar keeps its line
 *    breaks); at most FW_PAYLOAD_MAX bytes;
 *  - capture without count, min or max: min 1 (at least one packet);
 *  - rules: inline text may be a literal block scalar ('|', '|-', '|+',
 *    '|N'); folded ones ('>') are refused.
 * NSE's spellings protocol, src_ip, dst_ip, src_port, dst_port and tcp_flags
 * are accepted (not with ours for the same field) but not listed in
 * "unknown key" messages.
 */

/*
 * fw_suite_parse() - Read, parse and validate a suite file
 * @flags: FW_SUITE_*; ALLOW_INCLUDE: accept `include` statements in rulesets (refused by default:
 *                 rules are loaded with privileges and could read any file)
 * Errors: -EINVAL with "FILE:LINE:COL: message" for malformed YAML, unknown
 * keys, wrong types, bad addresses, ports, flags, protocols, mixed families in
 * one packet, an include, a node or interface the test's topology does not
 * have; -errno naming the path for unreadable files.
 * Return: 0 and *ret (free with fw_suite_free()), or -errno.
 */
int fw_suite_parse(const char *path, unsigned flags, struct fw_suite **ret, nslab_error *err);
/* fw_suite_parse()'s flags */
enum {
	FW_SUITE_ALLOW_INCLUDE = 1u << 0, /* as allow_include */
	FW_SUITE_RULES_LATER = 1u << 1,	  /* no rules is fine: the caller sets them (--compare) */
};
/* Same, from memory; filename is used in messages and to resolve relative paths. */
int fw_suite_parse_string(const char *text, size_t len, const char *filename, bool allow_include,
			  struct fw_suite **ret, nslab_error *err);
struct fw_suite *fw_suite_free(struct fw_suite *s);
DEFINE_CLEANUP_FUNC(struct fw_suite, fw_suite_free)

/* Limits of a suite's values. */
#define FW_COUNT_MAX	     10000	/* packet count: */
#define FW_PAYLOAD_MAX	     65000	/* payload and send: bytes */
#define FW_CAPTURE_COUNT_MAX 1000000	/* capture count, min, max */
#define FW_SUITE_SIZE_MAX    (4u << 20) /* suite file and rules_file: bytes */
#define FW_COUNTERS_MAX	     256	/* named counters in one expect */
#define FW_FILTER_TERMS_MAX  64		/* capture filter: terms joined by and/or */
#define FW_FILTER_LEN_MAX    4096	/* capture filter: characters */

struct bpf_program;
/* Terms of a capture filter: the and/or (&&, ||) operators in it, plus one. */
size_t fw_capture_filter_terms(const char *filter);
/**
 * fw_capture_filter_compile() - A capture filter (libpcap syntax) into BPF for IP packets
 * @prog:  on success, the program; free with pcap_freecode()
 * @why:   on failure, libpcap's message (@len bytes)
 * Unoptimized: libpcap's optimizer costs more than it saves on a test's few packets.
 * Return: 0, or -1.
 */
int fw_capture_filter_compile(const char *filter, struct bpf_program *prog, char *why, size_t len);

/*
 * fw_rules_loc() - Where line:col of a ruleset's text is in the file it came from
 * @rules_loc:  the text's rules_loc (a suite's or a test's)
 * @line, @col: 1-based, in the ruleset text (as nft reports them)
 * Inline rules are one line or a literal block scalar (every line of it at
 * rules_loc's column); a rules_file's rules_loc is 1:1. Lines of a quoted
 * string made by escapes ("a\nb", as JSON writes rules) are all on its line:
 * their places are the string's.
 * Return: the place in the suite file (or in the rules_file).
 */
static inline struct fw_loc fw_rules_loc(struct fw_loc rules_loc, unsigned line, unsigned col)
{
	if (!rules_loc.line || !line)
		return (struct fw_loc){ 0, 0 };
	if (rules_loc.flat)
		return (struct fw_loc){ rules_loc.line, rules_loc.col };
	return (struct fw_loc){ rules_loc.line + line - 1, rules_loc.col + (col ? col - 1 : 0) };
}

/* "tcp", "udp", "icmp", "icmpv6", or the number written into buf (8 bytes). */
const char *fw_proto_name(int proto, char buf[8]);
/* Names for messages and reports ("direct", "ok"). */
const char *fw_topology_name(enum fw_topology t);
const char *fw_connect_name(enum fw_connect c);
/* Names for messages and reports ("accept", "icmp-port-unreachable", "new,established"). */
const char *fw_verdict_name(enum fw_verdict v);
const char *fw_reply_name(enum fw_reply r);
/* ct state bits as nft writes them ("established,related"); buf of 64 bytes is enough. */
const char *fw_ct_state_format(unsigned bits, char *buf, size_t len);
