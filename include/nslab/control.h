/* SPDX-License-Identifier: MIT */
/*
 * nslab/control.h - the supervisor and its clients
 *
 * A built lab can be served: the supervisor listens on an abstract UNIX socket
 * "@nslab/<uid>/<lab>" (abstract, so a SIGKILL leaves no file behind; only the
 * same user is served, checked with SO_PEERCRED). Clients list labs, read their
 * status, ask for a node's namespaces to run a command in, and bring labs down.
 */
#ifndef NSLAB_CONTROL_H
#define NSLAB_CONTROL_H

#include <stddef.h>

#include <nslab/error.h>
#include <nslab/lab.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Claim the lab's control socket (before building: a lab name is taken once per user). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_listen(nslab_lab *lab, nslab_error *err);
/*
 * nslab_lab_serve() - Serve the control socket until `down`, SIGINT, SIGTERM or SIGHUP
 * @ready_fd: if >= 0, "ready\n" is written to it and it is closed once serving
 * Return: 0 after an orderly stop, -errno on failure. The lab is still built; free it.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_serve(nslab_lab *lab, int ready_fd, nslab_error *err);
/* Also name each node's namespace /run/netns/<lab>-<node> (root only); see nslab_cleanup(). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_persist(nslab_lab *lab, nslab_error *err);

/* Labs of the calling user that are up: a NULL-terminated array; free with nslab_strv_free(). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_list(char ***ret_names, nslab_error *err);
NSLAB_EXPORT void nslab_strv_free(char **strv);
/*
 * nslab_ctl_ls() - The calling user's labs that are up, as `nslab ls` shows them
 * A table (NAME, MODE root|rootless, NODES, AGE, PID of the supervisor, OUTDIR),
 * or with NSLAB_LS_JSON an array of objects (name, mode, nodes, built_at, pid,
 * outdir; error for a lab whose supervisor does not answer). Each lab is asked
 * over its control socket: a name another user bound is not listed.
 * Return: 0 and the text (free() it), or -errno.
 */
enum { NSLAB_LS_JSON = 1u << 0 };
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_ls(unsigned flags, char **ret_text, nslab_error *err);
/* The lab's status as JSON (nodes, interfaces, addresses); free() the text. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_status(const char *lab, char **ret_json,
						  nslab_error *err);
/*
 * nslab_ctl_outdir() - A running lab's output directory, as its supervisor
 * resolved it (absolute); free() it. Return: 0, -ENOENT if it has none, or -errno.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_outdir(const char *lab, char **ret_path,
						  nslab_error *err);
/*
 * nslab_ctl_conntrack() - A node's conntrack table now, as JSON; free() it
 * {"node", "entries": [{"family", "proto", "orig": {"src", "dst", "sport", "dport"},
 * "reply": {...}, "state" (TCP), "icmp_id" (echo), "replied", "assured", "nat", "packets", "bytes"
 * (with conntrack accounting)}], "truncated" (more than 5000 entries)}
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_conntrack(const char *lab, const char *node,
						     char **ret_json, nslab_error *err);
/* The lab's nodes, interfaces and addresses as a text table; free() the text. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_table(const char *lab, char **ret_text,
						 nslab_error *err);
/* The same table for a lab built in this process. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_table(const nslab_lab *lab, char **ret_text,
						 nslab_error *err);
/* Ask the supervisor to tear the lab down and wait until it is gone. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_down(const char *lab, nslab_error *err);
/*
 * nslab_ctl_exec() - Run argv inside a node of a running lab
 * The calling process keeps its terminal and stdio; the command runs in a child
 * that entered the node's namespaces, with the lab's NSLAB_IP_* environment.
 * Signals from the terminal reach the command; if the lab goes down, the command is killed,
 * and if the caller dies, so does the command (see nslab_ctl_exec_detached() otherwise).
 * Return: 0 and *ret_status (waitpid()-style), or -errno.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_exec(const char *lab, const char *node,
						char *const argv[], int *ret_status,
						nslab_error *err);
/*
 * nslab_ctl_exec_detached() - Start argv inside a node, to outlive the caller
 * The command runs in a session of its own, its parent the lab's pid 1, until it
 * ends or the lab goes down. Its stdin is /dev/null; its stdout and stderr go to
 * nodes/<node>/exec-<id>-<cmd>.stdout|stderr in the lab's output directory (to
 * /dev/null without one), never to the caller's. The lab's event log has its
 * cmd_spawned with "detached": true.
 * Return: 0 once it was exec'd, with *ret_pid its pid in the lab's PID namespace, or -errno.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_exec_detached(const char *lab, const char *node,
							 char *const argv[], int *ret_pid,
							 nslab_error *err);
/*
 * nslab_ctl_set_nat(), nslab_ctl_flush_nat() - nslab_lab_set_nat() and
 * nslab_lab_flush_nat() (nslab/lab.h) done by a running lab's supervisor, for
 * `nslab router LAB R nat MODE` and `nslab router LAB R flush-nat`. The
 * supervisor's error comes back as it is.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_set_nat(const char *lab, const char *router,
						   const char *mode, nslab_error *err);
/* nslab_lab_set_nat6() done by a running lab's supervisor (`nslab router LAB R nat6 MODE`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_set_nat6(const char *lab, const char *router,
						    const char *mode, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_flush_nat(const char *lab, const char *router,
						     nslab_error *err);
/* nslab_lab_set_default_via() done by a running lab's supervisor (`nslab device LAB D default-via IFACE`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_set_default_via(const char *lab, const char *device,
							   const char *iface, nslab_error *err);
/* nslab_lab_renew_ip() done by a running lab's supervisor (`nslab device LAB D renew-ip IFACE`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_renew_ip(const char *lab, const char *device,
						    const char *iface, nslab_error *err);
/* nslab_lab_add_iface() on a running lab, by its supervisor (`nslab device LAB D add-iface IFACE ROUTER`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_add_iface(const char *lab, const char *device,
						     const char *iface, const char *router,
						     nslab_error *err);
/* nslab_lab_remove_iface() done by a running lab's supervisor (`nslab device LAB D remove-iface IFACE`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_remove_iface(const char *lab, const char *device,
							const char *iface, nslab_error *err);
/*
 * nslab_lab_add_node() done by a running lab's supervisor (`nslab add LAB router|device NAME
 * [KEY VALUE]...`): kv is keys and values, NULL-terminated, none holding a line break.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_add_node(const char *lab, const char *kind,
						    const char *name, const char *const *kv,
						    nslab_error *err);
/* nslab_lab_remove_node() done by a running lab's supervisor (`nslab remove LAB NODE [--force]`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_remove_node(const char *lab, const char *name,
						       unsigned flags, nslab_error *err);
/* nslab_lab_replug() done by a running lab's supervisor (`nslab device LAB D replug IFACE ROUTER`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_replug(const char *lab, const char *device,
						  const char *iface, const char *router,
						  nslab_error *err);
/*
 * nslab_lab_set_dns() done by a running lab's supervisor (`nslab dns LAB set
 * NAME TARGET`, `nslab dns LAB remove NAME`: target NULL): the lab's DNS and
 * /etc/hosts answer the new target at once.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_set_dns(const char *lab, const char *hostname,
						   const char *target, nslab_error *err);
/* nslab_lab_set_firewall() done by a running lab's supervisor (`nslab router LAB R firewall MODE`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_set_firewall(const char *lab, const char *router,
							const char *mode, nslab_error *err);

/*
 * Remove what `--persist` left: /run/netns entries of lab (or of every lab if NULL)
 * that are still the namespaces nslab bound there, for labs that are not up (down
 * removes those). Only labs persisted by the caller (SUDO_UID under sudo), unless
 * flags has NSLAB_CLEANUP_ALL_USERS. nslab_cleanup() is nslab_cleanup_flags(lab, 0).
 */
#define NSLAB_CLEANUP_ALL_USERS (1u << 0)
enum {
	NSLAB_CTL_LINK_JSON = 1u << 0,
	NSLAB_CTL_LINK_CLEAR = 1u << 1,
	NSLAB_CTL_LINK_DOWN = 1u << 2, /* unplug (nslab_lab_set_link_up()) */
	NSLAB_CTL_LINK_UP = 1u << 3,   /* plug back */
};
/**
 * nslab_ctl_link() - Set, clear or show a link's condition in a running lab
 * @argv, @argc:  the condition's words (see nslab_link_condition_parse(); the
 *                lab's own presets too); none: show only
 * @flags:        NSLAB_CTL_LINK_CLEAR to clear, _DOWN / _UP to unplug or plug the link,
 *                NSLAB_CTL_LINK_JSON for a JSON answer
 * @ret_text:     on success, the link's condition and counters after the change; free()
 * Return: 0, or -errno with the lab's message.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_link(const char *lab, const char *node,
						const char *iface, const char *const *argv,
						size_t argc, unsigned flags, char **ret_text,
						nslab_error *err);
/**
 * nslab_ctl_region() - nslab_ctl_link() for the link between regions a and b
 * @argv, @argc:  the condition's words, a -> b as `up`; none: show only
 * @flags:        NSLAB_CTL_LINK_DOWN breaks the link (routes go around it, or
 *                the two sides become unreachable), _UP restores it; _CLEAR, _JSON
 * @ret_text:     on success, the link's state, condition, counters and the paths
 *                between a and b after the change; free()
 * Return: 0, or -errno with the lab's message.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_ctl_region(const char *lab, const char *a, const char *b,
						  const char *const *argv, size_t argc,
						  unsigned flags, char **ret_text,
						  nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_cleanup(const char *lab, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_cleanup_flags(const char *lab, unsigned flags,
						     nslab_error *err);

#ifdef __cplusplus
}
#endif
#endif
