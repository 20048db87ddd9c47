/* SPDX-License-Identifier: MIT */
/*
 * lab/labfile: the YAML lab file into a validated lab_spec.
 *
 * core/yaml reads the file into a tree of nodes that keep their line:col; the
 * decoders below walk that tree, so every complaint reads
 * "FILE:LINE:COL: message". Lab file values are names, prefixes and numbers:
 * the reader refuses block scalars and multi-line values.
 */
#include "lab/labfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/yaml.h"
#include "lab/fw-file.h"
#include "lab/nat-file.h"
#include "lab/router-preset.h"
#include "link/nat64.h"

#define LABFILE_SIZE_MAX (4u << 20) /* a lab of 5000 nodes is about 200 KiB */
#define RULES_FILE_MAX	 (4u << 20) /* a router's own nftables rules */

struct lf {
	struct lab_spec *spec;
	nslab_error *err;
	struct yctx y;	 /* the file name and err, for messages */
	size_t n_ifaces; /* device interfaces so far, against LAB_IFACES_MAX */
};

/* A `link:` value: a preset name (the lab's `links:` first) or a mapping. */
static int decode_link(struct lf *lf, const struct ynode *v, nslab_link_condition *ret)
{
	struct linkcond_user user = { lf->spec->links, lf->spec->n_links };

	return linkcond_decode(&lf->y, v, &user, ret);
}

static struct spec_loc sloc(const struct ynode *n)
{
	return (struct spec_loc){ n->loc.line, n->loc.col };
}

static int decode_lab(struct lf *lf, const struct ynode *v)
{
	const char *s;
	char *copy;
	int r = y_str(&lf->y, v, "lab", &s);

	if (r < 0)
		return r;
	if (!spec_lab_name_ok(s))
		return y_error(&lf->y, v,
			       "bad lab name '%s': use a-z, 0-9 and '-', start with a letter, "
			       "at most %d characters",
			       SPEC_Q(s), LAB_NAME_MAX);
	copy = strdup(s);
	if (!copy)
		return nslab_err_set(lf->err, ENOMEM, "set lab name");
	free(lf->spec->name);
	lf->spec->name = copy;
	return 0;
}

static int decode_range(struct lf *lf, enum spec_range_id id, const struct ynode *v)
{
	static const char *const examples[] = { "198.18.0.0/22",   "2001:db8::/64", "198.18.0.0/15",
						"2001:db8:1::/48", "10.0.0.0/8",    "fd10::/48" };
	struct spec_ranges *rg = &lf->spec->ranges;
	const char *name = spec_range_name(id), *s;
	uint64_t len;
	int r;

	rg->at[id] = sloc(v);
	if (id == SPEC_RANGE_SUB4 || id == SPEC_RANGE_SUB6) {
		bool v4 = id == SPEC_RANGE_SUB4;

		r = y_uint(&lf->y, v, name, 0, v4 ? 32 : 128,
			   v4 ? "a prefix length 0..32" : "a prefix length 0..128", &len);
		if (r >= 0)
			*(v4 ? &rg->sub4 : &rg->sub6) = (unsigned)len;
		return r;
	}
	r = y_str(&lf->y, v, name, &s);
	if (r < 0)
		return r;
	if (prefix_parse(s, true, spec_range_prefix(rg, id), NULL) < 0)
		return y_error(&lf->y, v, "bad %s '%s' (expected a prefix such as %s)", name,
			       SPEC_Q(s), examples[id]);
	return 0;
}

static int decode_ranges(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	const char *keys[SPEC_RANGE__MAX + 1] = { NULL };
	uint32_t seen = 0;
	int r;

	lf->spec->ranges.loc = sloc(k);
	if (y_is_null(v))
		return 0;
	r = y_map(&lf->y, v, "ranges", NULL);
	if (r < 0)
		return r;
	for (int id = 0; id < SPEC_RANGE__MAX; id++)
		keys[id] = spec_range_name((enum spec_range_id)id);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		int id = y_key(&lf->y, v->kids[i], keys, SIZE_MAX, &seen);

		if (id < 0)
			return id;
		r = decode_range(lf, (enum spec_range_id)id, v->kids[i + 1]);
		if (r < 0)
			return r;
	}
	return 0;
}

enum {
	RK_UPSTREAM,
	RK_POOL,
	RK_IP,
	RK_MTU,
	RK_LINK,
	RK_DOWNLINK,
	RK_NAT,
	RK_NAT6,
	RK_FIREWALL,
	RK_PRESET,
	RK_RULES_FILE,
	RK_REGION,
	RK_BLOCK_FRAG,
	RK_NAT64_SIZE
};

/*
 * `rules_file:` read now, so that a missing file is an error at its place in
 * the lab file; a relative path is taken from the lab file's directory.
 */
static int decode_rules_file(struct lf *lf, const struct ynode *v, struct spec_router *rt)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	const char *s, *file = lf->spec->file, *slash = file ? strrchr(file, '/') : NULL;
	nslab_error tmp = { 0 };
	size_t len;
	int r = y_str(&lf->y, v, "rules_file", &s);

	if (r < 0)
		return r;
	if (s[0] == '/' || !slash)
		path = strdup(s);
	else if (asprintf(&path, "%.*s/%s", (int)(slash - file), file, s) < 0)
		path = NULL;
	if (!path)
		return nslab_err_set(lf->err, ENOMEM, "rules_file");
	r = yaml_read_file(path, RULES_FILE_MAX, &text, &len, &tmp);
	if (r < 0)
		return y_error(&lf->y, v, "rules_file: %s", tmp.msg);
	rt->rules_file = (char *)s;
	rt->rules_text = text ? TAKE_PTR(text) : strdup("");
	rt->rules_loc = sloc(v);
	return rt->rules_text ? 0 : nslab_err_set(lf->err, ENOMEM, "rules_file");
}

static int decode_nat6(struct lf *lf, const struct ynode *v, struct spec_router *rt)
{
	const char *s;
	int r = y_str(&lf->y, v, "nat6", &s);

	rt->nat6_loc = sloc(v);
	if (r >= 0 && nat6_parse(s, &rt->nat6) < 0)
		return y_error(&lf->y, v,
			       "bad nat6 '%s' (expected none, nptv6, masquerade or nat64)",
			       SPEC_Q(s));
	return r;
}

static int decode_router_key(struct lf *lf, int key, const struct ynode *v, struct spec_router *rt)
{
	static const char *const pools[] = { "public", "private", "cgnat", NULL };
	static const char *const ips[] = { "dual", "v4", "v6", NULL };
	const char *s;
	uint64_t mtu;
	unsigned e;
	int r;

	switch (key) {
	case RK_UPSTREAM:
		r = y_str(&lf->y, v, "upstream", &s);
		rt->upstream = (char *)s;
		rt->upstream_loc = sloc(v);
		return r;
	case RK_POOL:
		r = y_enum(&lf->y, v, "pool", pools, "public, private or cgnat", &e);
		rt->pool = (enum lab_pool)e;
		return r;
	case RK_IP:
		r = y_enum(&lf->y, v, "ip", ips, "v4, v6 or dual", &e);
		rt->ip = (enum lab_ipmode)e;
		return r;
	case RK_MTU:
		r = y_uint(&lf->y, v, "mtu", LAB_MTU_MIN, LAB_MTU_MAX, "576..9000", &mtu);
		rt->mtu = (unsigned)mtu;
		return r;
	case RK_LINK:
		rt->has_link = true;
		return decode_link(lf, v, &rt->link);
	case RK_DOWNLINK:
		rt->has_downlink = true;
		return decode_link(lf, v, &rt->downlink);
	case RK_NAT:
		rt->nat_loc = sloc(v);
		return nat_decode(&lf->y, v, &rt->nat);
	case RK_NAT6:
		return decode_nat6(lf, v, rt);
	case RK_FIREWALL:
		rt->fw_loc = sloc(v);
		return fw_decode(&lf->y, v, &rt->fw);
	case RK_PRESET:
		return 0; /* decoded first, see decode_router() */
	case RK_RULES_FILE:
		return decode_rules_file(lf, v, rt);
	case RK_BLOCK_FRAG:
		return y_bool(&lf->y, v, "block_icmp_frag_needed", &rt->block_frag);
	case RK_NAT64_SIZE:
		r = y_uint(&lf->y, v, "nat64_size", 1, NAT64_MAX_BIBS, "1..4194304", &mtu);
		rt->nat64_size = (uint32_t)mtu;
		rt->nat64_size_loc = sloc(v);
		return r;
	default:
		r = y_str(&lf->y, v, "region", &s);
		rt->region = (char *)s;
		rt->region_loc = sloc(v);
		return r;
	}
}

static int decode_router_preset(struct lf *lf, const struct ynode *v, struct spec_router *rt)
{
	const char *s;
	int r = y_str(&lf->y, v, "preset", &s);

	if (r >= 0 && router_preset_apply(s, rt) < 0)
		return y_error(&lf->y, v, "unknown router preset '%s' (expected %s)", SPEC_Q(s),
			       router_preset_list());
	rt->nat_loc = rt->fw_loc = sloc(v);
	return r;
}

static int decode_router_keys(struct lf *lf, const struct ynode *v, struct spec_router *rt,
			      uint32_t *seen)
{
	static const char *const keys[] = { "upstream",
					    "pool",
					    "ip",
					    "mtu",
					    "link",
					    "downlink",
					    "nat",
					    "nat6",
					    "firewall",
					    "preset",
					    "rules_file",
					    "region",
					    "block_icmp_frag_needed",
					    "nat64_size",
					    NULL };
	int r = 0;

	/* the preset first, wherever it is written: the other keys override it */
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		const struct ynode *k = v->kids[i];

		if (k->type == Y_SCALAR && strcmp(k->text, "preset") == 0)
			r = decode_router_preset(lf, v->kids[i + 1], rt);
	}
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int key = y_key(&lf->y, v->kids[i], keys, SIZE_MAX, seen);

		if (key < 0)
			return key;
		r = decode_router_key(lf, key, v->kids[i + 1], rt);
	}
	return r;
}

static int decode_router(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	struct spec_router rt = { .loc = sloc(k) };
	_cleanup_free_ char *rules_text = NULL;
	const char *name;
	uint32_t seen = 0;
	int r = y_str(&lf->y, k, "router name", &name);

	if (r < 0)
		return r;
	rt.name = (char *)name;
	if (!y_is_null(v)) {
		r = y_map(&lf->y, v, "router", name);
		if (r < 0)
			return r;
		r = decode_router_keys(lf, v, &rt, &seen);
		rules_text = rt.rules_text; /* lab_spec_add_router() copies it */
		if (r < 0)
			return r;
	}
	if (rt.nat.enabled && rt.ip == LAB_IP_V6)
		return spec_error(lf->err, lf->spec, rt.nat_loc, EINVAL,
				  "router '%s': nat translates IPv4, and the router is IPv6-only "
				  "(ip: v6)",
				  rt.name);
	if (rt.nat6 != NAT6_NONE && rt.ip == LAB_IP_V4)
		return spec_error(lf->err, lf->spec, rt.nat6_loc, EINVAL,
				  "router '%s': nat6 translates IPv6, and the router is IPv4-only "
				  "(ip: v4)",
				  rt.name);
	if (rt.nat64_size && rt.nat6 != NAT6_NAT64)
		return spec_error(lf->err, lf->spec, rt.nat64_size_loc, EINVAL,
				  "router '%s': nat64_size without nat6: nat64", rt.name);
	/*
	 * Behind a NAT the pool is private (a carrier's shared space for cgnat)
	 * unless given; NAT64 translates to IPv4 only, its IPv6 side is routed.
	 */
	if ((rt.nat.enabled || (rt.nat6 != NAT6_NONE && rt.nat6 != NAT6_NAT64)) &&
	    !(seen & (1u << RK_POOL)))
		rt.pool = rt.nat.carrier ? LAB_POOL_CGNAT : LAB_POOL_PRIVATE;
	else if (!(seen & (1u << RK_POOL)))
		rt.pool = LAB_POOL_PUBLIC;
	return lab_spec_add_router(lf->spec, &rt, lf->err);
}

/* A mapping of name -> value decoded one pair at a time; null is empty. */
static int decode_each(struct lf *lf, const struct ynode *v, const char *what,
		       int (*fn)(struct lf *, const struct ynode *, const struct ynode *))
{
	int r;

	if (y_is_null(v))
		return 0;
	r = y_map(&lf->y, v, what, NULL);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2)
		r = fn(lf, v->kids[i], v->kids[i + 1]);
	return r;
}

/* A device entry before `count:` expansion; strings borrowed from the tree. */
struct dev_entry {
	const struct ynode *key, *router_key, *router, *ifaces, *via, *count, *link;
	struct spec_iface ifs[LAB_DEVICE_IFACES_MAX];
	size_t n_ifs;
	uint64_t copies; /* 0: no count, one device called as the key */
};

static int decode_iface(struct lf *lf, struct dev_entry *d, const struct ynode *k,
			const struct ynode *v)
{
	static const char *const keys[] = { "router", "link", NULL };
	struct spec_iface *f = &d->ifs[d->n_ifs];
	const char *s;
	uint32_t seen = 0;
	int r = y_str(&lf->y, k, "interface name", &s);

	if (r < 0)
		return r;
	if (d->n_ifs == LAB_DEVICE_IFACES_MAX)
		return y_error(&lf->y, k, "device '%s': too many interfaces (at most %d)",
			       SPEC_Q(d->key->text), LAB_DEVICE_IFACES_MAX);
	*f = (struct spec_iface){ .name = (char *)s, .loc = sloc(k) };
	if (y_is_null(v))
		return y_error(&lf->y, k, "interface '%s' needs 'router'", SPEC_Q(s));
	r = y_map(&lf->y, v, "interface", f->name);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		r = y_key(&lf->y, v->kids[i], keys, SIZE_MAX, &seen);
		if (r == 1) {
			f->has_link = true;
			r = decode_link(lf, v->kids[i + 1], &f->link);
			continue;
		}
		if (r >= 0)
			r = y_str(&lf->y, v->kids[i + 1], "router", &s);
		f->router = (char *)s;
		f->router_loc = sloc(v->kids[i + 1]);
	}
	if (r >= 0 && !(seen & 1u))
		return y_error(&lf->y, k, "interface '%s' needs 'router'", f->name);
	if (r >= 0)
		d->n_ifs++;
	return r;
}

static int decode_device_fields(struct lf *lf, struct dev_entry *d, const struct ynode *v)
{
	static const char *const keys[] = {
		"router", "ifaces", "default_via", "count", "link", NULL
	};
	const struct ynode **slots[] = { &d->router, &d->ifaces, &d->via, &d->count, &d->link };
	uint32_t seen = 0;
	int r;

	if (y_is_null(v))
		return y_error(&lf->y, d->key, "device '%s' needs 'router' or 'ifaces'",
			       SPEC_Q(d->key->text));
	r = y_map(&lf->y, v, "device", d->key->text);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		r = y_key(&lf->y, v->kids[i], keys, SIZE_MAX, &seen);
		if (r < 0)
			return r;
		if ((r == 0 && d->ifaces) || (r == 1 && d->router))
			return y_error(&lf->y, v->kids[i],
				       "'router' and 'ifaces' cannot be used together");
		if ((r == 4 && d->ifaces) || (r == 1 && d->link))
			return y_error(&lf->y, v->kids[i],
				       "'link' goes with 'router'; with 'ifaces', give each "
				       "interface its own 'link'");
		if (r == 0)
			d->router_key = v->kids[i];
		*slots[r] = v->kids[i + 1];
	}
	if (r >= 0 && !d->router && !d->ifaces)
		return y_error(&lf->y, d->key, "device '%s' needs 'router' or 'ifaces'",
			       SPEC_Q(d->key->text));
	return r < 0 ? r : 0;
}

static int decode_device_ifaces(struct lf *lf, struct dev_entry *d)
{
	const struct ynode *v = d->ifaces;
	const char *s;
	int r;

	if (d->router) {
		r = y_str(&lf->y, d->router, "router", &s);
		d->ifs[0] = (struct spec_iface){ .name = (char *)"eth0",
						 .router = (char *)s,
						 .loc = sloc(d->router_key),
						 .router_loc = sloc(d->router) };
		d->n_ifs = r < 0 ? 0 : 1;
		if (r >= 0 && d->link) {
			d->ifs[0].has_link = true;
			r = decode_link(lf, d->link, &d->ifs[0].link);
		}
		return r;
	}
	if (y_is_null(v))
		return 0;
	r = y_map(&lf->y, v, "ifaces", NULL);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2)
		r = decode_iface(lf, d, v->kids[i], v->kids[i + 1]);
	return r;
}

/* Add the device (or its `count:` copies) to the spec. */
static int add_devices(struct lf *lf, struct dev_entry *d, const char *via)
{
	size_t n = d->copies ? d->copies : 1;
	char name[NODE_NAME_MAX + 32];
	int r;

	if (lf->spec->n_devices + n > LAB_DEVICES_MAX)
		return y_error(&lf->y, d->count ? d->count : d->key,
			       "too many devices (at most %d)", LAB_DEVICES_MAX);
	if (lf->n_ifaces + n * d->n_ifs > LAB_IFACES_MAX)
		return y_error(&lf->y, d->count ? d->count : d->key,
			       "too many interfaces in the lab (at most %d)", LAB_IFACES_MAX);
	lf->n_ifaces += n * d->n_ifs;
	for (size_t c = 1; c <= n; c++) {
		size_t idx = lf->spec->n_devices;

		if (d->copies)
			snprintf(name, sizeof(name), "%s-%zu", d->key->text, c);
		else
			snprintf(name, sizeof(name), "%s", d->key->text);
		r = lab_spec_add_device(lf->spec, name, sloc(d->key), lf->err);
		for (size_t j = 0; r >= 0 && j < d->n_ifs; j++)
			r = lab_spec_add_iface(lf->spec, idx, &d->ifs[j], lf->err);
		if (r >= 0 && via)
			r = lab_spec_set_default_via(lf->spec, idx, via, sloc(d->via), lf->err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int decode_device(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	_cleanup_free_ struct dev_entry *d = calloc(1, sizeof(*d));
	const char *name, *via = NULL;
	int r;

	if (!d)
		return nslab_err_set(lf->err, ENOMEM, "decode device");
	d->key = k;
	r = y_str(&lf->y, k, "device name", &name);
	if (r >= 0)
		r = decode_device_fields(lf, d, v);
	if (r >= 0)
		r = decode_device_ifaces(lf, d);
	if (r >= 0 && d->via)
		r = y_str(&lf->y, d->via, "default_via", &via);
	if (r >= 0 && d->count)
		r = y_uint(&lf->y, d->count, "count", 1, LAB_COUNT_MAX, "1..4096", &d->copies);
	if (r < 0)
		return r;
	/* Check the name itself, before "-N" makes the message confusing */
	if (d->copies && !spec_node_name_ok(name))
		return y_error(&lf->y, k,
			       "bad device name '%s': use a-z, 0-9 and '-', start with a letter, "
			       "do not end with '-'",
			       SPEC_Q(name));
	return add_devices(lf, d, via);
}

static int decode_dns(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	struct spec_dns d = { .loc = sloc(k), .target_loc = sloc(v) };
	const char *name, *target;
	int r = y_str(&lf->y, k, "host name", &name);

	if (r >= 0)
		r = y_str(&lf->y, v, "dns target", &target);
	if (r < 0)
		return r;
	d.name = (char *)name;
	d.target = (char *)target;
	return lab_spec_add_dns(lf->spec, &d, lf->err);
}

/* `dns_upstream: NODE | ADDRESS`: where the lab DNS sends the names it does not have. */
static int decode_dns_upstream(struct lf *lf, const struct ynode *v)
{
	const char *s;
	int r = y_str(&lf->y, v, "dns_upstream", &s);

	if (r < 0)
		return r;
	free(lf->spec->dns_upstream);
	lf->spec->dns_upstream = strdup(s);
	if (!lf->spec->dns_upstream)
		return nslab_err_set(lf->err, ENOMEM, "dns_upstream");
	lf->spec->dns_upstream_loc = sloc(v);
	return 0;
}

enum {
	K_LAB,
	K_SEED,
	K_DAD,
	K_RANGES,
	K_ROUTERS,
	K_DEVICES,
	K_DNS,
	K_LINKS,
	K_LINK_BACKEND,
	K_REGIONS,
	K_REGION_LINKS,
	K_DEFAULT_REGIONS,
	K_IPV6,
	K_DNS_UPSTREAM,
	K_DNS64
};

/* `regions:` name -> {} (a region has no settings yet; its links are under `region_links:`) */
static int decode_region(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	const char *name;
	int r = y_str(&lf->y, k, "region name", &name);

	if (r >= 0 && !y_is_null(v)) {
		r = y_map(&lf->y, v, "region", name);
		if (r >= 0 && v->n)
			return y_error(&lf->y, v->kids[0],
				       "region '%s': unknown key '%s' (a region has no settings; "
				       "its links are under 'region_links:')",
				       SPEC_Q(name), SPEC_Q(v->kids[0]->text));
	}
	return r < 0 ? r : lab_spec_add_region(lf->spec, name, sloc(k), lf->err);
}

/* `a:` or `b:` of a region link into *ret, with its place. */
static int decode_region_end(struct lf *lf, const struct ynode *v, const char *what, char **ret,
			     struct spec_loc *ret_loc)
{
	const char *s;
	int r = y_str(&lf->y, v, what, &s);

	*ret = (char *)s;
	*ret_loc = sloc(v);
	return r;
}

/*
 * One `region_links:` item: {a: R, b: R, <condition keys>}. The condition is
 * read from a shallow copy of the mapping without a and b, so that it is
 * decoded (and checked) exactly as a `link:` mapping.
 */
static int decode_region_link(struct lf *lf, const struct ynode *v)
{
	struct linkcond_user user = { lf->spec->links, lf->spec->n_links };
	struct spec_region_link l = { .loc = sloc(v) };
	_cleanup_free_ struct ynode **kids = NULL;
	struct ynode cond;
	int r = y_map(&lf->y, v, "region link", NULL);

	if (r < 0)
		return r;
	cond = *v;
	cond.kids = kids = calloc(v->n + 1, sizeof(*kids));
	if (!kids)
		return nslab_err_set(lf->err, ENOMEM, "decode region link");
	cond.n = 0;
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		const struct ynode *key = v->kids[i];
		bool is_a = key->type == Y_SCALAR && strcmp(key->text, "a") == 0;
		bool is_b = key->type == Y_SCALAR && strcmp(key->text, "b") == 0;

		if (is_a || is_b) {
			r = decode_region_end(lf, v->kids[i + 1], key->text, is_a ? &l.a : &l.b,
					      is_a ? &l.a_loc : &l.b_loc);
			continue;
		}
		kids[cond.n++] = v->kids[i];
		kids[cond.n++] = v->kids[i + 1];
	}
	if (r >= 0 && (!l.a || !l.b))
		return y_error(&lf->y, v, "a region link needs 'a' and 'b' (two regions)");
	if (r >= 0)
		r = linkcond_decode(&lf->y, &cond, &user, &l.cond);
	return r < 0 ? r : lab_spec_add_region_link(lf->spec, &l, lf->err);
}

static int decode_region_links(struct lf *lf, const struct ynode *v)
{
	int r;

	if (y_is_null(v))
		return 0;
	r = y_seq(&lf->y, v, "region_links");
	for (size_t i = 0; r >= 0 && i < v->n; i++)
		r = decode_region_link(lf, v->kids[i]);
	return r;
}

/* `ipv6: {provisioning: static | ra}` */
static int decode_ipv6(struct lf *lf, const struct ynode *v)
{
	static const char *const keys[] = { "provisioning", NULL };
	static const char *const modes[] = { "static", "ra", NULL };
	uint32_t seen = 0;
	unsigned e;
	int r = y_map(&lf->y, v, "ipv6", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		r = y_key(&lf->y, v->kids[i], keys, SIZE_MAX, &seen);
		if (r >= 0)
			r = y_enum(&lf->y, v->kids[i + 1], "provisioning", modes, "static or ra",
				   &e);
		if (r >= 0)
			lf->spec->ra = e == 1;
	}
	return r < 0 ? r : 0;
}

/* `links:` name -> condition; a preset may build on an earlier one or a built-in. */
static int decode_link_preset(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	nslab_link_condition c;
	const char *name;
	int r = y_str(&lf->y, k, "link preset name", &name);

	if (r < 0)
		return r;
	if (!spec_node_name_ok(name))
		return y_error(
			&lf->y, k,
			"bad link preset name '%s': use a-z, 0-9 and '-', start with a letter",
			SPEC_Q(name));
	for (size_t i = 0; i < lf->spec->n_links; i++)
		if (strcmp(lf->spec->links[i].name, name) == 0)
			return y_error(&lf->y, k, "link preset '%s' defined twice", name);
	r = decode_link(lf, v, &c);
	return r < 0 ? r : lab_spec_add_link_preset(lf->spec, name, &c, lf->err);
}

static int decode_top_key(struct lf *lf, int key, const struct ynode *k, const struct ynode *v)
{
	uint64_t seed;
	int r;

	switch (key) {
	case K_LAB:
		return decode_lab(lf, v);
	case K_SEED:
		r = y_uint(&lf->y, v, "seed", 0, UINT64_MAX, "an unsigned integer", &seed);
		if (r >= 0)
			lf->spec->seed = seed;
		return r;
	case K_DAD:
		return y_bool(&lf->y, v, "dad", &lf->spec->dad);
	case K_RANGES:
		return decode_ranges(lf, k, v);
	case K_ROUTERS:
		return decode_each(lf, v, "routers", decode_router);
	case K_DEVICES:
		return decode_each(lf, v, "devices", decode_device);
	case K_LINKS:
		return 0; /* decoded first, see decode_top() */
	case K_LINK_BACKEND: {
		static const char *const backends[] = { "auto", "wire", "netem", NULL };
		unsigned e;

		r = y_enum(&lf->y, v, "link_backend", backends, "auto, wire or netem", &e);
		lf->spec->link_backend = (enum lab_link_backend)e;
		return r;
	}
	case K_REGIONS:
		return decode_each(lf, v, "regions", decode_region);
	case K_REGION_LINKS:
		return decode_region_links(lf, v);
	case K_DEFAULT_REGIONS:
		return 0; /* applied last, see decode_top() */
	case K_IPV6:
		return decode_ipv6(lf, v);
	case K_DNS_UPSTREAM:
		return decode_dns_upstream(lf, v);
	case K_DNS64:
		return y_bool(&lf->y, v, "dns64", &lf->spec->dns64);
	default:
		return decode_each(lf, v, "dns", decode_dns);
	}
}

/* `default_regions: true`: the triangle, after the file's own regions and links. */
static int decode_default_regions(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	bool on = false;
	int r = y_bool(&lf->y, v, "default_regions", &on);

	if (r < 0 || !on)
		return r;
	return lab_spec_default_regions(lf->spec, sloc(k), lf->err);
}

static int decode_top(struct lf *lf, const struct ynode *root, bool *named)
{
	static const char *const keys[] = { "lab",     "seed",	       "dad",
					    "ranges",  "routers",      "devices",
					    "dns",     "links",	       "link_backend",
					    "regions", "region_links", "default_regions",
					    "ipv6",    "dns_upstream", "dns64",
					    NULL };
	uint32_t seen = 0;
	int r;

	if (!root || y_is_null(root))
		return 0;
	r = y_map(&lf->y, root, "lab file", NULL);
	/* presets first, wherever they are in the file, so that links above them can use them */
	for (size_t i = 0; r >= 0 && i + 1 < root->n; i += 2) {
		const struct ynode *k = root->kids[i];

		if (k->type == Y_SCALAR && strcmp(k->text, "links") == 0)
			r = decode_each(lf, root->kids[i + 1], "links", decode_link_preset);
	}
	for (size_t i = 0; r >= 0 && i + 1 < root->n; i += 2) {
		r = y_key(&lf->y, root->kids[i], keys, SIZE_MAX, &seen);
		if (r >= 0)
			r = decode_top_key(lf, r, root->kids[i], root->kids[i + 1]);
	}
	for (size_t i = 0; r >= 0 && i + 1 < root->n; i += 2) {
		const struct ynode *k = root->kids[i];

		if (strcmp(k->text, "default_regions") == 0)
			r = decode_default_regions(lf, k, root->kids[i + 1]);
	}
	*named = seen & (1u << K_LAB);
	return r < 0 ? r : 0;
}

/* "dir/office.yaml" -> "office"; the caller frees. */
static char *file_stem(const char *filename)
{
	const char *base, *dot;

	if (!filename)
		return strdup("lab");
	base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	dot = strrchr(base, '.');
	return strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* From the text, or (text NULL) from a tree read already. */
static int parse_lab(const char *text, size_t len, const struct ynode *tree, const char *filename,
		     struct lab_spec **ret, nslab_error *err)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_free_ char *stem = file_stem(filename);
	struct lf lf = { .err = err };
	bool named = false;
	int r;

	if (!stem)
		return nslab_err_set(err, ENOMEM, "parse lab file");
	r = lab_spec_new(stem, &spec, err);
	if (r < 0)
		return r;
	if (filename && !(spec->file = strdup(filename)))
		return nslab_err_set(err, ENOMEM, "parse lab file");
	lf.spec = spec;
	lf.y = (struct yctx){ .file = spec->file, .err = err };
	r = text ? yaml_read(&lf.y, text, len, 0, &root) : 0;
	if (r >= 0)
		r = decode_top(&lf, text ? root : tree, &named);
	if (r < 0)
		return r;
	if (!named && !spec_lab_name_ok(spec->name))
		return spec_error(err, spec, (struct spec_loc){ 1, 1 }, EINVAL,
				  "lab name '%s' from the file name is not valid (use a-z, 0-9 "
				  "and '-', at most %d characters): set 'lab:'",
				  SPEC_Q(spec->name), LAB_NAME_MAX);
	r = lab_spec_validate(spec, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(spec);
	return 0;
}

int labfile_decode_nodes(struct lab_spec *spec, const char *text, size_t len, const char *what,
			 nslab_error *err)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct lf lf = { .err = err, .spec = spec };
	int r;

	lf.y = (struct yctx){ .file = what, .err = err };
	r = yaml_read(&lf.y, text, len, 0, &root);
	if (r >= 0)
		r = y_map(&lf.y, root, "nodes", NULL);
	for (size_t i = 0; r >= 0 && i + 1 < root->n; i += 2) {
		const struct ynode *k = root->kids[i];

		if (strcmp(k->text, "routers") == 0)
			r = decode_each(&lf, root->kids[i + 1], "routers", decode_router);
		else if (strcmp(k->text, "devices") == 0)
			r = decode_each(&lf, root->kids[i + 1], "devices", decode_device);
		else
			r = y_error(&lf.y, k, "not a node: '%s'", SPEC_Q(k->text));
	}
	return r < 0 ? r : 0;
}

int labfile_parse_string(const char *text, size_t len, const char *filename, struct lab_spec **ret,
			 nslab_error *err)
{
	return parse_lab(text, len, NULL, filename, ret, err);
}

int labfile_parse_tree(const struct ynode *tree, const char *filename, struct lab_spec **ret,
		       nslab_error *err)
{
	return parse_lab(NULL, 0, tree, filename, ret, err);
}

int labfile_parse(const char *path, struct lab_spec **ret, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = yaml_read_file(path, LABFILE_SIZE_MAX, &text, &len, err);

	if (r < 0)
		return r;
	return labfile_parse_string(text ? text : "", len, path, ret, err);
}
