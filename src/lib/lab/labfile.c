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
#include "lab/nat-file.h"

#define LABFILE_SIZE_MAX (4u << 20) /* a lab of 5000 nodes is about 200 KiB */

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

static int decode_router_key(struct lf *lf, int key, const struct ynode *v, struct spec_router *rt)
{
	static const char *const pools[] = { "public", "private", "cgnat", NULL };
	static const char *const ips[] = { "dual", "v4", "v6", NULL };
	const char *s;
	uint64_t mtu;
	unsigned e;
	int r;

	switch (key) {
	case 0:
		r = y_str(&lf->y, v, "upstream", &s);
		rt->upstream = (char *)s;
		rt->upstream_loc = sloc(v);
		return r;
	case 1:
		r = y_enum(&lf->y, v, "pool", pools, "public, private or cgnat", &e);
		rt->pool = (enum lab_pool)e;
		return r;
	case 2:
		r = y_enum(&lf->y, v, "ip", ips, "v4, v6 or dual", &e);
		rt->ip = (enum lab_ipmode)e;
		return r;
	case 3:
		r = y_uint(&lf->y, v, "mtu", LAB_MTU_MIN, LAB_MTU_MAX, "576..9000", &mtu);
		rt->mtu = (unsigned)mtu;
		return r;
	case 4:
		rt->has_link = true;
		return decode_link(lf, v, &rt->link);
	case 5:
		rt->has_downlink = true;
		return decode_link(lf, v, &rt->downlink);
	default:
		rt->nat_loc = sloc(v);
		return nat_decode(&lf->y, v, &rt->nat);
	}
}

static int decode_router(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	static const char *const keys[] = { "upstream", "pool",	    "ip",  "mtu",
					    "link",	"downlink", "nat", NULL };
	struct spec_router rt = { .loc = sloc(k) };
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
	}
	for (size_t i = 0; v->type == Y_MAP && i + 1 < v->n; i += 2) {
		int key = y_key(&lf->y, v->kids[i], keys, SIZE_MAX, &seen);

		if (key < 0)
			return key;
		r = decode_router_key(lf, key, v->kids[i + 1], &rt);
		if (r < 0)
			return r;
	}
	if (rt.nat.enabled && rt.ip == LAB_IP_V6)
		return spec_error(lf->err, lf->spec, rt.nat_loc, EINVAL,
				  "router '%s': nat translates IPv4, and the router has 'ip: v6'",
				  rt.name);
	/* behind a NAT the pool is private (a carrier's shared space for cgnat) unless given */
	if (rt.nat.enabled && !(seen & (1u << 1)))
		rt.pool = rt.nat.carrier ? LAB_POOL_CGNAT : LAB_POOL_PRIVATE;
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

enum { K_LAB, K_SEED, K_DAD, K_RANGES, K_ROUTERS, K_DEVICES, K_DNS, K_LINKS, K_LINK_BACKEND };

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
	default:
		return decode_each(lf, v, "dns", decode_dns);
	}
}

static int decode_top(struct lf *lf, const struct ynode *root, bool *named)
{
	static const char *const keys[] = { "lab",     "seed", "dad",	"ranges",	"routers",
					    "devices", "dns",  "links", "link_backend", NULL };
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
