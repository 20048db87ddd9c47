/* SPDX-License-Identifier: MIT */
/*
 * lab/spec: the lab model before planning. Builder calls, name rules, a name
 * index, and validation of names, references, cycles, ranges and dns entries.
 */
#include "lab/spec.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/yaml.h"

#define NODE_RULE  "use a-z, 0-9 and '-', start with a letter, do not end with '-'"
#define IFACE_RULE "use A-Z, a-z, 0-9, '_' and '-', at most 15 characters, not 'lo'"

/*
 * Make room for element n of *arr. The capacity is implied by n (4, then
 * powers of two), which is why the arrays may only grow through this file.
 */
static int array_grow(void **arr, size_t n, size_t size)
{
	size_t cap;
	void *p;

	if (n == 0)
		cap = 4;
	else if (n < 4 || (n & (n - 1)) != 0)
		return 0;
	else
		cap = n * 2;
	p = reallocarray(*arr, cap, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

int spec_error(nslab_error *err, const struct lab_spec *spec, struct spec_loc loc, int code,
	       const char *fmt, ...)
{
	char msg[NSLAB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (spec && spec->file && loc.line)
		return nslab_err_setx(err, code, "%s:%u:%u: %s", spec->file, loc.line, loc.col,
				      msg);
	return nslab_err_setx(err, code, "%s", msg);
}

const char *spec_quote(const char *s, char buf[SPEC_QUOTE_MAX])
{
	return yaml_quote(s, buf);
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z');
}

bool spec_node_name_ok(const char *s)
{
	size_t n;

	if (!s || !is_lower(s[0]))
		return false;
	for (n = 0; s[n]; n++)
		if (!is_lower(s[n]) && !is_digit(s[n]) && s[n] != '-')
			return false;
	return n <= NODE_NAME_MAX && s[n - 1] != '-';
}

bool spec_lab_name_ok(const char *s)
{
	return spec_node_name_ok(s) && strlen(s) <= LAB_NAME_MAX;
}

bool spec_iface_name_ok(const char *s)
{
	size_t n;

	if (!s || !s[0] || strcmp(s, "lo") == 0)
		return false;
	for (n = 0; s[n]; n++)
		if (!is_alnum(s[n]) && s[n] != '_' && s[n] != '-')
			return false;
	return n < IFNAMSIZ;
}

bool spec_host_name_ok(const char *s)
{
	size_t label = 0, n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++) {
		if (s[n] == '.') {
			if (label == 0 || s[n - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum(s[n]) || (s[n] == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return n > 0 && n <= 253 && label > 0 && s[n - 1] != '-';
}

/* Builder calls */

static const char *const range_names[SPEC_RANGE__MAX] = {
	[SPEC_RANGE_IX4] = "ix4",	    [SPEC_RANGE_IX6] = "ix6",
	[SPEC_RANGE_PUBLIC4] = "public4",   [SPEC_RANGE_PUBLIC6] = "public6",
	[SPEC_RANGE_PRIVATE4] = "private4", [SPEC_RANGE_PRIVATE6] = "private6",
	[SPEC_RANGE_SUB4] = "sub4",	    [SPEC_RANGE_SUB6] = "sub6",
};

const char *spec_range_name(enum spec_range_id id)
{
	return id < SPEC_RANGE__MAX ? range_names[id] : "?";
}

struct nslab_prefix *spec_range_prefix(struct spec_ranges *r, enum spec_range_id id)
{
	switch (id) {
	case SPEC_RANGE_IX4:
		return &r->ix4;
	case SPEC_RANGE_IX6:
		return &r->ix6;
	case SPEC_RANGE_PUBLIC4:
		return &r->public4;
	case SPEC_RANGE_PUBLIC6:
		return &r->public6;
	case SPEC_RANGE_PRIVATE4:
		return &r->private4;
	case SPEC_RANGE_PRIVATE6:
		return &r->private6;
	case SPEC_RANGE_SUB4:
	case SPEC_RANGE_SUB6:
	case SPEC_RANGE__MAX:
		break;
	}
	return NULL;
}

void spec_ranges_default(struct spec_ranges *r)
{
	*r = (struct spec_ranges){ .sub4 = 24, .sub6 = 64 };
	/* Constants: these parse */
	(void)prefix_parse("198.18.0.0/22", true, &r->ix4, NULL);
	(void)prefix_parse("2001:db8::/64", true, &r->ix6, NULL);
	(void)prefix_parse("198.18.0.0/15", true, &r->public4, NULL);
	(void)prefix_parse("2001:db8:1::/48", true, &r->public6, NULL);
	(void)prefix_parse("10.0.0.0/8", true, &r->private4, NULL);
	(void)prefix_parse("fd10::/48", true, &r->private6, NULL);
}

int lab_spec_new(const char *name, struct lab_spec **ret, nslab_error *err)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;

	if (!name)
		return nslab_err_setx(err, EINVAL, "lab without a name");
	spec = calloc(1, sizeof(*spec));
	if (!spec || !(spec->name = strdup(name)))
		return nslab_err_set(err, ENOMEM, "allocate lab '%s'", name);
	spec_ranges_default(&spec->ranges);
	*ret = TAKE_PTR(spec);
	return 0;
}

static void spec_router_clear(struct spec_router *r)
{
	free(r->name);
	free(r->upstream);
	free(r->region);
	free(r->rules_file);
	free(r->rules_text);
}

static void spec_device_clear(struct spec_device *d)
{
	for (size_t j = 0; j < d->n_ifaces; j++) {
		free(d->ifaces[j].name);
		free(d->ifaces[j].router);
	}
	free(d->ifaces);
	free(d->name);
	free(d->default_via);
}

void lab_spec_remove_router(struct lab_spec *spec, size_t i)
{
	spec_router_clear(&spec->routers[i]);
	memmove(&spec->routers[i], &spec->routers[i + 1],
		(spec->n_routers - i - 1) * sizeof(*spec->routers));
	spec->n_routers--;
}

void lab_spec_remove_device(struct lab_spec *spec, size_t i)
{
	spec_device_clear(&spec->devices[i]);
	memmove(&spec->devices[i], &spec->devices[i + 1],
		(spec->n_devices - i - 1) * sizeof(*spec->devices));
	spec->n_devices--;
}

struct lab_spec *lab_spec_free(struct lab_spec *spec)
{
	if (!spec)
		return NULL;
	for (size_t i = 0; i < spec->n_routers; i++)
		spec_router_clear(&spec->routers[i]);
	for (size_t i = 0; i < spec->n_region_links; i++) {
		free(spec->region_links[i].a);
		free(spec->region_links[i].b);
	}
	free(spec->region_links);
	for (size_t i = 0; i < spec->n_devices; i++)
		spec_device_clear(&spec->devices[i]);
	for (size_t i = 0; i < spec->n_dns; i++) {
		free(spec->dns[i].name);
		free(spec->dns[i].target);
	}
	for (size_t i = 0; i < spec->n_links; i++)
		free(spec->links[i].name);
	free(spec->links);
	free(spec->routers);
	free(spec->devices);
	free(spec->dns);
	free(spec->dns_upstream);
	free(spec->name);
	free(spec->file);
	free(spec);
	return NULL;
}

/* strdup() that keeps NULL: false only when a copy was needed and failed. */
static bool dup_opt(const char *s, char **ret)
{
	*ret = s ? strdup(s) : NULL;
	return !s || *ret;
}

int lab_spec_add_router(struct lab_spec *spec, const struct spec_router *r, nslab_error *err)
{
	struct spec_router c = *r;

	c.name = c.upstream = c.region = c.rules_file = c.rules_text = NULL; /* copies below */
	if (!r->name)
		return nslab_err_setx(err, EINVAL, "router without a name");
	if (array_grow((void **)&spec->routers, spec->n_routers, sizeof(c)) < 0 ||
	    !dup_opt(r->name, &c.name) || !dup_opt(r->upstream, &c.upstream) ||
	    !dup_opt(r->region, &c.region) || !dup_opt(r->rules_file, &c.rules_file) ||
	    !dup_opt(r->rules_text, &c.rules_text)) {
		free(c.name);
		free(c.upstream);
		free(c.region);
		free(c.rules_file);
		return nslab_err_set(err, ENOMEM, "add router '%s'", r->name);
	}
	spec->routers[spec->n_routers++] = c;
	return 0;
}

int lab_spec_add_region(struct lab_spec *spec, const char *name, struct spec_loc loc,
			nslab_error *err)
{
	struct spec_router r = { .name = (char *)name, .loc = loc, .is_region = true };

	return lab_spec_add_router(spec, &r, err);
}

int lab_spec_add_region_link(struct lab_spec *spec, const struct spec_region_link *l,
			     nslab_error *err)
{
	struct spec_region_link c = *l;

	c.a = c.b = NULL;
	if (!l->a || !l->b)
		return nslab_err_setx(err, EINVAL, "region link without its two regions");
	if (array_grow((void **)&spec->region_links, spec->n_region_links, sizeof(c)) < 0 ||
	    !dup_opt(l->a, &c.a) || !dup_opt(l->b, &c.b)) {
		free(c.a);
		return nslab_err_set(err, ENOMEM, "add region link %s-%s", l->a, l->b);
	}
	spec->region_links[spec->n_region_links++] = c;
	return 0;
}

static bool has_region_link(const struct lab_spec *spec, const char *a, const char *b)
{
	for (size_t i = 0; i < spec->n_region_links; i++) {
		const struct spec_region_link *l = &spec->region_links[i];

		if ((strcmp(l->a, a) == 0 && strcmp(l->b, b) == 0) ||
		    (strcmp(l->a, b) == 0 && strcmp(l->b, a) == 0))
			return true;
	}
	return false;
}

int lab_spec_default_regions(struct lab_spec *spec, struct spec_loc loc, nslab_error *err)
{
	/* one-way delays (RTT is twice), as the triangle gives them */
	static const struct {
		const char *a, *b;
		uint64_t delay_ns;
	} tri[] = { { "us", "eu", 40000000 },
		    { "us", "asia", 95000000 },
		    { "eu", "asia", 120000000 } };
	static const char *const names[] = { "us", "eu", "asia" };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(names); i++)
		if (lab_spec_router_index(spec, names[i]) < 0)
			r = lab_spec_add_region(spec, names[i], loc, err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(tri); i++) {
		struct spec_region_link l = { .a = (char *)tri[i].a,
					      .b = (char *)tri[i].b,
					      .loc = loc,
					      .a_loc = loc,
					      .b_loc = loc };

		if (has_region_link(spec, tri[i].a, tri[i].b))
			continue;
		l.cond.up.delay_ns = l.cond.down.delay_ns = tri[i].delay_ns;
		r = lab_spec_add_region_link(spec, &l, err);
	}
	return r;
}

int lab_spec_add_device(struct lab_spec *spec, const char *name, struct spec_loc loc,
			nslab_error *err)
{
	struct spec_device d = { .loc = loc };

	if (!name)
		return nslab_err_setx(err, EINVAL, "device without a name");
	if (array_grow((void **)&spec->devices, spec->n_devices, sizeof(d)) < 0 ||
	    !dup_opt(name, &d.name))
		return nslab_err_set(err, ENOMEM, "add device '%s'", name);
	spec->devices[spec->n_devices++] = d;
	return 0;
}

int lab_spec_add_iface(struct lab_spec *spec, size_t device, const struct spec_iface *i,
		       nslab_error *err)
{
	struct spec_iface c = *i;
	struct spec_device *d;

	c.name = c.router = NULL; /* copies below; never free the caller's */
	if (device >= spec->n_devices || !i->name || !i->router)
		return nslab_err_setx(err, EINVAL, "interface without a device, name or router");
	d = &spec->devices[device];
	if (array_grow((void **)&d->ifaces, d->n_ifaces, sizeof(c)) < 0 ||
	    !dup_opt(i->name, &c.name) || !dup_opt(i->router, &c.router)) {
		free(c.name);
		return nslab_err_set(err, ENOMEM, "add interface '%s'", i->name);
	}
	d->ifaces[d->n_ifaces++] = c;
	return 0;
}

int lab_spec_add_link_preset(struct lab_spec *spec, const char *name,
			     const nslab_link_condition *cond, nslab_error *err)
{
	struct linkcond_named c = { .cond = *cond };

	if (array_grow((void **)&spec->links, spec->n_links, sizeof(c)) < 0 ||
	    !(c.name = strdup(name)))
		return nslab_err_set(err, ENOMEM, "add link preset '%s'", name);
	spec->links[spec->n_links++] = c;
	return 0;
}

int lab_spec_set_default_via(struct lab_spec *spec, size_t device, const char *ifname,
			     struct spec_loc loc, nslab_error *err)
{
	char *copy;

	if (device >= spec->n_devices)
		return nslab_err_setx(err, EINVAL, "default_via: no device %zu", device);
	if (!dup_opt(ifname, &copy))
		return nslab_err_set(err, ENOMEM, "set default_via");
	free(spec->devices[device].default_via);
	spec->devices[device].default_via = copy;
	spec->devices[device].default_via_loc = loc;
	return 0;
}

int lab_spec_add_dns(struct lab_spec *spec, const struct spec_dns *d, nslab_error *err)
{
	struct spec_dns c = *d;

	c.name = c.target = NULL; /* copies below; never free the caller's */
	if (!d->name || !d->target)
		return nslab_err_setx(err, EINVAL, "dns entry without a name or target");
	if (array_grow((void **)&spec->dns, spec->n_dns, sizeof(c)) < 0 ||
	    !dup_opt(d->name, &c.name) || !dup_opt(d->target, &c.target)) {
		free(c.name);
		return nslab_err_set(err, ENOMEM, "add dns entry '%s'", d->name);
	}
	spec->dns[spec->n_dns++] = c;
	return 0;
}

ssize_t lab_spec_router_index(const struct lab_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->n_routers; i++)
		if (strcmp(spec->routers[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

ssize_t lab_spec_device_index(const struct lab_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->n_devices; i++)
		if (strcmp(spec->devices[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Name index */

static struct spec_loc name_loc(const struct lab_spec *spec, const struct spec_name *e)
{
	return e->router ? spec->routers[e->index].loc : spec->devices[e->index].loc;
}

/* By name, then file order: location when known, routers before devices, index. */
static int name_cmp(const void *a, const void *b, void *userdata)
{
	const struct spec_name *x = a, *y = b;
	const struct lab_spec *spec = userdata;
	struct spec_loc lx, ly;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	lx = name_loc(spec, x);
	ly = name_loc(spec, y);
	if (lx.line != ly.line)
		return lx.line < ly.line ? -1 : 1;
	if (lx.col != ly.col)
		return lx.col < ly.col ? -1 : 1;
	if (x->router != y->router)
		return x->router ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int spec_names_build(const struct lab_spec *spec, struct spec_names *ret, nslab_error *err)
{
	size_t n = spec->n_routers + spec->n_devices, k = 0;
	struct spec_name *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return nslab_err_set(err, ENOMEM, "index %zu node names", n);
	for (size_t i = 0; i < spec->n_routers; i++)
		v[k++] = (struct spec_name){ spec->routers[i].name, i, true };
	for (size_t i = 0; i < spec->n_devices; i++)
		v[k++] = (struct spec_name){ spec->devices[i].name, i, false };
	qsort_r(v, n, sizeof(*v), name_cmp, (void *)spec);
	*ret = (struct spec_names){ v, n };
	return 0;
}

const struct spec_name *spec_names_find(const struct spec_names *names, const char *name)
{
	size_t lo = 0, hi = names->n;

	/* lower bound: the first entry not below name */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(names->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < names->n && strcmp(names->v[lo].name, name) == 0)
		return &names->v[lo];
	return NULL;
}

void spec_names_clear(struct spec_names *names)
{
	free(names->v);
	*names = (struct spec_names){ 0 };
}

/* Validation */

static bool loc_before(struct spec_loc a, struct spec_loc b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

static int check_counts(const struct lab_spec *spec, nslab_error *err)
{
	size_t ifaces = 0;

	if (spec->n_routers > LAB_ROUTERS_MAX)
		return spec_error(err, spec, spec->routers[LAB_ROUTERS_MAX].loc, EINVAL,
				  "too many routers (at most %d)", LAB_ROUTERS_MAX);
	if (spec->n_devices > LAB_DEVICES_MAX)
		return spec_error(err, spec, spec->devices[LAB_DEVICES_MAX].loc, EINVAL,
				  "too many devices (at most %d)", LAB_DEVICES_MAX);
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct spec_device *d = &spec->devices[i];

		if (d->n_ifaces > LAB_DEVICE_IFACES_MAX)
			return spec_error(err, spec, d->ifaces[LAB_DEVICE_IFACES_MAX].loc, EINVAL,
					  "device '%s': too many interfaces (at most %d)", d->name,
					  LAB_DEVICE_IFACES_MAX);
		ifaces += d->n_ifaces;
		if (ifaces > LAB_IFACES_MAX)
			return spec_error(err, spec, d->loc, EINVAL,
					  "too many interfaces in the lab (at most %d)",
					  LAB_IFACES_MAX);
	}
	return 0;
}

/*
 * "ix" names the lab root (`nslab exec LAB ix`, `status --json`), so no router
 * or device may take it. A device with count: is "name-N", never "ix".
 */
#define LAB_ROOT_NAME "ix"

static int check_not_root_name(const struct lab_spec *spec, const char *name, struct spec_loc loc,
			       nslab_error *err)
{
	if (strcmp(name, LAB_ROOT_NAME) == 0)
		return spec_error(err, spec, loc, EINVAL,
				  "'%s' is the lab root's name: choose another", name);
	return 0;
}

static int check_device_names(const struct lab_spec *spec, const struct spec_device *d,
			      nslab_error *err)
{
	int r;

	if (!spec_node_name_ok(d->name))
		return spec_error(err, spec, d->loc, EINVAL,
				  "bad device name '%s': " NODE_RULE ", at most %d characters",
				  SPEC_Q(d->name), NODE_NAME_MAX);
	r = check_not_root_name(spec, d->name, d->loc, err);
	if (r < 0)
		return r;
	if (d->n_ifaces == 0)
		return spec_error(err, spec, d->loc, EINVAL, "device '%s' has no interfaces",
				  d->name);
	for (size_t j = 0; j < d->n_ifaces; j++) {
		const struct spec_iface *f = &d->ifaces[j];

		if (!spec_iface_name_ok(f->name))
			return spec_error(err, spec, f->loc, EINVAL,
					  "bad interface name '%s' in device '%s': " IFACE_RULE,
					  SPEC_Q(f->name), d->name);
		/* At most LAB_DEVICE_IFACES_MAX: quadratic is fine */
		for (size_t k = 0; k < j; k++)
			if (strcmp(d->ifaces[k].name, f->name) == 0)
				return spec_error(err, spec, f->loc, EINVAL,
						  "duplicate interface '%s' in device '%s'",
						  f->name, d->name);
	}
	return 0;
}

static int check_names(const struct lab_spec *spec, nslab_error *err)
{
	int r;

	if (!spec_lab_name_ok(spec->name))
		return spec_error(err, spec, (struct spec_loc){ 0 }, EINVAL,
				  "bad lab name '%s': " NODE_RULE ", at most %d characters",
				  SPEC_Q(spec->name), LAB_NAME_MAX);
	for (size_t i = 0; i < spec->n_routers; i++) {
		if (!spec_node_name_ok(spec->routers[i].name))
			return spec_error(err, spec, spec->routers[i].loc, EINVAL,
					  "bad router name '%s': " NODE_RULE
					  ", at most %d characters",
					  SPEC_Q(spec->routers[i].name), NODE_NAME_MAX);
		r = check_not_root_name(spec, spec->routers[i].name, spec->routers[i].loc, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < spec->n_devices; i++) {
		r = check_device_names(spec, &spec->devices[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Routers and devices share one namespace of names; report the duplicate that comes last. */
static int check_duplicates(const struct lab_spec *spec, const struct spec_names *names,
			    nslab_error *err)
{
	const struct spec_name *first = NULL, *dup = NULL;

	for (size_t i = 1; i < names->n; i++) {
		const struct spec_name *a = &names->v[i - 1], *b = &names->v[i];

		if (strcmp(a->name, b->name) != 0)
			continue;
		/* Of all duplicates, report the one that comes first in the file */
		if (!dup || loc_before(name_loc(spec, b), name_loc(spec, dup))) {
			first = a;
			dup = b;
		}
	}
	if (!dup)
		return 0;
	/* a run of three or more: point at its first element */
	while (first > names->v && strcmp(first[-1].name, first->name) == 0)
		first--;
	if (name_loc(spec, first).line)
		return spec_error(err, spec, name_loc(spec, dup), EINVAL,
				  "duplicate name '%s' (already used by the %s at %u:%u)",
				  dup->name, first->router ? "router" : "device",
				  name_loc(spec, first).line, name_loc(spec, first).col);
	return spec_error(err, spec, name_loc(spec, dup), EINVAL,
			  "duplicate name '%s' (already used by a %s)", dup->name,
			  first->router ? "router" : "device");
}

/* name must be a router: 0, or an error at loc. */
static int check_router_ref(const struct lab_spec *spec, const struct spec_names *names,
			    const char *name, struct spec_loc loc, nslab_error *err)
{
	const struct spec_name *e = spec_names_find(names, name);

	if (!e)
		return spec_error(err, spec, loc, EINVAL, "unknown router '%s'", SPEC_Q(name));
	if (!e->router)
		return spec_error(err, spec, loc, EINVAL, "'%s' is a device, not a router", name);
	if (spec->routers[e->index].is_region)
		return spec_error(err, spec, loc, EINVAL,
				  "'%s' is a region, not a router (a router joins it with "
				  "'region: %s')",
				  name, name);
	return 0;
}

static int check_region_ref(const struct lab_spec *spec, const struct spec_names *names,
			    const char *name, struct spec_loc loc, nslab_error *err)
{
	const struct spec_name *e = spec_names_find(names, name);

	if (!e)
		return spec_error(err, spec, loc, EINVAL, "unknown region '%s'", SPEC_Q(name));
	if (!e->router || !spec->routers[e->index].is_region)
		return spec_error(err, spec, loc, EINVAL,
				  "'%s' is a %s, not a region (regions are under 'regions:')", name,
				  e->router ? "router" : "device");
	return 0;
}

/* The region a router is in (its own `region:`): checked before its upstream. */
static int check_router_region(const struct lab_spec *spec, const struct spec_names *names,
			       const struct spec_router *rt, nslab_error *err)
{
	if (rt->is_region && (rt->upstream || rt->region))
		return spec_error(err, spec, rt->loc, EINVAL,
				  "region '%s' has no upstream and is in no region", rt->name);
	if (!rt->region)
		return 0;
	if (rt->upstream)
		return spec_error(err, spec, rt->region_loc, EINVAL,
				  "router '%s': 'region' and 'upstream' exclude each other (a "
				  "router behind another is in its upstream's region)",
				  rt->name);
	return check_region_ref(spec, names, rt->region, rt->region_loc, err);
}

static int check_region_links(const struct lab_spec *spec, const struct spec_names *names,
			      nslab_error *err)
{
	for (size_t i = 0; i < spec->n_region_links; i++) {
		const struct spec_region_link *l = &spec->region_links[i];
		int r = check_region_ref(spec, names, l->a, l->a_loc, err);

		if (r >= 0)
			r = check_region_ref(spec, names, l->b, l->b_loc, err);
		if (r < 0)
			return r;
		if (strcmp(l->a, l->b) == 0)
			return spec_error(err, spec, l->b_loc, EINVAL,
					  "region link from '%s' to itself", l->a);
		for (size_t j = 0; j < i; j++) {
			const struct spec_region_link *o = &spec->region_links[j];

			if ((strcmp(o->a, l->a) == 0 && strcmp(o->b, l->b) == 0) ||
			    (strcmp(o->a, l->b) == 0 && strcmp(o->b, l->a) == 0))
				return spec_error(err, spec, l->loc, EINVAL,
						  "regions '%s' and '%s' are linked twice", l->a,
						  l->b);
		}
	}
	return 0;
}

static int check_device_refs(const struct lab_spec *spec, const struct spec_names *names,
			     const struct spec_device *d, nslab_error *err)
{
	bool via_found = !d->default_via;
	int r;

	for (size_t j = 0; j < d->n_ifaces; j++) {
		r = check_router_ref(spec, names, d->ifaces[j].router, d->ifaces[j].router_loc,
				     err);
		if (r < 0)
			return r;
		if (d->default_via && strcmp(d->default_via, d->ifaces[j].name) == 0)
			via_found = true;
	}
	if (!via_found)
		return spec_error(err, spec, d->default_via_loc, EINVAL,
				  "default_via: device '%s' has no interface '%s'", d->name,
				  SPEC_Q(d->default_via));
	return 0;
}

static unsigned ip_families(enum lab_ipmode ip)
{
	return ip == LAB_IP_V4 ? 1u : ip == LAB_IP_V6 ? 2u : 3u;
}

static const char *ip_name(enum lab_ipmode ip)
{
	return ip == LAB_IP_V4 ? "v4" : ip == LAB_IP_V6 ? "v6" : "dual";
}

static int check_router(const struct lab_spec *spec, const struct spec_names *names,
			const struct spec_router *rt, nslab_error *err)
{
	const struct spec_router *up;
	int r;

	if (rt->mtu && (rt->mtu < LAB_MTU_MIN || rt->mtu > LAB_MTU_MAX))
		return spec_error(err, spec, rt->loc, EINVAL,
				  "router '%s': mtu %u out of range %d..%d", rt->name, rt->mtu,
				  LAB_MTU_MIN, LAB_MTU_MAX);
	if ((unsigned)rt->ip > LAB_IP_V6 || (unsigned)rt->pool > LAB_POOL_CGNAT)
		return spec_error(err, spec, rt->loc, EINVAL, "router '%s': bad ip or pool",
				  rt->name);
	r = check_router_region(spec, names, rt, err);
	if (r < 0 || !rt->upstream)
		return r;
	if (!rt->upstream)
		return 0;
	r = check_router_ref(spec, names, rt->upstream, rt->upstream_loc, err);
	if (r < 0)
		return r;
	up = &spec->routers[spec_names_find(names, rt->upstream)->index];
	if (!(ip_families(rt->ip) & ip_families(up->ip)))
		return spec_error(err, spec, rt->upstream_loc, EINVAL,
				  "router '%s' (ip: %s) shares no IP family with its upstream "
				  "'%s' (ip: %s)",
				  rt->name, ip_name(rt->ip), up->name, ip_name(up->ip));
	return 0;
}

static int check_refs(const struct lab_spec *spec, const struct spec_names *names, nslab_error *err)
{
	int r;

	for (size_t i = 0; i < spec->n_routers; i++) {
		r = check_router(spec, names, &spec->routers[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < spec->n_devices; i++) {
		r = check_device_refs(spec, names, &spec->devices[i], err);
		if (r < 0)
			return r;
	}
	return check_region_links(spec, names, err);
}

/* Report the cycle through router start as "a -> b -> a", from its first router in file order. */
static int cycle_error(const struct lab_spec *spec, const ssize_t *up, size_t start,
		       nslab_error *err)
{
	char buf[NSLAB_ERROR_MSG_MAX];
	size_t first = start, x, off;

	for (x = (size_t)up[start]; x != start; x = (size_t)up[x])
		if (x < first)
			first = x;
	off = (size_t)snprintf(buf, sizeof(buf), "%s", spec->routers[first].name);
	x = first;
	do {
		x = (size_t)up[x];
		if (off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, " -> %s",
						spec->routers[x].name);
	} while (x != first);
	return spec_error(err, spec, spec->routers[first].upstream_loc, EINVAL,
			  "upstream cycle: %s", buf);
}

static int check_cycles(const struct lab_spec *spec, const struct spec_names *names,
			nslab_error *err)
{
	_cleanup_free_ ssize_t *up = calloc(spec->n_routers + 1, sizeof(*up));
	_cleanup_free_ size_t *mark = calloc(spec->n_routers + 1, sizeof(*mark));

	if (!up || !mark)
		return nslab_err_set(err, ENOMEM, "check upstream cycles");
	for (size_t i = 0; i < spec->n_routers; i++)
		up[i] = spec->routers[i].upstream
				? (ssize_t)spec_names_find(names, spec->routers[i].upstream)->index
				: -1;
	/* Walk up from each router, marking with the walk's number; meeting the same mark is a cycle */
	for (size_t i = 0; i < spec->n_routers; i++) {
		ssize_t x = (ssize_t)i;

		while (x >= 0 && !mark[x]) {
			mark[x] = i + 1;
			x = up[x];
		}
		if (x >= 0 && mark[x] == i + 1)
			return cycle_error(spec, up, (size_t)x, err);
	}
	return 0;
}

static int range_family(enum spec_range_id id)
{
	return id == SPEC_RANGE_IX4 || id == SPEC_RANGE_PUBLIC4 || id == SPEC_RANGE_PRIVATE4
		       ? AF_INET
		       : AF_INET6;
}

/*
 * Blocks the kernel refuses as an interface address or a route's gateway, or
 * that mean something else on a host: a range that touches one fails the
 * build half-way (or quietly misroutes), so it is refused with the file's place.
 */
static const struct {
	const char *prefix, *what;
} special_blocks[] = {
	{ "0.0.0.0/8", "'this network'" },
	{ "127.0.0.0/8", "loopback" },
	{ "169.254.0.0/16", "link-local" },
	{ "224.0.0.0/4", "multicast" },
	{ "255.255.255.255/32", "the broadcast address" },
	{ "::/128", "the unspecified address" },
	{ "::1/128", "loopback" },
	{ "::ffff:0:0/96", "IPv4-mapped" },
	{ "fe80::/10", "link-local" },
	{ "ff00::/8", "multicast" },
};

/* The special block p overlaps (its text in buf, PREFIX_STRLEN bytes), or NULL. */
static const char *special_block(const struct nslab_prefix *p, char *buf)
{
	for (size_t i = 0; i < ARRAY_SIZE(special_blocks); i++) {
		struct nslab_prefix b;

		if (prefix_parse(special_blocks[i].prefix, true, &b, NULL) == 0 &&
		    prefix_overlaps(p, &b)) {
			snprintf(buf, PREFIX_STRLEN, "%s", special_blocks[i].prefix);
			return special_blocks[i].what;
		}
	}
	return NULL;
}

static int check_range_prefix(const struct lab_spec *spec, enum spec_range_id id, nslab_error *err)
{
	char block[PREFIX_STRLEN];
	const char *what;
	struct spec_ranges r = spec->ranges;
	const struct nslab_prefix *p = spec_range_prefix(&r, id);
	int fam = range_family(id);
	char buf[PREFIX_STRLEN];

	if (p->family != fam)
		return spec_error(err, spec, r.at[id], EINVAL,
				  "ranges: %s '%s' is not an IPv%d prefix", spec_range_name(id),
				  prefix_format(p, true, buf, sizeof(buf)), fam == AF_INET ? 4 : 6);
	if (!prefix_is_network(p))
		return spec_error(err, spec, r.at[id], EINVAL, "ranges: %s '%s' has host bits set",
				  spec_range_name(id), prefix_format(p, true, buf, sizeof(buf)));
	if ((id == SPEC_RANGE_IX4 && p->len > 30) || (id == SPEC_RANGE_IX6 && p->len > 126))
		return spec_error(err, spec, r.at[id], EINVAL, "ranges: %s '%s' is too small",
				  spec_range_name(id), prefix_format(p, true, buf, sizeof(buf)));
	what = special_block(p, block);
	if (what)
		return spec_error(err, spec, r.at[id], EINVAL,
				  "ranges: %s '%s' overlaps %s (%s): not usable for interface "
				  "addresses",
				  spec_range_name(id), prefix_format(p, true, buf, sizeof(buf)),
				  block, what);
	return 0;
}

/* sub (SUB4 or SUB6) must fit in both pools of its family and leave room for devices. */
static int check_range_sub(const struct lab_spec *spec, enum spec_range_id sub,
			   enum spec_range_id pub, enum spec_range_id priv, nslab_error *err)
{
	struct spec_ranges r = spec->ranges;
	unsigned len = sub == SPEC_RANGE_SUB4 ? r.sub4 : r.sub6;
	unsigned max = sub == SPEC_RANGE_SUB4 ? 30 : 126;
	enum spec_range_id pools[] = { pub, priv };
	char buf[PREFIX_STRLEN];

	if (len > max)
		return spec_error(err, spec, r.at[sub], EINVAL,
				  "ranges: %s /%u leaves no room for devices (at most /%u)",
				  spec_range_name(sub), len, max);
	for (size_t i = 0; i < ARRAY_SIZE(pools); i++) {
		const struct nslab_prefix *p = spec_range_prefix(&r, pools[i]);

		/* either was overridden: point at the later one */
		if (len < p->len)
			return spec_error(err, spec,
					  loc_before(r.at[sub], r.at[pools[i]]) ? r.at[pools[i]]
										: r.at[sub],
					  EINVAL, "ranges: %s /%u does not fit in %s %s",
					  spec_range_name(sub), len, spec_range_name(pools[i]),
					  prefix_format(p, true, buf, sizeof(buf)));
	}
	return 0;
}

/* a and b must not overlap; the message points at whichever was given later in the file. */
static int check_range_pair(const struct lab_spec *spec, enum spec_range_id a, enum spec_range_id b,
			    nslab_error *err)
{
	struct spec_ranges r = spec->ranges;
	char ba[PREFIX_STRLEN], bb[PREFIX_STRLEN];
	enum spec_range_id t;

	if (!prefix_overlaps(spec_range_prefix(&r, a), spec_range_prefix(&r, b)))
		return 0;
	if (loc_before(r.at[a], r.at[b])) {
		t = a;
		a = b;
		b = t;
	}
	return spec_error(
		err, spec, r.at[a], EINVAL, "ranges: %s %s overlaps %s %s", spec_range_name(a),
		prefix_format(spec_range_prefix(&r, a), true, ba, sizeof(ba)), spec_range_name(b),
		prefix_format(spec_range_prefix(&r, b), true, bb, sizeof(bb)));
}

/* A public pool may contain the IX (its subnets are skipped), but not lie inside it. */
static int check_public_ix(const struct lab_spec *spec, enum spec_range_id pub,
			   enum spec_range_id ix, nslab_error *err)
{
	struct spec_ranges r = spec->ranges;
	const struct nslab_prefix *p = spec_range_prefix(&r, pub), *x = spec_range_prefix(&r, ix);
	char bp[PREFIX_STRLEN], bx[PREFIX_STRLEN];

	if (!prefix_overlaps(p, x) || x->len > p->len)
		return 0;
	return spec_error(err, spec, loc_before(r.at[pub], r.at[ix]) ? r.at[ix] : r.at[pub], EINVAL,
			  "ranges: %s %s lies inside %s %s", spec_range_name(pub),
			  prefix_format(p, true, bp, sizeof(bp)), spec_range_name(ix),
			  prefix_format(x, true, bx, sizeof(bx)));
}

static int check_ranges(const struct lab_spec *spec, nslab_error *err)
{
	static const enum spec_range_id pairs[][2] = {
		{ SPEC_RANGE_PRIVATE4, SPEC_RANGE_PUBLIC4 },
		{ SPEC_RANGE_PRIVATE4, SPEC_RANGE_IX4 },
		{ SPEC_RANGE_PRIVATE6, SPEC_RANGE_PUBLIC6 },
		{ SPEC_RANGE_PRIVATE6, SPEC_RANGE_IX6 },
	};
	int r;

	for (enum spec_range_id id = SPEC_RANGE_IX4; id <= SPEC_RANGE_PRIVATE6; id++) {
		r = check_range_prefix(spec, id, err);
		if (r < 0)
			return r;
	}
	r = check_range_sub(spec, SPEC_RANGE_SUB4, SPEC_RANGE_PUBLIC4, SPEC_RANGE_PRIVATE4, err);
	if (r >= 0)
		r = check_range_sub(spec, SPEC_RANGE_SUB6, SPEC_RANGE_PUBLIC6, SPEC_RANGE_PRIVATE6,
				    err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(pairs); i++)
		r = check_range_pair(spec, pairs[i][0], pairs[i][1], err);
	if (r >= 0)
		r = check_public_ix(spec, SPEC_RANGE_PUBLIC4, SPEC_RANGE_IX4, err);
	if (r >= 0)
		r = check_public_ix(spec, SPEC_RANGE_PUBLIC6, SPEC_RANGE_IX6, err);
	return r;
}

static int dns_cmp(const void *a, const void *b, void *userdata)
{
	const struct lab_spec *spec = userdata;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcasecmp(spec->dns[x].name, spec->dns[y].name);

	return r ? r : (x > y) - (x < y);
}

static int check_dns_entry(const struct lab_spec *spec, const struct spec_names *names,
			   const struct spec_dns *d, nslab_error *err)
{
	struct nslab_prefix p;

	if (!spec_host_name_ok(d->name))
		return spec_error(err, spec, d->loc, EINVAL,
				  "bad host name '%s': use dot-separated labels of A-Z, a-z, "
				  "0-9 and '-'",
				  SPEC_Q(d->name));
	if (spec_names_find(names, d->target))
		return 0;
	if (!strchr(d->target, '/') && prefix_parse(d->target, false, &p, NULL) == 0) {
		char block[PREFIX_STRLEN];
		const char *what = special_block(&p, block);

		if (!what)
			return 0;
		return spec_error(err, spec, d->target_loc, EINVAL,
				  "dns target '%s' is in %s (%s): not a host's address",
				  SPEC_Q(d->target), block, what);
	}
	return spec_error(err, spec, d->target_loc, EINVAL,
			  "unknown node '%s' (expected a node name or an IP address)",
			  SPEC_Q(d->target));
}

/* `dns_upstream:` a node of the lab, or a host's address (no prefix length). */
static int check_dns_upstream(const struct lab_spec *spec, const struct spec_names *names,
			      nslab_error *err)
{
	struct nslab_prefix p;

	if (!spec->dns_upstream || spec_names_find(names, spec->dns_upstream))
		return 0;
	if (!strchr(spec->dns_upstream, '/') &&
	    prefix_parse(spec->dns_upstream, false, &p, NULL) == 0)
		return 0;
	return spec_error(err, spec, spec->dns_upstream_loc, EINVAL,
			  "dns_upstream '%s': not a node of the lab nor an IP address",
			  SPEC_Q(spec->dns_upstream));
}

static int check_dns(const struct lab_spec *spec, const struct spec_names *names, nslab_error *err)
{
	_cleanup_free_ size_t *order = calloc(spec->n_dns + 1, sizeof(*order));
	const struct spec_dns *dup = NULL;
	int r;

	if (!order)
		return nslab_err_set(err, ENOMEM, "check dns entries");
	for (size_t i = 0; i < spec->n_dns; i++) {
		r = check_dns_entry(spec, names, &spec->dns[i], err);
		if (r < 0)
			return r;
		order[i] = i;
	}
	qsort_r(order, spec->n_dns, sizeof(*order), dns_cmp, (void *)spec);
	for (size_t i = 1; i < spec->n_dns; i++) {
		const struct spec_dns *b = &spec->dns[order[i]];

		if (strcasecmp(spec->dns[order[i - 1]].name, b->name) == 0 &&
		    (!dup || loc_before(b->loc, dup->loc)))
			dup = b;
	}
	if (dup)
		return spec_error(err, spec, dup->loc, EINVAL, "duplicate dns name '%s'",
				  dup->name);
	return 0;
}

int lab_spec_validate(const struct lab_spec *spec, nslab_error *err)
{
	_cleanup_(spec_names_clearp) struct spec_names names = { 0 };
	int r;

	r = check_counts(spec, err);
	if (r >= 0)
		r = check_names(spec, err);
	if (r >= 0)
		r = spec_names_build(spec, &names, err);
	if (r >= 0)
		r = check_duplicates(spec, &names, err);
	if (r >= 0)
		r = check_refs(spec, &names, err);
	if (r >= 0)
		r = check_cycles(spec, &names, err);
	if (r >= 0)
		r = check_ranges(spec, err);
	if (r >= 0)
		r = check_dns(spec, &names, err);
	if (r >= 0)
		r = check_dns_upstream(spec, &names, err);
	return r < 0 ? r : 0;
}
