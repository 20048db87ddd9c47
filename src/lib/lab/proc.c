/* SPDX-License-Identifier: MIT */
/*
 * lab/proc: commands spawned in nodes. Each runs in the node's netns and the
 * lab's mount and PID namespaces, so it dies with the lab's pid 1, which dies
 * with the lab's owner (ns/pidns.h); nslab_lab_free() kills and reaps it at
 * the latest.
 */
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns/spawn.h"

/* The command's name as one path component: after the last '/', "cmd" if empty. */
static const char *cmd_stem(const char *cmd)
{
	const char *slash = strrchr(cmd, '/');
	const char *stem = slash ? slash + 1 : cmd;

	return *stem && strcmp(stem, ".") != 0 && strcmp(stem, "..") != 0 ? stem : "cmd";
}

int lab_open_log(const struct nslab_lab *lab, const char *node, const char *prefix, const char *cmd,
		 const char *ext, int *ret_fd, nslab_error *err)
{
	_cleanup_close_ int nodes = -1, dir = -1;
	_cleanup_free_ char *name = NULL;
	int fd, r;

	if (lab->outdir_fd < 0) {
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return nslab_err_set(err, errno, "open /dev/null");
		*ret_fd = fd;
		return 0;
	}
	if (asprintf(&name, "%s-%s.%s", prefix, cmd_stem(cmd), ext) < 0)
		return nslab_err_set(err, ENOMEM, "log path");
	r = outdir_subdir(lab->outdir_fd, "nodes", &nodes, err);
	if (r >= 0)
		r = outdir_subdir(nodes, node, &dir, err);
	if (r >= 0)
		r = outdir_create(dir, name, ret_fd, err);
	return r < 0 ? nslab_err_prefix(err, r, "command log nodes/%s/%s", node, name) : 0;
}

static int open_log(const struct nslab_lab *lab, const struct nslab_proc *p, const char *ext,
		    int *ret_fd, nslab_error *err)
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), "%u", p->seq);
	return lab_open_log(lab, p->node->pn->name, prefix, p->cmd, ext, ret_fd, err);
}

static void emit_spawned(struct nslab_lab *lab, const struct nslab_proc *p)
{
	struct jw *w = evlog_begin(&lab->ev, "cmd_spawned");

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", p->node->pn->name);
	jw_uint(w, "id", p->seq);
	jw_int(w, "pid", p->pid);
	jw_str(w, "cmd", p->cmd);
	evlog_end(&lab->ev);
}

static void emit_exited(struct nslab_lab *lab, const struct nslab_proc *p)
{
	struct jw *w = evlog_begin(&lab->ev, "cmd_exited");

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", p->node->pn->name);
	jw_uint(w, "id", p->seq);
	jw_int(w, "pid", p->pid);
	if (WIFEXITED(p->status))
		jw_int(w, "exit", WEXITSTATUS(p->status));
	else
		jw_int(w, "signal", WTERMSIG(p->status));
	evlog_end(&lab->ev);
}

/* Whether the environment entry e sets one of the keys of add. */
static bool env_overridden(const char *e, const char *const *add)
{
	size_t k = strcspn(e, "=");

	for (; add && *add; add++)
		if (strncmp(*add, e, k) == 0 && (*add)[k] == '=')
			return true;
	return false;
}

/* The lab's environment with add's entries set over it; borrowed strings, free the array. */
static char **env_with(char *const *base, const char *const *add)
{
	size_t n = 0, m = 0, k = 0;
	char **v;

	while (base && base[n])
		n++;
	while (add && add[m])
		m++;
	v = calloc(n + m + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!env_overridden(base[i], add))
			v[k++] = base[i];
	for (size_t i = 0; i < m; i++)
		v[k++] = (char *)add[i];
	return v;
}

void nslab_lab_emit_app(nslab_lab *lab, const char *node, double at, const char *json)
{
	struct jw *w = evlog_begin(&lab->ev, "app");

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", node);
	jw_double(w, "at", at, 6);
	jw_raw(w, "event", json);
	evlog_end(&lab->ev);
}

static int proc_start(struct nslab_proc *p, char *const argv[], const struct nslab_spawn_opts *o,
		      nslab_error *err)
{
	struct nslab_lab *lab = p->lab;
	_cleanup_close_ int out = -1, errfd = -1;
	struct spawn_opts so = { .argv = argv,
				 .envp = lab->env,
				 .userns_fd = -1,
				 .pidns_fd = lab->init.nsfd,
				 .hostname = p->node->pn->name,
				 .mntns_fd = -1,
				 .netns_fd = p->node->ns->fd,
				 .stdin_fd = -1,
				 .stdout_fd = -1,
				 .stderr_fd = -1,
				 .die_with_parent = true };
	char cwd[4096];
	int r;

	if (lab->spec->bare)
		return nslab_err_setx(err, EOPNOTSUPP, "lab '%s' was built without processes",
				      lab->spec->name);
	if (lab->init.nsfd < 0)
		return nslab_err_setx(err, ESRCH, "lab '%s': its PID namespace's init is gone",
				      lab->spec->name);
	so.cwd = o && o->cwd ? o->cwd : getcwd(cwd, sizeof(cwd));
	r = lab_node_mntns(lab, p->node, err);
	if (r < 0)
		return r;
	so.mntns_fd = r;
	if (o && o->stdio_fds) {
		so.stdout_fd = o->stdout_fd;
		so.stderr_fd = o->stderr_fd;
	} else if (!(o && o->inherit_stdio)) {
		r = open_log(lab, p, "stdout", &out, err);
		if (r >= 0)
			r = open_log(lab, p, "stderr", &errfd, err);
		if (r < 0)
			return r;
		so.stdout_fd = out;
		so.stderr_fd = errfd;
	}
	if (o && o->env) {
		_cleanup_free_ char **env = env_with(lab->env, o->env);

		if (!env)
			return nslab_err_set(err, ENOMEM, "spawn: environment");
		so.envp = env;
		return spawn_in_ns(&so, &p->pid, &p->pidfd, err);
	}
	return spawn_in_ns(&so, &p->pid, &p->pidfd, err);
}

int nslab_node_spawn(nslab_node *node, char *const argv[], const struct nslab_spawn_opts *opts,
		     nslab_proc **ret, nslab_error *err)
{
	struct nslab_lab *lab = node->lab;
	struct nslab_proc *p;
	int r;

	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "spawn: the lab is not built");
	if (node->idx == 0)
		return nslab_err_setx(err, EINVAL, "spawn: the lab root ('ix') runs no commands");
	if (!argv || !argv[0])
		return nslab_err_setx(err, EINVAL, "spawn: empty command");
	p = calloc(1, sizeof(*p));
	if (!p || !(p->cmd = strdup(argv[0]))) {
		free(p);
		return nslab_err_set(err, ENOMEM, "spawn");
	}
	p->lab = lab;
	p->node = node;
	p->pidfd = -1;
	p->seq = ++node->spawn_seq;
	r = proc_start(p, argv, opts, err);
	if (r < 0) {
		free(p->cmd);
		free(p);
		return nslab_err_prefix(err, r, "node '%s'", node->pn->name);
	}
	p->next = lab->procs;
	lab->procs = p;
	emit_spawned(lab, p);
	*ret = p;
	return 0;
}

int nslab_proc_wait(nslab_proc *p, int *ret_status, nslab_error *err)
{
	if (!p->reaped) {
		int r = spawn_wait(p->pidfd, &p->status, err);

		if (r < 0)
			return r;
		p->reaped = true;
		if (p->lab)
			emit_exited(p->lab, p);
	}
	*ret_status = p->status;
	return 0;
}

pid_t nslab_proc_pid(const nslab_proc *p)
{
	return p->pid;
}

int nslab_proc_fd(const nslab_proc *p)
{
	return p->reaped ? -1 : p->pidfd;
}

nslab_proc *nslab_proc_free(nslab_proc *p)
{
	int status;

	if (!p)
		return NULL;
	if (!p->reaped) {
		(void)syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
		(void)spawn_wait(p->pidfd, &status, NULL);
	}
	if (p->lab) {
		struct nslab_proc **pp = &p->lab->procs;

		while (*pp && *pp != p)
			pp = &(*pp)->next;
		if (*pp)
			*pp = p->next;
	}
	if (p->pidfd >= 0)
		(void)close(p->pidfd);
	free(p->cmd);
	free(p);
	return NULL;
}
