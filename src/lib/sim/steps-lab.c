/* SPDX-License-Identifier: MIT */
/*
 * sim/steps-lab: the steps that change the running lab (link, device,
 * router, dns), watch it (capture) or make files for its programs (gen-file,
 * gen-certs), each through the lab's own calls.
 */
#include "sim/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/regions.h"
#include "sim/certs.h"
#include "nslab/link.h"
#include "sim/expr.h"

/* files/NAME in the sim's directory, its content interpolated; ${ID.path} its absolute path. */
int sim_gen_file_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	_cleanup_free_ char *text = NULL;
	char self[64], dir[4096];
	nslab_error e = { 0 };
	ssize_t n;
	int fd, r;

	if (sim_interpolate(st->content, sim_lookup, sim, &text, &e) < 0)
		return sim_step_fail(sim, i, "%s", e.msg);
	if (mkdirat(sim->dir_fd, "files", 0755) < 0 && errno != EEXIST)
		return sim_step_fail(sim, i, "create files/: %s", strerror(errno));
	snprintf(self, sizeof(self), "/proc/self/fd/%d", sim->dir_fd);
	n = readlink(self, dir, sizeof(dir) - 1);
	if (n < 0)
		return sim_step_fail(sim, i, "the sim's directory: %s", strerror(errno));
	dir[n] = '\0';
	if (asprintf(&s->path, "%s/files/%s", dir, st->target) < 0) {
		s->path = NULL;
		return sim_step_fail(sim, i, "out of memory");
	}
	fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	r = fd < 0 ? -errno : 0;
	for (size_t done = 0, len = strlen(text); r >= 0 && done < len; done += (size_t)n) {
		n = write(fd, text + done, len - done);
		r = n < 0 ? -errno : 0;
	}
	if (fd >= 0 && close(fd) < 0 && r >= 0)
		r = -errno;
	return r < 0 ? sim_step_fail(sim, i, "write files/%s: %s", st->target, strerror(-r)) : 0;
}

/* The step's condition words, interpolated (NULL-terminated; free with sim_argv_free()). */
static int step_words(struct nslab_sim *sim, size_t i, char ***ret, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	char **words = calloc(st->n_words + 1, sizeof(*words));
	int r = 0;

	if (!words)
		return nslab_err_set(e, ENOMEM, "condition words");
	for (size_t k = 0; r >= 0 && k < st->n_words; k++)
		r = sim_interpolate(st->words[k], sim_lookup, sim, &words[k], e);
	if (r < 0) {
		sim_argv_free(words);
		return r;
	}
	*ret = words;
	return 0;
}

/* One link's condition set (set: words) or removed (clear: true); neither: nothing. */
static int link_condition(struct nslab_sim *sim, size_t i, const char *iface, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	char **words = NULL;
	int r = 0;

	if (st->n_words) {
		r = step_words(sim, i, &words, e);
		if (r >= 0)
			r = nslab_lab_set_condition_words(sim->lab, st->node, iface,
							  (const char *const *)words, st->n_words,
							  e);
		sim_argv_free(words);
	} else if (st->clear) {
		r = nslab_lab_set_condition(sim->lab, st->node, iface, NSLAB_LINK_BOTH, NULL, e);
	}
	return r;
}

/* One link's condition set, cleared, and/or its carrier changed. */
static int link_apply(struct nslab_sim *sim, size_t i, const char *iface, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	int r = link_condition(sim, i, iface, e);

	if (r >= 0 && st->link_state >= 0)
		r = nslab_lab_set_link_up(sim->lab, st->node, iface, st->link_state == 1, e);
	return r < 0 ? nslab_err_prefix(e, r, "%s:%s", st->node, iface) : 0;
}

int sim_link_step(struct nslab_sim *sim, size_t i)
{
	nslab_error e = { 0 };

	if (link_apply(sim, i, sim->file->steps[i].iface, &e) < 0)
		return sim_step_fail(sim, i, "%s", e.msg);
	return 0;
}

/* A name of the step, interpolated, kept until the step ends (NULL stays NULL). */
static const char *step_name(struct nslab_sim *sim, const char *text, nslab_error *e)
{
	const char *kept;
	char *v = NULL;

	if (!text || sim_interpolate(text, sim_lookup, sim, &v, e) < 0)
		return NULL;
	kept = sim_keep(sim, v);
	if (!kept)
		(void)nslab_err_set(e, ENOMEM, "'%s'", text);
	return kept;
}

/*
 * The device's plugging and default routes: a replug needs its link without
 * a condition (nslab_lab_replug()), so it clears the interface's first, and
 * the caller's set: comes after it.
 */
static int device_plug(struct nslab_sim *sim, size_t i, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	const char *iface, *router, *via;
	int r = 0;

	if (st->replug_iface) {
		iface = step_name(sim, st->replug_iface, e);
		router = iface ? step_name(sim, st->replug_router, e) : NULL;
		if (!router)
			return -EINVAL;
		/* the old link's condition goes with it; set: applies to the new one */
		r = nslab_lab_set_condition(sim->lab, st->node, iface, NSLAB_LINK_BOTH, NULL, e);
		if (r >= 0)
			r = nslab_lab_replug(sim->lab, st->node, iface, router, e);
		if (r < 0)
			return nslab_err_prefix(e, r, "replug %s:%s into %s", st->node, iface,
						router);
	}
	if (st->default_via) {
		via = step_name(sim, st->default_via, e);
		if (!via)
			return -EINVAL;
		r = nslab_lab_set_default_via(sim->lab, st->node, via, e);
		if (r < 0)
			return nslab_err_prefix(e, r, "%s: default-via %s", st->node, via);
	}
	return 0;
}

/* Each of the device's interfaces (or the one named) through fn; 0 or the first failure. */
static int device_ifaces(struct nslab_sim *sim, size_t i, nslab_node *node,
			 int (*fn)(struct nslab_sim *, size_t, const char *, nslab_error *),
			 nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	size_t n = nslab_node_iface_count(node);
	int r = 0;

	if (st->iface)
		return fn(sim, i, st->iface, e);
	for (size_t k = 0; r >= 0 && k < n; k++)
		r = fn(sim, i, nslab_node_iface_name(node, k), e);
	return r;
}

/* The carrier of one interface, when state: asks for a change. */
static int link_carrier(struct nslab_sim *sim, size_t i, const char *iface, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	int r = 0;

	if (st->link_state >= 0)
		r = nslab_lab_set_link_up(sim->lab, st->node, iface, st->link_state == 1, e);
	return r < 0 ? nslab_err_prefix(e, r, "%s:%s", st->node, iface) : 0;
}

/* A clear: alone (before a replug). */
static int link_clear(struct nslab_sim *sim, size_t i, const char *iface, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	int r = st->clear ? nslab_lab_set_condition(sim->lab, st->node, iface, NSLAB_LINK_BOTH,
						    NULL, e)
			  : 0;

	return r < 0 ? nslab_err_prefix(e, r, "%s:%s", st->node, iface) : 0;
}

/* A set: alone (after a replug). */
static int link_set(struct nslab_sim *sim, size_t i, const char *iface, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	int r = st->n_words ? link_condition(sim, i, iface, e) : 0;

	return r < 0 ? nslab_err_prefix(e, r, "%s:%s", st->node, iface) : 0;
}

/*
 * As link, on each of a device's interfaces (or the one named), with its
 * replug and default-via between: clear, replug, default-via, set, state.
 */
int sim_device_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	nslab_node *node = nslab_lab_node(sim->lab, st->node);
	nslab_error e = { 0 };
	int r;

	if (!node || nslab_node_kind(node) != NSLAB_NODE_DEVICE)
		return sim_step_fail(sim, i, "no device '%s' in the lab", st->node);
	r = device_ifaces(sim, i, node, link_clear, &e);
	if (r >= 0)
		r = device_plug(sim, i, &e);
	if (r >= 0)
		r = device_ifaces(sim, i, node, link_set, &e);
	if (r >= 0)
		r = device_ifaces(sim, i, node, link_carrier, &e);
	return r < 0 ? sim_step_fail(sim, i, "%s", e.msg) : 0;
}

/* A router's NAT set to a preset, its mappings forgotten, its firewall set (as `nslab router`). */
int sim_router_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	const char *mode;
	nslab_error e = { 0 };
	int r = 0;

	if (st->nat) {
		mode = step_name(sim, st->nat, &e);
		r = mode ? nslab_lab_set_nat(sim->lab, st->node, mode, &e) : -EINVAL;
	}
	if (r >= 0 && st->flush_nat)
		r = nslab_lab_flush_nat(sim->lab, st->node, &e);
	if (r >= 0 && st->firewall) {
		mode = step_name(sim, st->firewall, &e);
		r = mode ? nslab_lab_set_firewall(sim->lab, st->node, mode, &e) : -EINVAL;
	}
	return r < 0 ? sim_step_fail(sim, i, "%s", e.msg) : 0;
}

/*
 * The link of two regions: its condition set from words (as `nslab region`
 * takes them) or cleared, then broken or restored.
 */
int sim_region_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	const char *a = st->node, *b = st->region_b;
	char **words = NULL;
	nslab_error e = { 0 };
	int r = 0;

	if (st->n_words) {
		r = step_words(sim, i, &words, &e);
		if (r >= 0)
			r = lab_region_set_words(sim->lab, a, b, (const char *const *)words,
						 st->n_words, &e);
		sim_argv_free(words);
	} else if (st->clear) {
		r = nslab_lab_set_region_condition(sim->lab, a, b, NSLAB_LINK_BOTH, NULL, &e);
	}
	if (r >= 0 && st->link_state >= 0)
		r = nslab_lab_region_link_set(sim->lab, a, b, st->link_state == 1, &e);
	return r < 0 ? sim_step_fail(sim, i, "regions %s-%s: %s", a, b, e.msg) : 0;
}

/* The sim's directory as a path (for ${ID.path}): what its fd leads to. */
int sim_dir_path(struct nslab_sim *sim, char *buf, size_t len)
{
	char self[64];
	ssize_t n;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", sim->dir_fd);
	n = readlink(self, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* captures/ID.pcap in the sim's directory, created empty; its path in the step's state. */
static int open_pcap(struct nslab_sim *sim, size_t i, int *ret_fd)
{
	const struct sim_step *st = &sim->file->steps[i];
	char dir[4096], name[96];
	int fd, r;

	if (mkdirat(sim->dir_fd, "captures", 0755) < 0 && errno != EEXIST)
		return sim_step_fail(sim, i, "create captures/: %s", strerror(errno));
	if (sim->state[i].runs > 1)
		snprintf(name, sizeof(name), "captures/%s.%u.pcap", st->id, sim->state[i].runs);
	else
		snprintf(name, sizeof(name), "captures/%s.pcap", st->id);
	fd = openat(sim->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return sim_step_fail(sim, i, "create %s: %s", name, strerror(errno));
	r = sim_dir_path(sim, dir, sizeof(dir));
	if (r < 0 || asprintf(&sim->state[i].path, "%s/%s", dir, name) < 0) {
		sim->state[i].path = NULL;
		(void)close(fd);
		return sim_step_fail(sim, i, "the path of %s", name);
	}
	*ret_fd = fd;
	return 0;
}

int sim_capture_stop(struct nslab_sim *sim, size_t ci, nslab_error *e)
{
	struct sim_state *cs = &sim->state[ci];

	return cs->cap ? pkt_capture_stop(cs->cap, e) : 0;
}

/* Start a capture of a node's interface, or stop one started earlier. */
int sim_capture_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	nslab_node *node;
	nslab_error e = { 0 };
	int fd = -1, r;

	if (st->target) {
		size_t ci = (size_t)(sim_file_step(sim->file, st->target) - sim->file->steps);

		r = sim_capture_stop(sim, ci, &e);
		return r < 0 ? sim_step_fail(sim, i, "'%s': %s", st->target, e.msg) : 0;
	}
	node = nslab_lab_node(sim->lab, st->node);
	if (!node)
		return sim_step_fail(sim, i, "no node '%s' in the lab", st->node);
	r = open_pcap(sim, i, &fd);
	if (r < 0)
		return r;
	r = pkt_capture_start(nslab_node_netns_fd(node), st->iface, st->filter, fd,
			      &sim->state[i].cap, &e);
	return r < 0 ? sim_step_fail(sim, i, "%s:%s: %s", st->node, st->iface, e.msg) : 0;
}

/* "DNS:N,DNS:N.LAB.test,DNS:extra...,IP:v4,IP:v6" for a node. */
static int cert_sans(struct nslab_sim *sim, size_t i, nslab_node *node, char **ret, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	const char *name = nslab_node_name(node);
	char *text = NULL, ip[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r = 0;

	if (!f)
		return nslab_err_set(e, errno, "certificate names");
	fprintf(f, "DNS:%s,DNS:%s.%s.test", name, name, nslab_lab_name(sim->lab));
	for (size_t k = 0; r >= 0 && k < st->n_words; k++) {
		_cleanup_free_ char *extra = NULL;

		r = sim_interpolate(st->words[k], sim_lookup, sim, &extra, e);
		if (r >= 0 && strpbrk(extra, ",:\n"))
			r = nslab_err_setx(e, EINVAL, "name '%s': not a DNS name", extra);
		if (r >= 0)
			fprintf(f, ",DNS:%s", extra);
	}
	if (nslab_node_addr(node, NULL, AF_INET, ip, sizeof(ip), NULL) >= 0)
		fprintf(f, ",IP:%s", ip);
	if (nslab_node_addr(node, NULL, AF_INET6, ip, sizeof(ip), NULL) >= 0)
		fprintf(f, ",IP:%s", ip);
	if (fclose(f) != 0 && r >= 0)
		r = nslab_err_set(e, ENOMEM, "certificate names");
	if (r < 0) {
		free(text);
		return r;
	}
	*ret = text;
	return 0;
}

/* certs/ID.crt and certs/ID.key, their absolute paths in the step's state. */
static int cert_paths(struct nslab_sim *sim, size_t i, char *crt, char *key, size_t len)
{
	struct sim_state *s = &sim->state[i];
	const char *id = sim->file->steps[i].id;
	char dir[4096];

	if (mkdirat(sim->dir_fd, "certs", 0755) < 0 && errno != EEXIST)
		return sim_step_fail(sim, i, "create certs/: %s", strerror(errno));
	if (sim_dir_path(sim, dir, sizeof(dir)) < 0)
		return sim_step_fail(sim, i, "the sim's directory: %s", strerror(errno));
	snprintf(crt, len, "certs/%s.crt", id);
	snprintf(key, len, "certs/%s.key", id);
	free(s->path);
	free(s->key);
	if (asprintf(&s->path, "%s/%s", dir, crt) < 0)
		s->path = NULL;
	if (asprintf(&s->key, "%s/%s", dir, key) < 0)
		s->key = NULL;
	return s->path && s->key ? 0 : sim_step_fail(sim, i, "out of memory");
}

/*
 * A self-signed certificate for a node, made in-process with libcrypto
 * (sim/certs.c): an EC P-256 key, the node's names and addresses as subject
 * alternative names.
 */
int sim_gen_certs_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	nslab_node *node = nslab_lab_node(sim->lab, st->node);
	_cleanup_free_ char *sans = NULL, *cn = NULL;
	char crt[96], key[96];
	nslab_error e = { 0 };
	struct sim_cert_req req;
	int r;

	if (!node)
		return sim_step_fail(sim, i, "no node '%s' in the lab", st->node);
	r = cert_paths(sim, i, crt, key, sizeof(crt));
	if (r < 0)
		return r;
	if (cert_sans(sim, i, node, &sans, &e) < 0)
		return sim_step_fail(sim, i, "%s", e.msg);
	if (asprintf(&cn, "%s.%s.test", st->node, nslab_lab_name(sim->lab)) < 0) {
		cn = NULL;
		return sim_step_fail(sim, i, "out of memory");
	}
	req = (struct sim_cert_req){ .cn = cn,
				     .sans = sans,
				     .days = st->days,
				     .dir_fd = sim->dir_fd,
				     .crt_name = crt,
				     .key_name = key };
	r = sim_cert_make(&req, &e);
	return r < 0 ? sim_step_fail(sim, i, "%s", e.msg) : 0;
}

/* A name of the lab's /etc/hosts set (its target interpolated) or removed. */
int sim_dns_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	_cleanup_free_ char *target = NULL;
	nslab_error e = { 0 };
	int r = 0;

	if (st->dns_target)
		r = sim_interpolate(st->dns_target, sim_lookup, sim, &target, &e);
	if (r >= 0)
		r = nslab_lab_set_dns(sim->lab, st->dns_name, target, &e);
	return r < 0 ? sim_step_fail(sim, i, "%s", e.msg) : 0;
}
