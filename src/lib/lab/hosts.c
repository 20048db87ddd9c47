/* SPDX-License-Identifier: MIT */
/*
 * lab/hosts: names inside the lab. The /etc/hosts text every spawned process
 * sees (<node>.<lab>.test and the lab file's dns: entries), its changes while
 * the lab runs (nslab_lab_set_dns()), and the NSLAB_IP_* environment.
 */
#include "lab/lab.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/json.h"

extern char **environ;

ssize_t lab_node_primary_iface(const struct plan_node *pn)
{
	if (pn->n_ifaces == 0)
		return -1;
	if (pn->kind == PLAN_DEVICE && pn->default_iface >= 0)
		return pn->default_iface;
	return 0;
}

/* A node's address for a family: its primary iface's, else the first iface's that has one. */
static const struct nslab_prefix *node_addr(const struct plan_node *pn, int family)
{
	ssize_t p = lab_node_primary_iface(pn);

	for (ssize_t k = -1; k < (ssize_t)pn->n_ifaces; k++) {
		ssize_t i = k < 0 ? p : k;
		const struct nslab_prefix *a;

		if (i < 0)
			continue;
		a = family == AF_INET ? &pn->ifaces[i].a4 : &pn->ifaces[i].a6;
		if (prefix_is_set(a))
			return a;
	}
	if (pn->has_bridge) {
		const struct nslab_prefix *a = family == AF_INET ? &pn->down4 : &pn->down6;

		return prefix_is_set(a) ? a : NULL;
	}
	return NULL;
}

static void hosts_line(FILE *f, const struct nslab_prefix *a, const char *name, const char *lab)
{
	char buf[PREFIX_STRLEN];

	if (!a)
		return;
	if (lab)
		fprintf(f, "%s\t%s.%s.test %s\n", prefix_format(a, false, buf, sizeof(buf)), name,
			lab, name);
	else
		fprintf(f, "%s\t%s\n", prefix_format(a, false, buf, sizeof(buf)), name);
}

static void hosts_dns(FILE *f, const struct nslab_lab *lab, const struct spec_dns *d)
{
	ssize_t i = lab_plan_find(lab->plan, d->target);
	struct nslab_prefix lit;

	if (i >= 0) {
		hosts_line(f, node_addr(&lab->plan->nodes[i], AF_INET), d->name, NULL);
		hosts_line(f, node_addr(&lab->plan->nodes[i], AF_INET6), d->name, NULL);
	} else if (prefix_parse(d->target, false, &lit, NULL) == 0) {
		hosts_line(f, &lit, d->name, NULL);
	}
}

int lab_resolv_text(const struct nslab_lab *lab, char **ret, nslab_error *err)
{
	const struct plan_node *root = &lab->plan->nodes[0];
	char a4[PREFIX_STRLEN], a6[PREFIX_STRLEN];

	/*
	 * One try of 1 s per server: the lab's DNS answers at once or not at all
	 * (no supervisor: nothing listens, and the port unreachable error fails
	 * the lookup at once).
	 */
	if (asprintf(ret,
		     "# lab '%s', written by nslab: the lab's DNS, answered by its supervisor\n"
		     "nameserver %s\nnameserver %s\nsearch %s.test\n"
		     "options timeout:1 attempts:1\n",
		     lab->spec->name, prefix_format(&root->down4, false, a4, sizeof(a4)),
		     prefix_format(&root->down6, false, a6, sizeof(a6)), lab->spec->name) < 0)
		return nslab_err_set(err, ENOMEM, "build the resolv.conf file");
	return 0;
}

/* Whether some client of the lab gets DNS64 answers (labdns_wants_dns64()). */
static bool lab_has_dns64(const struct nslab_lab *lab)
{
	if (lab->spec->dns64)
		return true;
	for (size_t i = 1; i < lab->plan->n_nodes; i++) {
		const struct plan_node *pn = &lab->plan->nodes[i];

		if (pn->kind == PLAN_ROUTER &&
		    lab->spec->routers[pn->spec_index].nat6 == NAT6_NAT64)
			return true;
	}
	return false;
}

/*
 * One file serves every node. Where some clients get DNS64 answers, a node
 * with an IPv4 address only is left to the lab's DNS: a line of its IPv4
 * address would answer a v6-only client's lookup of any family (curl's,
 * getent ahosts') before the DNS is asked, with an address it cannot reach.
 */
int lab_hosts_text(const struct nslab_lab *lab, char **ret, nslab_error *err)
{
	bool v4_only_to_dns = lab_has_dns64(lab);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return nslab_err_set(err, errno, "build the hosts file");
	fputs("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", f);
	fprintf(f, "# lab '%s', written by nslab\n", lab->spec->name);
	for (size_t i = 1; i < lab->plan->n_nodes; i++) {
		const struct plan_node *pn = &lab->plan->nodes[i];
		const struct nslab_prefix *a6 = node_addr(pn, AF_INET6);

		if (!a6 && v4_only_to_dns)
			continue;
		hosts_line(f, node_addr(pn, AF_INET), pn->name, lab->spec->name);
		hosts_line(f, a6, pn->name, lab->spec->name);
	}
	for (size_t i = 0; i < lab->spec->n_dns; i++)
		hosts_dns(f, lab, &lab->spec->dns[i]);
	if (fclose(f) != 0 || !text) {
		free(text);
		return nslab_err_set(err, ENOMEM, "build the hosts file");
	}
	*ret = text;
	return 0;
}

/* name is "<node>.<lab>.test" (any case): the node's plan index, else -1. */
static ssize_t lab_test_node(const struct nslab_lab *lab, const char *name)
{
	const char *lab_name = lab->spec->name;
	size_t n = strlen(name), ln = strlen(lab_name);
	char node[256];

	/* ".<lab>.test" after at least one character */
	if (n < ln + 7 || strcasecmp(name + n - 5, ".test") != 0 ||
	    strncasecmp(name + n - 5 - ln, lab_name, ln) != 0 || name[n - 6 - ln] != '.' ||
	    n - 6 - ln >= sizeof(node))
		return -1;
	memcpy(node, name, n - 6 - ln);
	node[n - 6 - ln] = '\0';
	for (size_t i = 1; i < lab->plan->n_nodes; i++)
		if (strcasecmp(lab->plan->nodes[i].name, node) == 0)
			return (ssize_t)i;
	return -1;
}

int lab_target_addr(const struct nslab_lab *lab, const char *target, int family,
		    struct nslab_prefix *ret)
{
	ssize_t i = lab_plan_find(lab->plan, target);
	const struct nslab_prefix *a = i > 0 ? node_addr(&lab->plan->nodes[i], family) : NULL;
	struct nslab_prefix lit;

	if (i <= 0 && prefix_parse(target, false, &lit, NULL) == 0 && lit.family == family)
		a = &lit;
	if (!a)
		return -ENOENT;
	*ret = *a;
	return 0;
}

int lab_name_lookup(const struct nslab_lab *lab, const char *name, int family,
		    struct nslab_prefix *ret)
{
	const struct nslab_prefix *a = NULL;
	ssize_t i = lab_test_node(lab, name);
	char zone[256];

	if (i > 0) {
		a = node_addr(&lab->plan->nodes[i], family);
	} else {
		const struct spec_dns *d = NULL;
		struct nslab_prefix lit;

		for (size_t k = 0; !d && k < lab->spec->n_dns; k++)
			if (strcasecmp(lab->spec->dns[k].name, name) == 0)
				d = &lab->spec->dns[k];
		snprintf(zone, sizeof(zone), "%s.test", lab->spec->name);
		if (!d)
			return strcasecmp(name, zone) == 0 ? 0 : -ENOENT;
		i = lab_plan_find(lab->plan, d->target);
		if (i >= 0)
			a = node_addr(&lab->plan->nodes[i], family);
		else if (prefix_parse(d->target, false, &lit, NULL) == 0 && lit.family == family)
			a = &lit;
		if (a) {
			*ret = *a;
			return 1;
		}
		return 0;
	}
	if (!a)
		return 0;
	*ret = *a;
	return 1;
}

/* A built lab's name target: a node of it, or an address of a host. */
static int check_dns_target(const struct nslab_lab *lab, const char *target, nslab_error *err)
{
	struct nslab_prefix lit;

	if (lab_plan_find(lab->plan, target) > 0)
		return 0;
	if (!strchr(target, '/') && prefix_parse(target, false, &lit, NULL) == 0)
		return 0;
	return nslab_err_setx(err, EINVAL,
			      "dns target '%s': not a node of lab '%s' nor an IP address", target,
			      lab->spec->name);
}

/* The spec's entries with the name set to target (NULL: without it). */
static int spec_set_dns(struct lab_spec *spec, const char *name, const char *target,
			nslab_error *err)
{
	struct spec_dns d = { .name = (char *)name, .target = (char *)target };
	char *copy;

	for (size_t i = 0; i < spec->n_dns; i++) {
		if (strcasecmp(spec->dns[i].name, name) != 0)
			continue;
		if (!target) {
			free(spec->dns[i].name);
			free(spec->dns[i].target);
			memmove(&spec->dns[i], &spec->dns[i + 1],
				(spec->n_dns - i - 1) * sizeof(spec->dns[i]));
			spec->n_dns--;
			return 0;
		}
		if (!(copy = strdup(target)))
			return nslab_err_set(err, ENOMEM, "dns name '%s'", name);
		free(spec->dns[i].target);
		spec->dns[i].target = copy;
		return 0;
	}
	if (!target)
		return nslab_err_setx(err, ENOENT, "no dns name '%s' in lab '%s'", name,
				      spec->name);
	return lab_spec_add_dns(spec, &d, err);
}

int lab_hosts_rewrite(struct nslab_lab *lab, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	ssize_t n;
	int r;

	if (lab->hosts_fd < 0)
		return 0;
	r = lab_hosts_text(lab, &text, err);
	if (r < 0)
		return r;
	len = strlen(text);
	/* a reader between the two calls sees an empty or short file: resolvers read it whole at
	 * each lookup, so the next lookup has it all */
	if (ftruncate(lab->hosts_fd, 0) < 0)
		return nslab_err_set(err, errno, "rewrite the lab's hosts file");
	n = pwrite(lab->hosts_fd, text, len, 0);
	if (n != (ssize_t)len)
		return nslab_err_set(err, n < 0 ? errno : EIO, "rewrite the lab's hosts file");
	return 0;
}

static void emit_dns(struct nslab_lab *lab, const char *name, const char *target)
{
	struct jw *w = evlog_begin(&lab->ev, "dns_changed");

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "name", name);
	if (target)
		jw_str(w, "target", target);
	else
		jw_raw(w, "target", "null");
	evlog_end(&lab->ev);
}

int nslab_lab_set_dns(nslab_lab *lab, const char *hostname, const char *target, nslab_error *err)
{
	int r;

	if (!hostname || !spec_host_name_ok(hostname))
		return nslab_err_setx(err, EINVAL,
				      "bad host name '%s': use dot-separated labels of A-Z, a-z, "
				      "0-9 and '-'",
				      hostname ? hostname : "");
	if (lab->built && target) {
		r = check_dns_target(lab, target, err);
		if (r < 0)
			return r;
	}
	r = spec_set_dns(lab->spec, hostname, target, err);
	if (r < 0 || !lab->built)
		return r;
	r = lab_hosts_rewrite(lab, err);
	if (r < 0)
		return r;
	emit_dns(lab, hostname, target);
	return 0;
}

/* "NSLAB_IP_<NODE>[_<IFACE>]=addr": upper case, anything not alphanumeric becomes '_'. */
static char *env_entry(const char *var, const char *node, const char *iface,
		       const struct nslab_prefix *a)
{
	char buf[PREFIX_STRLEN];
	char *s = NULL;

	if (!a || !prefix_is_set(a))
		return NULL;
	if (asprintf(&s, "%s_%s%s%s=%s", var, node, iface ? "_" : "", iface ? iface : "",
		     prefix_format(a, false, buf, sizeof(buf))) < 0)
		return NULL;
	for (char *p = s + strlen(var); *p && *p != '='; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
	return s;
}

struct strv {
	char **v;
	size_t n, cap;
	bool oom;
};

static void strv_push(struct strv *sv, char *s)
{
	if (!s) {
		sv->oom = true;
		return;
	}
	if (sv->n + 2 > sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 64;
		char **nv = realloc(sv->v, ncap * sizeof(*nv));

		if (!nv) {
			free(s);
			sv->oom = true;
			return;
		}
		sv->v = nv;
		sv->cap = ncap;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

static void env_node(struct strv *sv, const struct plan_node *pn)
{
	const struct nslab_prefix *a4 = node_addr(pn, AF_INET), *a6 = node_addr(pn, AF_INET6);

	if (a4)
		strv_push(sv, env_entry("NSLAB_IP", pn->name, NULL, a4));
	if (a6)
		strv_push(sv, env_entry("NSLAB_IP6", pn->name, NULL, a6));
	for (size_t k = 0; k < pn->n_ifaces; k++) {
		if (prefix_is_set(&pn->ifaces[k].a4))
			strv_push(sv, env_entry("NSLAB_IP", pn->name, pn->ifaces[k].name,
						&pn->ifaces[k].a4));
		if (prefix_is_set(&pn->ifaces[k].a6))
			strv_push(sv, env_entry("NSLAB_IP6", pn->name, pn->ifaces[k].name,
						&pn->ifaces[k].a6));
	}
}

void lab_env_free(struct nslab_lab *lab)
{
	for (char **e = lab->env; e && *e; e++)
		free(*e);
	free(lab->env);
	lab->env = NULL;
}

int lab_env_make(struct nslab_lab *lab, nslab_error *err)
{
	struct strv sv = { 0 };

	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "NSLAB_IP", 8) != 0)
			strv_push(&sv, strdup(*e));
	for (size_t i = 1; i < lab->plan->n_nodes; i++)
		env_node(&sv, &lab->plan->nodes[i]);
	if (!sv.v)
		sv.v = calloc(1, sizeof(*sv.v));
	if (sv.oom || !sv.v) {
		for (size_t i = 0; i < sv.n; i++)
			free(sv.v[i]);
		free(sv.v);
		return nslab_err_set(err, ENOMEM, "build the lab environment");
	}
	lab_env_free(lab);
	lab->env = sv.v;
	return 0;
}

void lab_names_follow(struct nslab_lab *lab)
{
	nslab_error err = { 0 };

	if (lab_env_make(lab, &err) < 0)
		log_debugf(&lab->log, "%s, ignoring", err.msg);
	if (lab_hosts_rewrite(lab, &err) < 0)
		log_debugf(&lab->log, "%s, ignoring", err.msg);
}
